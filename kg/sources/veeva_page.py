"""ClinicalTrials.Veeva trial pages saved as text.

Layout (top to bottom): site chrome ("ClinicalTrials.Veeva", "Menu"); the brief
title; a one-letter avatar line and the lead sponsor's name; then headed sections
"Status and phase" (status line, then one line per phase), "Conditions" (one per
line), "Treatments" ("Drug: X" lines), "Study type", "Funder types", "Identifiers"
(NCT ID, then the organisation's study ID, then any other IDs), "Details and patient
eligibility", "About" (brief summary), optional "Full description", "Enrollment"
("8 patients" is an actual count, "10 estimated patients" an estimate), "Sex",
"Ages", "Volunteers", "Inclusion criteria" / "Exclusion criteria" (numbered lists),
"Trial design" with "Primary purpose", "Allocation", "Interventional model",
"Masking", then "N participants in K patient groups" followed by the arms, then
"Trial contacts and locations" (optionally "Central trial contact"), then the footer
from "Data sourced from clinicaltrials.gov" to "© Copyright … Veeva Systems".

Arms: each arm is a label line followed by its type line ("Experimental group",
"No Intervention group", …), then optionally "Description:" with its text and
"Treatment:" with one line per intervention. The type line anchors the arm: the
line just before it is the label, so an arm's label is never mistaken for the
previous arm's last treatment.

The page shows no dates, officials or site addresses ("Loading…"), so those stay
empty. The "Funder types" value becomes the sponsor's agency class only when there
is exactly one funder type.

Truncation rule: a complete page reaches the footer ("Data sourced from
clinicaltrials.gov"), which the site prints after all trial content. A page without
it is ``Source.partial``: the trial holds the sections that are there, and a note
names the section the page ends in (its last value may be cut).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kg.enums import (
    AgencyClass,
    Allocation,
    ArmType,
    ContactRole,
    EnrollmentType,
    InterventionModel,
    ObservationalModel,
    Phase,
    PrimaryPurpose,
    Sex,
    SourceFormat,
    Status,
    StudyType,
    TimePerspective,
    UnknownValue,
    coerce,
    parse_phases,
    sort_phases,
)
from kg.errors import ParseError
from kg.model import (
    Arm,
    Condition,
    Contact,
    Eligibility,
    Intervention,
    Organization,
    SecondaryId,
    Source,
    Trial,
)
from kg.sources._common import FieldReader, dedupe, parse_file, sha256, split_criteria
from kg.sources._pages import (
    Heading,
    Line,
    Page,
    Section,
    head_lines,
    intervention_ref,
    is_email,
    is_enrollment,
    is_phone,
    is_text_page,
    join_lines,
    one_record,
    page_lines,
    parse_age_range,
    parse_enrollment,
    parse_masking,
    split_sections,
    split_typed_name,
    valid_nct,
)

FORMAT = SourceFormat.VEEVA_PAGE
DESCRIPTION = "ClinicalTrials.Veeva trial page saved as text"

_SITE = "ClinicalTrials.Veeva"
_CHROME = {"clinicaltrials.veeva", "menu"}
_ARMS_HEADING = re.compile(r"(?:(\d[\d,]*)\s+participants?\s+in\s+)?(\d+)\s+patient\s+groups?", re.IGNORECASE)
_FOOTER = "Data sourced from clinicaltrials.gov"


def _enum_check(enum: type) -> object:
    def check(following: list[str]) -> bool:
        if not following:
            return False
        try:
            return coerce(enum, following[0]) is not None
        except UnknownValue:
            return False

    return check


HEADINGS: tuple[Heading, ...] = (
    Heading("status_phase", ("Status and phase",)),
    Heading("conditions", ("Conditions",)),
    Heading("treatments", ("Treatments",)),
    Heading("study_type", ("Study type",), check=_enum_check(StudyType)),  # type: ignore[arg-type]
    Heading("funder_types", ("Funder types",)),
    Heading("identifiers", ("Identifiers",)),
    Heading("details", ("Details and patient eligibility",)),
    Heading("about", ("About",)),
    Heading("full_description", ("Full description",)),
    Heading("enrollment", ("Enrollment",), check=lambda f: bool(f) and is_enrollment(f[0])),
    Heading("sex", ("Sex",), check=_enum_check(Sex)),  # type: ignore[arg-type]
    Heading("ages", ("Ages",), check=lambda f: bool(f) and bool(re.search(r"\d", f[0]))),
    Heading("volunteers", ("Volunteers",), check=lambda f: bool(f) and "volunteer" in f[0].lower()),
    Heading("inclusion", ("Inclusion criteria",)),
    Heading("exclusion", ("Exclusion criteria",)),
    Heading("trial_design", ("Trial design",)),
    Heading("primary_purpose", ("Primary purpose",), check=_enum_check(PrimaryPurpose)),  # type: ignore[arg-type]
    Heading("allocation", ("Allocation",), check=_enum_check(Allocation)),  # type: ignore[arg-type]
    Heading(
        "intervention_model",
        ("Interventional model", "Intervention model"),
        check=_enum_check(InterventionModel),  # type: ignore[arg-type]
    ),
    Heading("observational_model", ("Observational model",), check=_enum_check(ObservationalModel)),  # type: ignore[arg-type]
    Heading("time_perspective", ("Time perspective",), check=_enum_check(TimePerspective)),  # type: ignore[arg-type]
    Heading("masking", ("Masking",)),
    Heading("arms", pattern=_ARMS_HEADING),
    Heading("contacts_locations", ("Trial contacts and locations",)),
    Heading("central_contact", ("Central trial contact", "Central trial contacts")),
    Heading("footer", (_FOOTER,)),
)


def sniff(head: bytes) -> bool:
    if not is_text_page(head):
        return False
    lines = head_lines(head)
    if any(ln.startswith(("Ignite Creation Date:", "Ignite Modification Date:")) for ln in lines):
        return False
    if lines and lines[0] == _SITE:
        return True
    markers = {"status and phase", "funder types", "details and patient eligibility", "trial contacts and locations"}
    return len(markers & {ln.casefold() for ln in lines}) >= 3


def parse(path: str | Path) -> Iterator[Trial]:
    """Parse a saved page, raising the first error."""
    return parse_file(path, records)


def records(data: bytes, name: str, *, strict: bool = False) -> Iterator[Trial | ParseError]:
    """Yield the page's Trial, or a ParseError naming the file (and section)."""
    return one_record(data, name, _build, strict=strict)


