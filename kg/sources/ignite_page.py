"""Ignite study pages ("Viewing Study NCT…") saved as text.

Layout: "Key: Value" lines, grouped under short headings ("Study Overview",
"Study Oversight", …). Keys are the ClinicalTrials.gov API v2 field names written as
words ("Brief Summary", "Status Verified Date", "Has Oversight DMC", "Minimum Age")
and values are v2 codes (``UNKNOWN``, ``ALL``) or ``True``/``False``; "None" and
"N/A" stand for no value. The lines before the first heading repeat the headline
facts ("Study NCT ID", "Status", "Last Update Posted", "Brief Title", "Sponsor").

Reading rules:

* a value runs on over the following lines (paragraphs of a description) until the
  next field or heading. Inside such free text, a "Word: …" line only starts a new
  field when its key belongs to a repeated group (below) or is a known Ignite key not
  yet seen in the current section, so "Background: …" in a description stays in the
  description; a list field ("Conditions", "Keywords", also "Phases") repeats its key
  per item;
* a heading is a short line without a colon, after a blank line, whose next
  non-blank line is a field line with a known key;
* repeated groups (arms: "Arm Group Label", "Arm Group Type", "Arm Group
  Description", "Arm Group Intervention Names"; interventions: "Intervention Type",
  "Intervention Name", "Intervention Description", "Intervention Other Names") start
  a new item when a key of the group repeats;
* "Eligibility Criteria" is often shown flattened onto one line ("Inclusion
  Criteria: 1. … 2. … Exclusion Criteria: 1. …"); it is unflattened (headings and
  items numbered in sequence) before being split into items;
* fields about the Ignite site itself or not in the model (creation dates, "Is NOT
  Gene Therapy", "Has Adverse Events", expanded-access and FDA export flags) are
  known and skipped (:data:`SKIPPED`); any other unknown key is reported in the notes.

Truncation rule: ClinicalTrials.gov requires every study to state its conditions,
study type and eligible sex, and the export prints them after the Study Overview and
Study Oversight blocks. A page that lacks any of "Conditions", "Study Type" or "Sex",
or whose last line is a field with no value and no line break after it (cut
mid-line), is ``Source.partial``; the trial holds only the fields that are there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kg.enums import (
    Allocation,
    ArmType,
    EnrollmentType,
    InterventionModel,
    InterventionType,
    ObservationalModel,
    Phase,
    PrimaryPurpose,
    Sex,
    SourceFormat,
    Status,
    StudyType,
    TimePerspective,
    UnknownValue,
    WhoMasked,
    parse_phases,
    sort_phases,
)
from kg.errors import ParseError
from kg.model import Arm, Condition, Eligibility, Intervention, Organization, Source, Trial
from kg.sources._common import FieldReader, dedupe, parse_file, sha256, split_criteria
from kg.sources._pages import (
    head_lines,
    intervention_ref,
    is_text_page,
    one_record,
    page_lines,
    parse_masking,
    split_typed_name,
    unescape_markdown,
    valid_nct,
)

FORMAT = SourceFormat.IGNITE_PAGE
DESCRIPTION = "Ignite study page (Key: Value export) saved as text"

#: key (case-folded) -> field name used by the builder
FIELDS: dict[str, str] = {
    "study nct id": "nct",
    "nct id": "nct",
    "status": "overall_status",
    "overall status": "overall_status",
    "last update posted": "last_update_posted",
    "last update post date": "last_update_posted",
    "study first post date": "first_posted",
    "brief title": "brief_title",
    "official title": "official_title",
    "acronym": "acronym",
    "sponsor": "sponsor",
    "lead sponsor": "sponsor",
    "org study id": "org_study_id",
    "status verified date": "status_verified",
    "last known status": "last_known_status",
    "if stopped, why?": "why_stopped",
    "why stopped": "why_stopped",
    "start date": "start_date",
    "primary completion date": "primary_completion_date",
    "completion date": "completion_date",
    "brief summary": "brief_summary",
    "detailed description": "detailed_description",
    "has oversight dmc": "has_dmc",
    "is a fda regulated drug?": "fda_regulated_drug",
    "is a fda regulated device?": "fda_regulated_device",
    "conditions": "conditions",
    "keywords": "keywords",
    "study type": "study_type",
    "phases": "phases",
    "phase": "phases",
    "allocation": "allocation",
    "intervention model": "intervention_model",
    "primary purpose": "primary_purpose",
    "masking": "masking",
    "who masked": "who_masked",
    "observational model": "observational_model",
    "time perspective": "time_perspective",
    "enrollment count": "enrollment_count",
    "enrollment": "enrollment_count",
    "enrollment type": "enrollment_type",
    "eligibility criteria": "criteria",
    "healthy volunteers": "healthy_volunteers",
    "sex": "sex",
    "minimum age": "min_age",
    "maximum age": "max_age",
    "arm group label": "arm.label",
    "arm group type": "arm.type",
    "arm group description": "arm.description",
    "arm group intervention names": "arm.interventions",
    "intervention type": "iv.type",
    "intervention name": "iv.name",
    "intervention description": "iv.description",
    "intervention other names": "iv.other_names",
}

#: Keys the export shows that are about the site or outside the model: skipped on purpose.
SKIPPED = frozenset(
    {
        "ignite creation date",
        "ignite modification date",
        "first post",  # the first *submission* date (the registry's StudyFirstSubmitDate); not modelled
        "is not gene therapy",
        "has adverse events",
        "organization",
        "delayed posting",
        "has expanded access",
        "if expanded access, nct#",
        "has expanded access, nct# status",
        "is an unapproved device?",
        "is a ppsd?",
        "is a us export?",
        "is an fda aa801 violation?",
        "gender based",
        "std ages",
    }
)

_FREE_TEXT = {"brief_summary", "detailed_description", "criteria", "why_stopped", "arm.description", "iv.description"}
_LISTS = {"conditions", "keywords", "arm.interventions", "iv.other_names"}
#: Fields whose key may repeat, one item per line (phases as the registry lists them).
_REPEATED = _LISTS | {"phases"}
_REQUIRED = ("conditions", "study_type", "sex")
#: Placeholders for "no value" (case-sensitive: ``NONE`` and ``NA`` are codes for masking and phase).
_NULLS = {"", "None", "N/A", "null", "Not Stopped"}

_KEY_LINE = re.compile(r"^([A-Za-z][^:]{0,79}?):(\s*)(.*)$")
_VIEWING = re.compile(r"^Viewing Study\s+(NCT\d{8})\s*$")


@dataclass
class _Field:
    key: str  # as printed
    name: str  # target field
    line: int
    lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, text) incl. first value

    @property
    def where(self) -> str:
        return f'line {self.line} ("{self.key}")'

    def value(self) -> str | None:
        """Value lines joined: adjacent lines by newline, paragraphs by a blank line."""
        parts: list[str] = []
        prev = None
        for number, text in self.lines:
            if parts:
                parts.append("\n" if prev is not None and number == prev + 1 else "\n\n")
            parts.append(text)
            prev = number
        s = "".join(parts).strip()
        return None if s in _NULLS else s

    def items(self) -> list[str]:
        return [t.strip() for _, t in self.lines if t.strip() not in _NULLS]


def sniff(head: bytes) -> bool:
    if not is_text_page(head):
        return False
    for ln in head_lines(head, 60):
        if ln.startswith(("Ignite Creation Date:", "Ignite Modification Date:")) or _VIEWING.match(ln):
            return True
    return False


def parse(path: str | Path) -> Iterator[Trial]:
    """Parse a saved page, raising the first error."""
    return parse_file(path, records)


def records(data: bytes, name: str, *, strict: bool = False) -> Iterator[Trial | ParseError]:
    """Yield the page's Trial, or a ParseError naming the file (and line)."""
    return one_record(data, name, _build, strict=strict)


