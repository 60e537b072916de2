"""Shared machinery for registry-mirror web pages saved as text.

A saved page is a sequence of lines. Each layout module (``veeva_page``,
``basic_info_page``, ``ignite_page``) declares its section headings *in page
order* as :class:`Heading` specs; :func:`split_sections` finds them.

Why headings are chosen by order and not by first match: free text (a summary, a
detailed description, an arm description) may hold a line that reads like a
heading ("Conditions" alone on a line). A line is only a *candidate* heading if it
equals a known heading (or matches its pattern; a trailing colon aside, and a value
heading may carry its value on the same line, "Enrollment: 8 patients"), sits where the layout puts
headings (column 0, after a blank line when the layout says so) and passes the
heading's own check on the lines that follow it (for example, the boilerplate
sentence a site prints under each heading, or a value of the right shape). Of all
candidates, the longest run whose headings appear in layout order is kept (ties
go to the later line). A heading-like line inside free text is then either out of
order or crowds out real headings, and is left in the text. A heading that a
redesigned page prints out of the layout's order is still taken where it is when it
carries its own evidence (boilerplate, a value of the right shape) and no heading of
its kind is in the run; any other out-of-order heading is noted and left as text.

Also here: value parsers for display forms the mirror sites share (age ranges,
enrollment counts, "Drug: X" treatment lines, addresses, contact lines), the
decoding of page bytes, and the ``parse``/``records`` plumbing.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from kg.enums import AgeUnit, EnrollmentType, InterventionType, Masking, UnknownValue, WhoMasked, coerce
from kg.errors import ParseError
from kg.model import NCT_ID, Age, Trial
from kg.sources._common import FieldReader

# --------------------------------------------------------------------------
# Bytes -> lines


def decode_page(data: bytes) -> str:
    """Page bytes as text: UTF-8 (with or without BOM), else Windows-1252; newlines
    normalised to ``\\n`` and no-break spaces to spaces."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")


def page_lines(data: bytes) -> list[str]:
    """The page's lines, right-stripped. Leading indentation is kept (layouts use it),
    less the indentation every non-blank line shares (a page copied with a margin)."""
    lines = [ln.rstrip() for ln in decode_page(data).split("\n")]
    margin = min((len(ln) - len(ln.lstrip()) for ln in lines if ln), default=0)
    return [ln[margin:] for ln in lines] if margin else lines


def is_text_page(head: bytes) -> bool:
    """True when ``head`` looks like plain text, not JSON, XML/HTML or binary."""
    if b"\x00" in head:
        return False
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return bool(stripped) and stripped[:1] not in (b"{", b"[", b"<")


def head_lines(head: bytes, limit: int = 400) -> list[str]:
    """The first ``limit`` non-blank stripped lines of a file head (for ``sniff``)."""
    out = []
    for ln in decode_page(head).split("\n"):
        s = ln.strip()
        if s:
            out.append(s)
            if len(out) >= limit:
                break
    return out


# --------------------------------------------------------------------------
# Sections


@dataclass(frozen=True)
class Heading:
    """A section heading of a layout.

    ``key`` names the section for the parser; ``names`` are the display spellings
    (compared case-insensitively); ``pattern`` matches headings with variable text
    ("8 participants in 1 patient group"); ``check`` receives the next few non-blank
    stripped lines after the heading and says whether the heading is real there.
    ``boilerplate`` is the start of a sentence the site prints under the heading:
    when set, it must be there (it is the check) and it is dropped from the body.
    """

    key: str
    names: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    check: Callable[[list[str]], bool] | None = None
    boilerplate: str | None = None

    def accepts(self, following: list[str]) -> bool:
        if self.boilerplate is not None and not (
            following and following[0].casefold().startswith(self.boilerplate.casefold())
        ):
            return False
        return self.check is None or self.check(following)


@dataclass
class Line:
    number: int  # 1-based line number in the page
    text: str  # stripped


@dataclass
class Section:
    key: str
    heading: str  # the heading as printed, less a trailing colon
    number: int  # 1-based line number of the heading
    body: list[str] = field(default_factory=list)  # raw lines after the heading
    boilerplate: str | None = None  # the boilerplate sentence, if one was dropped
    inline: str | None = None  # a value on the heading's own line ("Enrollment: 8 patients")

    @property
    def where(self) -> str:
        return f'section "{self.heading}" (line {self.number})'

    def lines(self) -> list[Line]:
        """Non-blank body lines, stripped, with their page line numbers (a value on
        the heading's line comes first, with the heading's number)."""
        out = [Line(self.number + 1 + i, raw.strip()) for i, raw in enumerate(self.body) if raw.strip()]
        if self.inline is not None:
            out.insert(0, Line(self.number, self.inline))
        if self.boilerplate is not None and out and out[0].text == self.boilerplate:
            out = out[1:]
        return out

    def texts(self) -> list[str]:
        return [ln.text for ln in self.lines()]

    def first(self) -> str | None:
        t = self.texts()
        return t[0] if t else None

    def text(self) -> str | None:
        """The body as free text: lines of a paragraph joined by newlines,
        paragraphs by a blank line."""
        return join_lines(self.lines())