def _build(data: bytes, name: str, strict: bool) -> Trial:
    if not sniff(data[:65536]):
        raise ParseError(name, "not a ClinicalTrials.Veeva page (no Veeva site header or section headings)")
    page = split_sections(name, page_lines(data), HEADINGS)
    ids = page.get("identifiers")
    nct, org_id, other_ids = _identifiers(ids)
    if nct is None:
        where = ids.where if ids else "Identifiers"
        reason = "no NCT ID in the Identifiers section" if ids else "no Identifiers section, so no NCT ID"
        raise ParseError(name, reason, where=where)
    r = FieldReader(name, nct, strict=strict)
    notes: list[str] = list(page.notes)

    partial = not page.has("footer")
    if partial and page.last is not None:
        notes.append(f"page is truncated: it ends in {page.last.where}; the last value there may be cut")

    title, sponsor_name = _header(page, notes)

    status, phases = _status_phase(r, page.get("status_phase"))
    interventions = _treatments(page.get("treatments"))
    arms = _arms(r, page.get("arms"), notes)
    _link_arms(arms, interventions)

    sponsor = None
    funders = _texts(page.get("funder_types"))
    if sponsor_name:
        agency = None
        if len(funders) == 1:
            agency = r.enum(AgencyClass, funders[0], _where(page.get("funder_types")))
        elif len(funders) > 1:
            notes.append(f"funder types {funders!r}: several, so the sponsor's class is left unset")
        sponsor = Organization(sponsor_name, agency)
    elif funders:
        notes.append(f"funder types {funders!r} but no sponsor name on the page")

    count = etype = None
    enrol = page.get("enrollment")
    if enrol and enrol.first():
        try:
            count, etype = parse_enrollment(enrol.first() or "", default=EnrollmentType.ACTUAL)
        except ValueError as exc:
            r.problem(enrol.where, str(exc))

    masking_sec = page.get("masking")
    masking, who = parse_masking(r, masking_sec.first() if masking_sec else None, _where(masking_sec))

    trial = Trial(
        nct_id=nct,
        source=Source(format=FORMAT, file=name, checksum=sha256(data), partial=partial),
        org_study_id=org_id,
        secondary_ids=[SecondaryId(i) for i in other_ids],
        brief_title=title,
        overall_status=status,
        sponsor=sponsor,
        brief_summary=_text(page.get("about")),
        detailed_description=_text(page.get("full_description")),
        conditions=[Condition(c) for c in dedupe(_texts(page.get("conditions")))],
        study_type=_first_enum(r, StudyType, page.get("study_type")),
        phases=phases,
        allocation=_first_enum(r, Allocation, page.get("allocation")),
        intervention_model=_first_enum(r, InterventionModel, page.get("intervention_model")),
        primary_purpose=_first_enum(r, PrimaryPurpose, page.get("primary_purpose")),
        masking=masking,
        who_masked=who,
        observational_model=_first_enum(r, ObservationalModel, page.get("observational_model")),
        time_perspective=_first_enum(r, TimePerspective, page.get("time_perspective")),
        enrollment_count=count,
        enrollment_type=etype,
        arms=arms,
        interventions=interventions,
        eligibility=_eligibility(r, page),
        contacts=_contacts(page.get("central_contact"), notes),
    )
    _check_arm_count(page.get("arms"), arms, notes)
    _check_locations(page.get("contacts_locations"), notes)
    trial.source.notes.extend(notes)
    trial.source.notes.extend(r.notes)
    return trial


