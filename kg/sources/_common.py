"""Value parsing shared by every source module: dates, ages, criteria, MeSH IDs."""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from kg.enums import AgeUnit, DateType, UnknownValue, coerce
from kg.errors import ParseError
from kg.model import Age, Trial, TrialDate

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9

_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]+)\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})$")
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})$")


def parse_date(text: str | None, date_type: DateType | None = None) -> TrialDate | None:
    """Parse a registry date keeping its precision.

    Accepts ISO ("2019-05", "2019-05-14"), the classic display form ("May 2019",
    "May 14, 2019") and "14 May 2019". Returns ``None`` for empty input and raises
    ``ValueError`` for anything else.
    """
    if text is None:
        return None
    s = text.strip()
    if not s:
        return None
    year: int
    month: int | None = None
    day: int | None = None
    if m := _ISO.match(s):
        year = int(m.group(1))
        month = int(m.group(2)) if m.group(2) else None
        day = int(m.group(3)) if m.group(3) else None
    elif m := _MONTH_YEAR.match(s):
        mon = _MONTHS.get(m.group(1).lower())
        if mon is None:
            raise ValueError(f"unknown month in date {text!r}")
        year, month = int(m.group(3)), mon
        day = int(m.group(2)) if m.group(2) else None
    elif m := _DAY_MONTH_YEAR.match(s):
        mon = _MONTHS.get(m.group(2).lower())
        if mon is None:
            raise ValueError(f"unknown month in date {text!r}")
        year, month, day = int(m.group(3)), mon, int(m.group(1))
    else:
        raise ValueError(f"not a date: {text!r}")
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"month out of range in date {text!r}")
    if day is not None:
        try:
            datetime.date(year, month or 1, day)
        except ValueError as exc:
            raise ValueError(f"not a calendar date: {text!r}") from exc
    iso = f"{year:04d}"
    if month is not None:
        iso += f"-{month:02d}"
        if day is not None:
            iso += f"-{day:02d}"
    return TrialDate(iso, date_type)


_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*(years?|months?|weeks?|days?|hours?|minutes?)(?:\s+old)?$", re.IGNORECASE)
_NO_AGE = {"n/a", "na", "none", "no limit", "not applicable", ""}


def parse_age(text: str | None) -> Age | None:
    """Parse "18 Years", "6 months", "18 years old"; ``None`` for N/A / no limit."""
    if text is None:
        return None
    s = text.strip()
    if s.lower() in _NO_AGE:
        return None
    m = _AGE.match(s)
    if not m:
        raise ValueError(f"not an age: {text!r}")
    num = float(m.group(1))
    unit = coerce(AgeUnit, m.group(2))
    assert unit is not None
    return Age(int(num) if num.is_integer() else num, unit)


_TRUE = {"yes", "true", "y", "1", "accepts healthy volunteers"}
_FALSE = {"no", "false", "n", "0", "no healthy volunteers"}