def join_lines(lines: Sequence[Line]) -> str | None:
    """Free text from page lines: adjacent lines joined by ``\\n``, lines that had
    blank lines between them by ``\\n\\n``."""
    if not lines:
        return None
    parts = [lines[0].text]
    for prev, ln in itertools.pairwise(lines):
        parts.append("\n" if ln.number == prev.number + 1 else "\n\n")
        parts.append(ln.text)
    return "".join(parts).strip() or None


@dataclass
class Page:
    """A page split into the lines before the first heading and its sections."""

    name: str
    lines: list[str]
    preamble: list[Line]
    sections: list[Section]
    notes: list[str] = field(default_factory=list)  # headings out of the layout's order

    def get(self, key: str) -> Section | None:
        for s in self.sections:
            if s.key == key:
                return s
        return None

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    @property
    def last(self) -> Section | None:
        return self.sections[-1] if self.sections else None


def _following(lines: list[str], i: int, n: int = 6) -> list[str]:
    out = []
    for raw in lines[i + 1 :]:
        s = raw.strip()
        if s:
            out.append(s)
            if len(out) >= n:
                break
    return out


def split_sections(
    name: str,
    lines: list[str],
    headings: Sequence[Heading],
    *,
    column0: bool = True,
    blank_before: bool = False,
) -> Page:
    """Split ``lines`` into sections at the known ``headings`` (given in page order).

    ``column0``: a heading starts at the left margin (indented lines are list items).
    ``blank_before``: a heading follows a blank line (or starts the page).
    """
    # A line matches a heading by one of its names (case-insensitively, a trailing colon
    # aside) or by its pattern. A value heading (one with a check) also matches with its
    # value on the same line, after a colon or a tab.
    by_name: dict[str, list[int]] = {}
    patterned: list[tuple[int, re.Pattern[str]]] = []
    for h_index, h in enumerate(headings):
        for n in h.names:
            by_name.setdefault(n.casefold(), []).append(h_index)
        if h.pattern is not None:
            patterned.append((h_index, h.pattern))
    candidates: list[_Candidate] = []
    for i, raw in enumerate(lines):
        text = raw.strip()
        if not text or (column0 and raw[:1].isspace()):
            continue
        if blank_before and i > 0 and lines[i - 1].strip():
            continue
        label = text[:-1].rstrip() if text.endswith(":") else text
        matched = set(by_name.get(label.casefold(), ()))
        matched.update(h_index for h_index, pattern in patterned if pattern.fullmatch(label))
        if matched:
            following = _following(lines, i)
            candidates.extend(
                _Candidate(i, h_index, label) for h_index in sorted(matched) if headings[h_index].accepts(following)
            )
        elif m := _INLINE.match(text):
            # A value heading with its value on the same line.
            valued = [h_index for h_index in by_name.get(m.group(1).casefold(), ()) if headings[h_index].check]
            if valued:
                following = [m.group(2), *_following(lines, i)]
                candidates.extend(
                    _Candidate(i, h_index, m.group(1), m.group(2))
                    for h_index in valued
                    if headings[h_index].accepts(following)
                )
    chosen, notes = _with_moved_headings(_longest_ordered_run(candidates), candidates, headings)
    preamble_end = chosen[0].line if chosen else len(lines)
    preamble = [Line(i + 1, raw.strip()) for i, raw in enumerate(lines[:preamble_end]) if raw.strip()]
    sections: list[Section] = []
    for k, c in enumerate(chosen):
        end = chosen[k + 1].line if k + 1 < len(chosen) else len(lines)
        h = headings[c.heading]
        body = lines[c.line + 1 : end]
        bp = None
        if h.boilerplate is not None:
            first = next((b.strip() for b in body if b.strip()), None)
            if first is not None and first.casefold().startswith(h.boilerplate.casefold()):
                bp = first
        sections.append(Section(h.key, c.label, c.line + 1, body, bp, c.inline))
    return Page(name, lines, preamble, sections, notes)