def _where(section: Section | None) -> str:
    return section.where if section else "page"


def _texts(section: Section | None) -> list[str]:
    return section.texts() if section else []


def _text(section: Section | None) -> str | None:
    return section.text() if section else None


def _first_enum(r: FieldReader, enum: type, section: Section | None):  # type: ignore[no-untyped-def]
    if section is None:
        return None
    return r.enum(enum, section.first(), section.where)


def _header(page: Page, notes: list[str]) -> tuple[str | None, str | None]:
    """Title, then a one-character avatar line and the sponsor's name."""
    lines = [ln.text for ln in page.preamble if ln.text.casefold() not in _CHROME]
    if not lines:
        return None, None
    title = lines[0]
    sponsor = None
    rest = lines[1:]
    if len(rest) >= 2 and len(rest[0]) == 1:
        sponsor = rest[1]
        extra = rest[2:]
    else:
        extra = rest
    if extra:
        notes.append(f"page header: unrecognised lines {extra!r}")
    return title, sponsor


def _identifiers(section: Section | None) -> tuple[str | None, str | None, list[str]]:
    if section is None:
        return None, None, []
    nct = None
    others: list[str] = []
    for text in section.texts():
        if nct is None and valid_nct(text):
            nct = text
        else:
            others.append(text)
    org = others[0] if others else None
    return nct, org, others[1:]


def _status_phase(r: FieldReader, section: Section | None) -> tuple[Status | None, list[Phase]]:
    if section is None:
        return None, []
    status = None
    phases: set[Phase] = set()
    for ln in section.lines():
        try:
            s = coerce(Status, ln.text)
        except UnknownValue:
            s = None
        if s is not None and status is None:
            status = s
            continue
        try:
            phases.update(parse_phases(ln.text))
        except UnknownValue:
            r.problem(f"{section.where}, line {ln.number}", f"{ln.text!r} is neither a status nor a phase")
    return status, sort_phases(phases)


def _treatments(section: Section | None) -> list[Intervention]:
    out: list[Intervention] = []
    for text in _texts(section):
        itype, name = split_typed_name(text)
        if not any(iv.name == name and iv.type == itype for iv in out):
            out.append(Intervention(name=name, type=itype))
    return out


def _arm_type(text: str) -> ArmType | None:
    try:
        return coerce(ArmType, text)
    except UnknownValue:
        return None