def _key_of(text: str) -> tuple[str, str] | None:
    """A field line's key and value. The export writes "Key: Value"; a known key is
    also taken in lower case or with no space after its colon ("Enrollment Count:600"),
    other words only as printed (a capital, then a space), so "http://…" or "ratio 1:10"
    in free text is not a field."""
    m = _KEY_LINE.match(text)
    if not m:
        return None
    key, space, value = m.group(1).strip(), m.group(2), m.group(3).strip()
    if (not key[0].isupper() or (value and not space)) and not _known(key):
        return None
    return key, value


def _known(key: str) -> bool:
    k = key.casefold()
    return k in FIELDS or k in SKIPPED


def _is_heading(lines: list[str], i: int) -> bool:
    text = lines[i].strip()
    if not text or ":" in text or len(text) > 60 or len(text.split()) > 6 or text[-1] in ".,;!?":
        return False
    if i > 0 and lines[i - 1].strip():
        return False
    nxt = next((ln.strip() for ln in lines[i + 1 :] if ln.strip()), None)
    if nxt is None:
        return False
    kv = _key_of(nxt)
    return kv is not None and _known(kv[0])


def _scan(lines: list[str], notes: list[str]) -> tuple[list[_Field], list[str], str | None]:
    """Fields in page order, the headings seen, and the NCT ID of a "Viewing Study" line."""
    fields: list[_Field] = []
    headings: list[str] = []
    viewing = None
    current: _Field | None = None
    seen_in_section: set[str] = set()
    for i, raw in enumerate(lines):
        text = raw.strip()
        number = i + 1
        if not text:
            continue
        if current is None and (m := _VIEWING.match(text)):
            viewing = m.group(1)
            continue
        if _is_heading(lines, i):
            headings.append(text)
            seen_in_section = set()
            current = None
            continue
        kv = _key_of(text)
        in_free_text = current is not None and current.name in _FREE_TEXT
        starts_field = kv is not None and (
            not in_free_text
            or FIELDS.get(kv[0].casefold(), "").startswith(("arm.", "iv."))
            or (_known(kv[0]) and kv[0].casefold() not in seen_in_section)
        )
        if kv is not None and starts_field:
            key, value = kv
            k = key.casefold()
            seen_in_section.add(k)
            if k in SKIPPED:
                current = _Field(key, "skip", number)
            elif k in FIELDS:
                current = _Field(key, FIELDS[k], number)
                fields.append(current)
            else:
                notes.append(f'line {number}: unknown field "{key}" not read')
                current = _Field(key, "skip", number)
            if value:
                current.lines.append((number, value))
            continue
        if current is None:
            notes.append(f"line {number}: text outside any field not read: {text[:60]!r}")
        elif current.name == "skip":
            continue
        elif current.name in _FREE_TEXT or current.name in _LISTS or not current.lines:
            current.lines.append((number, text))
        else:
            notes.append(f"{current.where}: extra line {number} not read: {text[:60]!r}")
    return fields, headings, viewing