def _with_moved_headings(
    run: list[_Candidate], candidates: list[_Candidate], headings: Sequence[Heading]
) -> tuple[list[_Candidate], list[str]]:
    """The run plus the headings a page prints out of the layout's order (a redesign).

    A heading none of whose kind is in the run is taken where it is when it carries its
    own evidence (a boilerplate sentence or a value of the right shape), so its value
    is neither lost nor read into the section above it. A heading without such
    evidence could as well be a word in free text: it is left in the text, and noted."""
    in_run = {headings[c.heading].key for c in run}
    lines_in_run = {c.line for c in run}
    moved: dict[str, _Candidate] = {}
    notes: list[str] = []
    for c in candidates:
        h = headings[c.heading]
        if h.key in in_run or h.key in moved or c.line in lines_in_run:
            continue
        if h.boilerplate is not None or h.check is not None:
            moved[h.key] = c
            lines_in_run.add(c.line)
        else:
            notes.append(f'line {c.line + 1}: "{c.label}" is a heading out of the page\'s usual order; read as text')
    if not moved:
        return run, notes
    for c in moved.values():
        notes.append(f'line {c.line + 1}: heading "{c.label}" is out of the page\'s usual order; read where it is')
    return sorted([*run, *moved.values()], key=lambda c: c.line), notes


#: A heading and its value on one line: "Enrollment: 8 patients", or a table row's
#: label and value cells ("Enrollment<TAB>8 patients", as a saved HTML page renders them).
_INLINE = re.compile(r"^([^:\t]*[^:\t\s])\s*(?::|\t)\s*(\S.*)$")


@dataclass(frozen=True)
class _Candidate:
    line: int  # 0-based line index
    heading: int  # index into the layout's headings
    label: str  # the heading as printed, less a trailing colon
    inline: str | None = None  # a value printed on the heading's line


def _longest_ordered_run(candidates: list[_Candidate]) -> list[_Candidate]:
    """The longest subsequence of candidates (in line order) whose heading indexes
    strictly increase; among equally long runs, later lines win."""
    n = len(candidates)
    if n == 0:
        return []
    length = [1] * n
    prev = [-1] * n
    for k in range(n):
        for m in range(k):
            if candidates[m].heading < candidates[k].heading and length[m] + 1 >= length[k]:
                length[k] = length[m] + 1
                prev[k] = m
    best = max(range(n), key=lambda k: (length[k], k))
    run = []
    while best != -1:
        run.append(candidates[best])
        best = prev[best]
    return run[::-1]


# --------------------------------------------------------------------------
# Value parsers for display forms


_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>^&~|=$%@])")


def unescape_markdown(text: str | None) -> str | None:
    r"""Undo markdown backslash escapes (``\>`` → ``>``, ``\*`` → ``*``, ``\^`` → ``^``)."""
    if text is None:
        return None
    return _MD_ESCAPE.sub(r"\1", text)


_UNIT = r"(years?|months?|weeks?|days?|hours?|minutes?)"
_NUM = r"(\d+(?:\.\d+)?)"
_AGE_RANGE = re.compile(rf"^{_NUM}\s*{_UNIT}?\s*(?:to|-|–|—)\s*{_NUM}\s*{_UNIT}(?:\s+old)?$", re.IGNORECASE)
_AGE_MIN = re.compile(
    rf"^{_NUM}\s*{_UNIT}?\s*\+\s*{_UNIT}?(?:\s+old)?$|^{_NUM}\s*{_UNIT}(?:\s+old)?\s+(?:and|or)\s+(?:older|over|above)$",
    re.IGNORECASE,
)
_AGE_MAX = re.compile(rf"^(?:up\s+to|under|below|younger\s+than)\s+{_NUM}\s*{_UNIT}(?:\s+old)?$", re.IGNORECASE)


def _age(num: str, unit: str) -> Age:
    value = float(num)
    u = coerce(AgeUnit, unit)
    assert u is not None
    return Age(int(value) if value.is_integer() else value, u)


def parse_age_range(text: str) -> tuple[Age | None, Age | None]:
    """Parse an age display into (minimum, maximum).

    "18 to 65 years old" → (18 Years, 65 Years); "6 months to 17 years old" →
    (6 Months, 17 Years); "18+ years old" and "18 years and older" → (18 Years, None);
    "Up to 65 years old" → (None, 65 Years); "18 Years" → (18 Years, None) only where
    the layout labels the value a minimum (callers decide). Raises ``ValueError``.
    """
    s = " ".join(text.split())
    if m := _AGE_RANGE.match(s):
        lo_num, lo_unit, hi_num, hi_unit = m.groups()
        return _age(lo_num, lo_unit or hi_unit), _age(hi_num, hi_unit)
    if m := _AGE_MIN.match(s):
        g = m.groups()
        if g[0] is not None:
            unit = g[1] or g[2]
            if unit is None:
                raise ValueError(f"no age unit in {text!r}")
            return _age(g[0], unit), None
        return _age(g[3], g[4]), None
    if m := _AGE_MAX.match(s):
        return None, _age(m.group(1), m.group(2))
    raise ValueError(f"not an age range: {text!r}")