def _arms(r: FieldReader, section: Section | None, notes: list[str]) -> list[Arm]:
    """Arms anchored on their type lines (see the module docstring)."""
    if section is None:
        return []
    lines = section.lines()
    texts = [ln.text for ln in lines]
    markers = {"description:", "treatment:", "treatments:"}
    starts: list[int] = []
    i = 0
    while i + 1 < len(texts):
        if texts[i].casefold() not in markers and _arm_type(texts[i + 1]) is not None:
            starts.append(i)
            i += 2
        else:
            i += 1
    if starts and starts[0] > 0:
        notes.append(f"{section.where}: lines before the first arm not read: {texts[: starts[0]]!r}")
    if not starts and texts:
        notes.append(f"{section.where}: no arm type lines found; arms not read")
    arms: list[Arm] = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(texts)
        label, type_text = texts[start], texts[start + 1]
        desc: list[Line] = []
        refs: list[str] = []
        mode = None
        for ln in lines[start + 2 : end]:
            key = ln.text.casefold()
            if key == "description:":
                mode = "d"
            elif key in ("treatment:", "treatments:"):
                mode = "t"
            elif mode == "d":
                desc.append(ln)
            elif mode == "t":
                itype, name = split_typed_name(ln.text)
                refs.append(intervention_ref(itype, name))
            else:
                r.problem(f"{section.where}, line {ln.number}", f"arm {label!r}: unlabelled line {ln.text!r}")
        arms.append(
            Arm(label=label, type=_arm_type(type_text), description=join_lines(desc), intervention_names=dedupe(refs))
        )
    return arms


def _link_arms(arms: list[Arm], interventions: list[Intervention]) -> None:
    """Fill Intervention.arm_labels; add interventions named only under an arm."""
    for arm in arms:
        for ref in arm.intervention_names:
            itype, name = split_typed_name(ref)
            match = next((iv for iv in interventions if iv.name == name and (itype is None or iv.type == itype)), None)
            if match is None:
                match = Intervention(name=name, type=itype)
                interventions.append(match)
            if arm.label not in match.arm_labels:
                match.arm_labels.append(arm.label)


def _check_arm_count(section: Section | None, arms: list[Arm], notes: list[str]) -> None:
    if section is None:
        return
    m = _ARMS_HEADING.fullmatch(section.heading)
    if m and int(m.group(2)) != len(arms):
        notes.append(f"{section.where}: the heading announces {m.group(2)} groups, {len(arms)} were read")


def _check_locations(section: Section | None, notes: list[str]) -> None:
    """The site loads sites with a script: a saved page holds only their number."""
    if section is None:
        return
    unread = [t for t in section.texts() if not t.isdigit() and t.rstrip(".…").casefold() != "loading"]
    if unread:
        notes.append(f"{section.where}: lines not read: {unread!r}")


def _eligibility(r: FieldReader, page: Page) -> Eligibility | None:
    incl, excl = page.get("inclusion"), page.get("exclusion")
    sex, ages, vol = page.get("sex"), page.get("ages"), page.get("volunteers")
    if not any((incl, excl, sex, ages, vol)):
        return None
    blocks = []
    for sec in (incl, excl):
        if sec is not None and sec.texts():
            blocks.append(f"{sec.heading}:\n\n" + "\n".join(raw for raw in sec.body if raw.strip()))
    criteria = "\n\n".join(blocks) or None
    inclusion, exclusion = split_criteria(criteria)
    min_age = max_age = None
    if ages and ages.first():
        try:
            min_age, max_age = parse_age_range(ages.first() or "")
        except ValueError as exc:
            r.problem(ages.where, str(exc))
    return Eligibility(
        criteria=criteria,
        inclusion=inclusion,
        exclusion=exclusion,
        sex=_first_enum(r, Sex, sex),
        min_age=min_age,
        max_age=max_age,
        healthy_volunteers=r.boolean(vol.first(), vol.where) if vol else None,
    )


def _contacts(section: Section | None, notes: list[str]) -> list[Contact]:
    """Central contacts: a name line, then any phone or e-mail lines."""
    out: list[Contact] = []
    for text in _texts(section):
        if is_email(text) and out and out[-1].email is None:
            out[-1].email = text
        elif is_phone(text) and out and out[-1].phone is None:
            out[-1].phone = text
        elif is_email(text) or is_phone(text):
            notes.append(f"{_where(section)}: contact detail {text!r} without a name")
        else:
            out.append(Contact(name=text, role=ContactRole.CONTACT))
    return out