def _build(data: bytes, name: str, strict: bool) -> Trial:
    if not sniff(data[:65536]):
        raise ParseError(name, "not an Ignite study page (no Ignite header lines)")
    lines = page_lines(data)
    notes: list[str] = []
    fields, _headings, viewing = _scan(lines, notes)
    by_name: dict[str, _Field] = {}
    for f in fields:
        if f.name.startswith(("arm.", "iv.")):
            continue
        if f.name in _REPEATED and f.name in by_name:
            by_name[f.name].lines.extend(f.lines)  # a list field repeats its key per item
        else:
            by_name.setdefault(f.name, f)
    nct_field = by_name.get("nct")
    nct = valid_nct(nct_field.value() if nct_field else None) or valid_nct(viewing)
    if nct is None:
        raise ParseError(name, "no NCT ID (no Study NCT ID field or Viewing Study line)", where="page header")
    if nct_field and viewing and valid_nct(nct_field.value()) and viewing != nct:
        notes.append(f"page header: Viewing Study {viewing} but Study NCT ID {nct}")
    r = FieldReader(name, nct, strict=strict)

    last_text = next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
    last_kv = _key_of(last_text)
    cut_line = last_kv is not None and not last_kv[1] and not data.rstrip(b" \t").endswith(b"\n")
    missing = [k for k in _REQUIRED if k not in by_name]
    partial = cut_line or bool(missing)
    if partial:
        why = []
        if missing:
            why.append("no " + ", ".join(missing))
        if cut_line:
            why.append(f"last line cut: {last_text!r}")
        notes.append("page is truncated (" + "; ".join(why) + "); the last value may be cut")

    def val(key: str) -> str | None:
        f = by_name.get(key)
        return f.value() if f else None

    def where(key: str) -> str:
        f = by_name.get(key)
        return f.where if f else key

    def enum(enum_type: type, key: str):  # type: ignore[no-untyped-def]
        return r.enum(enum_type, val(key), where(key))

    def date(key: str):  # type: ignore[no-untyped-def]
        return r.date(val(key), where(key))

    def boolean(key: str) -> bool | None:
        return r.boolean(val(key), where(key))

    phases: list[Phase] = []
    if val("phases"):
        try:
            phases = sort_phases(
                [p for item in by_name["phases"].items() for p in parse_phases(item.replace(", ", "/"))]
            )
        except UnknownValue as exc:
            r.problem(where("phases"), str(exc))

    masking, who = parse_masking(r, val("masking"), where("masking"))
    if "who_masked" in by_name:
        who = r.enums(WhoMasked, re.split(r",\s*", val("who_masked") or ""), where("who_masked"))

    arms, interventions = _groups(r, fields)
    criteria = _unflatten_criteria(unescape_markdown(val("criteria")))
    inclusion, exclusion = split_criteria(criteria)
    elig_keys = ("criteria", "sex", "min_age", "max_age", "healthy_volunteers")
    last_update = date("last_update_posted")
    sponsor_name = val("sponsor")

    trial = Trial(
        nct_id=nct,
        source=Source(format=FORMAT, file=name, checksum=sha256(data), last_update=last_update, partial=partial),
        org_study_id=val("org_study_id"),
        acronym=val("acronym"),
        brief_title=val("brief_title"),
        official_title=val("official_title"),
        overall_status=enum(Status, "overall_status"),
        last_known_status=enum(Status, "last_known_status"),
        why_stopped=val("why_stopped"),
        status_verified=date("status_verified"),
        start_date=date("start_date"),
        primary_completion_date=date("primary_completion_date"),
        completion_date=date("completion_date"),
        first_posted=date("first_posted"),
        last_update_posted=last_update,
        sponsor=Organization(sponsor_name) if sponsor_name else None,
        has_dmc=boolean("has_dmc"),
        fda_regulated_drug=boolean("fda_regulated_drug"),
        fda_regulated_device=boolean("fda_regulated_device"),
        brief_summary=unescape_markdown(val("brief_summary")),
        detailed_description=unescape_markdown(val("detailed_description")),
        conditions=[Condition(c) for c in dedupe(by_name["conditions"].items())] if "conditions" in by_name else [],
        keywords=dedupe(by_name["keywords"].items()) if "keywords" in by_name else [],
        study_type=enum(StudyType, "study_type"),
        phases=phases,
        allocation=enum(Allocation, "allocation"),
        intervention_model=enum(InterventionModel, "intervention_model"),
        primary_purpose=enum(PrimaryPurpose, "primary_purpose"),
        masking=masking,
        who_masked=who,
        observational_model=enum(ObservationalModel, "observational_model"),
        time_perspective=enum(TimePerspective, "time_perspective"),
        enrollment_count=r.integer(val("enrollment_count"), where("enrollment_count")),
        enrollment_type=enum(EnrollmentType, "enrollment_type"),
        arms=arms,
        interventions=interventions,
        eligibility=Eligibility(
            criteria=criteria,
            inclusion=inclusion,
            exclusion=exclusion,
            sex=enum(Sex, "sex"),
            min_age=r.age(val("min_age"), where("min_age")),
            max_age=r.age(val("max_age"), where("max_age")),
            healthy_volunteers=boolean("healthy_volunteers"),
        )
        if any(k in by_name for k in elig_keys)
        else None,
    )
    trial.source.notes.extend(notes)
    trial.source.notes.extend(r.notes)
    return trial