def parse_bool(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    if not s or s in {"none", "n/a", "na"}:
        return None
    raise ValueError(f"not a yes/no value: {value!r}")


_MESH_ID = re.compile(r"^([DC])0*(\d+)$")
# NLM widened MeSH UIs in 2014 without renumbering: UIs made before keep 6 digits
# (D066331, C588418), later ones have 9 (D000066388, C000588423); NLM Tech Bull
# 2013 Mar-Apr (391):e1. These are the last 6-digit UIs in MeSH 2024.
_LAST_SHORT_UI = {"D": 66331, "C": 588418}


def normalise_mesh_id(mesh_id: str) -> str:
    """MeSH UIs as NLM writes them: D/C + 6 digits for UIs made before 2014,
    D/C + 9 digits after.

    Some downloads pad every UI to 9 digits (D000011565 == D011565), so the width
    follows the number, not the input: D000068180 stays D000068180.
    """
    s = mesh_id.strip().upper()
    m = _MESH_ID.match(s)
    if not m:
        raise ValueError(f"not a MeSH ID: {mesh_id!r}")
    letter, digits = m.groups()
    number = int(digits)
    if len(digits) > 9:
        raise ValueError(f"not a MeSH ID: {mesh_id!r}")
    width = 6 if number <= _LAST_SHORT_UI[letter] else 9
    return f"{letter}{number:0{width}d}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# Eligibility criteria

# Headings, also bracketed or bold: "Inclusion Criteria:", "[Inclusion Criteria]", "**Exclusion criteria:**"
_INCL_HEAD = re.compile(
    r"^\s*(?:[-*#\[(]+\s*)?(?:key\s+|main\s+|general\s+)?inclusion(?:\s+criteria)?\s*[\])*]*\s*[:：]?[\])*]*\s*$",
    re.IGNORECASE,
)
_EXCL_HEAD = re.compile(
    r"^\s*(?:[-*#\[(]+\s*)?(?:key\s+|main\s+|general\s+)?exclusion(?:\s+criteria)?\s*[\])*]*\s*[:：]?[\])*]*\s*$",
    re.IGNORECASE,
)
_INCL_INLINE = re.compile(r"^\s*inclusion\s+criteria\s*[:：]\s*(.+)$", re.IGNORECASE)
_EXCL_INLINE = re.compile(r"^\s*exclusion\s+criteria\s*[:：]\s*(.+)$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•·–]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)](?=\s))\s*")
_NUMBERED_RUN = re.compile(r"(?:(?<=\s)|^)(\d{1,3})\.(?=\S)")


def _items(lines: list[str]) -> list[str]:
    """Turn the lines under one heading into criteria items.

    Bulleted or numbered lines start a new item; an unbulleted line continues the
    item before it when items are bulleted, and is an item of its own otherwise.
    """
    items: list[str] = []
    bulleted = any(_BULLET.match(ln) for ln in lines if ln.strip())
    for raw in lines:
        if not raw.strip():
            continue
        run = _split_run_together(raw.strip())
        if len(run) > 1:
            items.extend(run)
            continue
        if _BULLET.match(raw):
            items.append(_BULLET.sub("", raw, count=1).strip())
        elif bulleted and items and raw.startswith((" ", "\t")):
            items[-1] = f"{items[-1]} {raw.strip()}"
        else:
            items.append(raw.strip())
    return [i for i in items if i]


def _split_run_together(item: str) -> list[str]:
    """Split "1.foo 2.bar 3.baz" (items numbered in sequence on one line)."""
    marks = list(_NUMBERED_RUN.finditer(item))
    if len(marks) < 2 or marks[0].start() != 0:
        return [item]
    numbers = [int(m.group(1)) for m in marks]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return [item]
    pieces = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(item)
        pieces.append(item[m.end() : end].strip())
    return pieces


def split_criteria(text: str | None) -> tuple[list[str], list[str]]:
    """Split an eligibility criteria block into inclusion and exclusion items.

    Text before any heading counts as inclusion only when no heading is found at all.
    """
    if not text:
        return [], []
    incl: list[str] = []
    excl: list[str] = []
    current: list[str] | None = None
    preamble: list[str] = []
    seen_heading = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if _INCL_HEAD.match(line):
            current, seen_heading = incl, True
            continue
        if _EXCL_HEAD.match(line):
            current, seen_heading = excl, True
            continue
        if m := _INCL_INLINE.match(line):
            current, seen_heading = incl, True
            incl.append(m.group(1))
            continue
        if m := _EXCL_INLINE.match(line):
            current, seen_heading = excl, True
            excl.append(m.group(1))
            continue
        (current if current is not None else preamble).append(line)
    if not seen_heading:
        return _items(preamble), []
    return _items(incl), _items(excl)


# --------------------------------------------------------------------------
# Field conversion with context


class FieldReader:
    """Converts field values, turning conversion failures into :class:`ParseError`
    that name the file, the place and the trial; or, when lenient, into notes."""

    def __init__(self, file: str, nct_id: str | None = None, *, strict: bool = False) -> None:
        self.file = file
        self.nct_id = nct_id
        self.strict = strict
        self.notes: list[str] = []

    def problem(self, where: str, reason: str) -> None:
        if self.strict:
            raise ParseError(self.file, reason, where=where, nct_id=self.nct_id)
        self.notes.append(f"{where}: {reason}")

    def enum(self, enum: type[E], value: object, where: str) -> E | None:
        if value is None:
            return None
        try:
            return coerce(enum, str(value))
        except UnknownValue as exc:
            self.problem(where, str(exc))
            return None

    def enums(self, enum: type[E], values: object, where: str) -> list[E]:
        out: list[E] = []
        for v in values or []:  # type: ignore[attr-defined]
            e = self.enum(enum, v, where)
            if e is not None and e not in out:
                out.append(e)
        return out

    def date(self, value: object, where: str, date_type: tuple[object, str] | None = None) -> TrialDate | None:
        """A date at ``where``; ``date_type`` is the ACTUAL/ESTIMATED value with its own place."""
        if value is None:
            return None
        dtype = self.enum(DateType, date_type[0], date_type[1]) if date_type and date_type[0] else None
        try:
            return parse_date(str(value), dtype)
        except ValueError as exc:
            self.problem(where, str(exc))
            return None

    def age(self, value: object, where: str) -> Age | None:
        if value is None:
            return None
        try:
            return parse_age(str(value))
        except ValueError as exc:
            self.problem(where, str(exc))
            return None

    def boolean(self, value: object, where: str) -> bool | None:
        try:
            return parse_bool(value)
        except ValueError as exc:
            self.problem(where, str(exc))
            return None

    def integer(self, value: object, where: str) -> int | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            if isinstance(value, bool):
                raise ValueError(value)
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(str(value).strip().replace(",", "")) if not isinstance(value, int | float) else int(value)
        except ValueError:
            self.problem(where, f"not a whole number: {value!r}")
            return None

    def mesh_id(self, value: object, where: str) -> str | None:
        if value is None:
            return None
        try:
            return normalise_mesh_id(str(value))
        except ValueError as exc:
            self.problem(where, str(exc))
            return None


def text(value: object) -> str | None:
    """A stripped string, or None for missing/blank values."""
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def dedupe(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for v in values:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def internal_error(file: str, exc: Exception, *, where: str | None = None, nct_id: str | None = None) -> ParseError:
    """A record that failed for a reason no check foresaw: reported as trialkg's bug, for
    that record alone, so the rest of the file and of the batch goes on."""
    reason = f"internal error ({type(exc).__name__}: {exc}); this is a bug in trialkg, please report it"
    return ParseError(file, reason, where=where, nct_id=nct_id)


def parse_file(path: str | Path, records: Callable[..., Iterator[Trial | ParseError]]) -> Iterator[Trial]:
    """A source module's ``parse(path)``: its ``records`` on the file's content as ingest
    reads it (gzip unpacked, UTF-8, HTML as text: :func:`kg.reader.source_file`),
    raising the first error."""
    from kg.reader import source_file  # noqa: PLC0415 - kg.reader imports the source modules

    p = Path(path)
    sf = source_file(p.name, p.read_bytes())
    if isinstance(sf, ParseError):
        raise sf
    for item in records(sf.data, sf.name, strict=True):
        if isinstance(item, ParseError):
            raise item
        yield item


# --------------------------------------------------------------------------
# Typed access to parsed JSON


def json_kind(v: object) -> str:
    """How a JSON value is named in an error message ("an object", "a string", ...)."""
    kinds = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return "null" if v is None else kinds.get(type(v), type(v).__name__)


def dig(node: object, *keys: str) -> object:
    """``node[k1][k2]...``, or None where a level is missing or not an object."""
    for k in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(k)
    return node


class JsonFields:
    """Typed access to a JSON record's objects, with the JSON path of every value.

    A value of the wrong JSON type is a problem for the :class:`FieldReader` (a note
    when lenient, a ParseError when strict) and reads as missing: a record from an
    unknown producer never crashes the parser and never yields a value made up from
    the wrong kind of data (an object's ``repr`` as a condition name, say).
    """

    __slots__ = ("r",)

    def __init__(self, r: FieldReader) -> None:
        self.r = r

    def obj(self, parent: dict, key: str, where: str) -> dict:
        v = parent.get(key)
        if v is None:
            return {}
        if isinstance(v, dict):
            return v
        self.r.problem(f"{where}.{key}", f"expected an object, found {json_kind(v)}")
        return {}

    def s(self, parent: dict, key: str, where: str) -> str | None:
        """A stripped string; a number reads as its text (an ID written as ``12345``)."""
        v = parent.get(key)
        if v is None:
            return None
        if isinstance(v, str):
            return v.strip() or None
        if isinstance(v, int | float) and not isinstance(v, bool):
            return str(v)
        self.r.problem(f"{where}.{key}", f"expected a string, found {json_kind(v)}")
        return None

    def arr(self, parent: dict, key: str, where: str) -> list[tuple[str, object]]:
        """The items of the array ``parent[key]``, each with its path."""
        v = parent.get(key)
        w = f"{where}.{key}"
        if v is None:
            return []
        if not isinstance(v, list):
            self.r.problem(w, f"expected an array, found {json_kind(v)}")
            return []
        return [(f"{w}[{i}]", x) for i, x in enumerate(v)]

    def items(self, parent: dict, list_key: str, item_key: str, where: str) -> list[tuple[str, object]]:
        """The items of a wrapped list ``parent[list_key][item_key]`` (the classic API's
        ``ConditionList.Condition[]``), each with its path. A lone item not wrapped in
        an array is read as a list of one."""
        holder = self.obj(parent, list_key, where)
        v = holder.get(item_key)
        w = f"{where}.{list_key}.{item_key}"
        if v is None:
            return []
        if not isinstance(v, list):
            return [(w, v)]
        return [(f"{w}[{i}]", x) for i, x in enumerate(v)]

    def objs_of(self, items: list[tuple[str, object]]) -> list[tuple[str, dict]]:
        """The objects among ``items``; any other value is a problem."""
        out = []
        for w, x in items:
            if isinstance(x, dict):
                out.append((w, x))
            else:
                self.r.problem(w, f"expected an object, found {json_kind(x)}")
        return out

    def strs_of(self, items: list[tuple[str, object]]) -> list[str]:
        """The non-blank strings among ``items``, stripped and without repeats; any other
        value (a number excepted, read as its text) is a problem."""
        out = []
        for w, x in items:
            if isinstance(x, str):
                if x.strip():
                    out.append(x.strip())
            elif isinstance(x, int | float) and not isinstance(x, bool):
                out.append(str(x))
            else:
                self.r.problem(w, f"expected a string, found {json_kind(x)}")
        return dedupe(out)

    def objs(self, parent: dict, list_key: str, item_key: str, where: str) -> list[tuple[str, dict]]:
        return self.objs_of(self.items(parent, list_key, item_key, where))

    def strs(self, parent: dict, list_key: str, item_key: str, where: str) -> list[str]:
        return self.strs_of(self.items(parent, list_key, item_key, where))