_ENROLLMENT = re.compile(
    r"^(\d[\d,]*)\s+(?:(estimated|anticipated|expected|actual)\s+)?(?:patients?|participants?|subjects?)"
    r"(?:\s*\((estimated|anticipated|expected|actual)\))?$",
    re.IGNORECASE,
)


def parse_enrollment(text: str, *, default: EnrollmentType | None = None) -> tuple[int, EnrollmentType | None]:
    """Parse "8 patients", "10 estimated patients", "5 participants".

    The type comes from a word on the page ("estimated", "actual"); otherwise it is
    ``default`` (a layout that marks estimates explicitly passes ACTUAL). Raises
    ``ValueError``.
    """
    m = _ENROLLMENT.match(" ".join(text.split()))
    if not m:
        raise ValueError(f"not an enrollment: {text!r}")
    count = int(m.group(1).replace(",", ""))
    word = m.group(2) or m.group(3)
    return count, coerce(EnrollmentType, word) if word else default


def is_enrollment(text: str) -> bool:
    return _ENROLLMENT.match(" ".join(text.split())) is not None


_TYPED = re.compile(r"^([A-Za-z][A-Za-z /-]{1,40}?)\s*:\s+(\S.*)$")


def split_typed_name(line: str) -> tuple[InterventionType | None, str]:
    """Split a treatment line: "Drug: Calcipotriol ointment" → (DRUG, "Calcipotriol ointment"); a line whose
    prefix is not an intervention type ("DMARDs", "Note: x") is a bare name."""
    m = _TYPED.match(line.strip())
    if m:
        try:
            t = coerce(InterventionType, m.group(1))
        except UnknownValue:
            t = None
        if t is not None:
            return t, m.group(2).strip()
    return None, line.strip()


def intervention_ref(itype: InterventionType | None, name: str) -> str:
    """An arm's reference to an intervention as the registry writes it ("Drug: X")."""
    if itype is None:
        return name
    return f"{itype.value.replace('_', ' ').title()}: {name}"


_MASKING = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")


def parse_masking(r: FieldReader, text: str | None, where: str) -> tuple[Masking | None, list[WhoMasked]]:
    """Masking display: "None (Open label)" → NONE; "Double Blind" → DOUBLE; "Double (Participant,
    Investigator)" → DOUBLE with who is masked."""
    if text is None:
        return None, []
    try:
        return coerce(Masking, text), []
    except UnknownValue:
        pass
    m = _MASKING.match(text)
    if m:
        masking = r.enum(Masking, m.group(1), where)
        who = r.enums(WhoMasked, [w.strip() for w in re.split(r",|\band\b", m.group(2)) if w.strip()], where)
        return masking, who
    return r.enum(Masking, text, where), []


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[+(]?[\d][\d\s().+/-]{4,}(?:\s*(?:ext\.?|x|extension)\s*\d+)?$", re.IGNORECASE)


def is_email(text: str) -> bool:
    return _EMAIL.match(text.strip()) is not None


def is_phone(text: str) -> bool:
    s = text.strip()
    return _PHONE.match(s) is not None and sum(c.isdigit() for c in s) >= 5


def parse_address(text: str) -> tuple[str | None, str | None, str | None, str | None]:
    """Address line: "City, State, Country" → (city, state, zip, country). Two parts are city and
    country; a part with digits between city and country is a postal code."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        return None, None, None, None
    if len(parts) == 1:
        return None, None, None, parts[0]
    city, country = parts[0], parts[-1]
    middle = parts[1:-1]
    zip_code = next((p for p in middle if any(c.isdigit() for c in p)), None)
    state_parts = [p for p in middle if p != zip_code]
    state = ", ".join(state_parts) if state_parts else None
    return city, state, zip_code, country


_NCT_ANY = re.compile(r"\bNCT\d{8}\b")


def find_nct(text: str) -> str | None:
    m = _NCT_ANY.search(text)
    return m.group(0) if m else None


def valid_nct(text: str | None) -> str | None:
    if text is None:
        return None
    s = text.strip()
    return s if NCT_ID.match(s) else None


# --------------------------------------------------------------------------
# parse / records plumbing


def one_record(
    data: bytes, name: str, build: Callable[[bytes, str, bool], Trial], *, strict: bool
) -> Iterator[Trial | ParseError]:
    """A saved page holds one trial: yield it, or the ParseError that stopped it."""
    try:
        yield build(data, name, strict)
    except ParseError as exc:
        yield exc