def _groups(r: FieldReader, fields: list[_Field]) -> tuple[list[Arm], list[Intervention]]:
    """Arms and interventions from their repeated key groups."""
    arm_items: list[dict[str, _Field]] = []
    iv_items: list[dict[str, _Field]] = []
    for f in fields:
        if f.name.startswith(("arm.", "iv.")):
            items = arm_items if f.name.startswith("arm.") else iv_items
            if items and f.name in _LISTS and f.name in items[-1]:
                items[-1][f.name].lines.extend(f.lines)  # a list repeats its key per item
                continue
            if not items or f.name in items[-1]:
                items.append({})
            items[-1][f.name] = f
    interventions: list[Intervention] = []
    for item in iv_items:
        name_f = item.get("iv.name")
        name = name_f.value() if name_f else None
        if not name:
            first = next(iter(item.values()))
            r.problem(first.where, "intervention without a name")
            continue
        tf = item.get("iv.type")
        interventions.append(
            Intervention(
                name=name,
                type=r.enum(InterventionType, tf.value(), tf.where) if tf else None,
                description=unescape_markdown(item["iv.description"].value()) if "iv.description" in item else None,
                other_names=dedupe(item["iv.other_names"].items()) if "iv.other_names" in item else [],
            )
        )
    arms: list[Arm] = []
    for item in arm_items:
        label_f = item.get("arm.label")
        label = label_f.value() if label_f else None
        if not label:
            first = next(iter(item.values()))
            r.problem(first.where, "arm group without a label")
            continue
        tf = item.get("arm.type")
        refs = []
        for ref in item["arm.interventions"].items() if "arm.interventions" in item else []:
            itype, iname = split_typed_name(ref)
            refs.append(intervention_ref(itype, iname))
            iv = next((x for x in interventions if x.name == iname), None)
            if iv is None:
                iv = Intervention(name=iname, type=itype)
                interventions.append(iv)
            if label not in iv.arm_labels:
                iv.arm_labels.append(label)
        arms.append(
            Arm(
                label=label,
                type=r.enum(ArmType, tf.value(), tf.where) if tf else None,
                description=unescape_markdown(item["arm.description"].value()) if "arm.description" in item else None,
                intervention_names=dedupe(refs),
            )
        )
    return arms, interventions


_CRIT_HEAD = re.compile(r"\s*\b((?:General |Key |Main )?(?:Inclusion|Exclusion) Criteria\s*:)\s*", re.IGNORECASE)
_NUMBER = re.compile(r"(?:(?<=\s)|^)(\d{1,3})\.\s")
_STAR = re.compile(r"\s\*\s+")


def _unflatten_criteria(text: str | None) -> str | None:
    """Put criteria headings and items numbered in sequence back on lines of their own."""
    if text is None:
        return None
    out_lines: list[str] = []
    for line in text.split("\n"):
        pieces = [p for p in _CRIT_HEAD.split(line) if p is not None]
        for piece in pieces:
            if not piece.strip():
                continue
            if _CRIT_HEAD.fullmatch(piece):
                out_lines.append(piece.strip())
                continue
            out_lines.extend(_split_numbered(piece.strip()))
    return "\n".join(out_lines)


def _split_numbered(text: str) -> list[str]:
    expected = 1
    cuts = []
    for m in _NUMBER.finditer(text):
        if int(m.group(1)) == expected:
            cuts.append(m.start())
            expected += 1
    if len(cuts) >= 2 or (cuts and cuts[0] == 0):
        if cuts[0] != 0:
            cuts = [0, *cuts]
        parts = [text[a:b].strip() for a, b in zip(cuts, [*cuts[1:], len(text)], strict=False)]
        return [p for p in parts if p]
    if _STAR.search(text):
        parts = _STAR.split(" " + text)
        head, items = parts[0].strip(), [p.strip() for p in parts[1:] if p.strip()]
        return ([head] if head else []) + [f"* {p}" for p in items]
    return [text]
