"""Registry-mirror pages in the "Basic Information" layout, saved as text.

Layout: the brief title; "NCT ID: NCT…" and "Last Updated: YYYY-MM-DD" lines; then
headed sections, most of them followed by a one-sentence boilerplate description
that the site prints under every page's heading ("Review the sponsor-provided
synopsis…"). That sentence is how a heading is told apart from the same words in
free text, and it is dropped. In page order:

* "Study Results"; "Basic Information" with the value sections "Recruitment Status",
  "Clinical Phase" (``PHASE1/PHASE2``), "Total Enrollment" ("5 participants"),
  "Study Classification" (study type), "Study Start Date", "Primary Completion Date",
  "Study Completion Date" (ISO dates);
* "Brief Summary", "Detailed Description" (free text);
* "Conditions": one line holds *all* conditions run together with spaces. It is kept
  verbatim as one :class:`Condition` with ``verbatim`` set and ``split_uncertain``
  true (the vocabulary linker splits it). Several lines are several conditions.
* "Study Design": label/value pairs ("Allocation Method", "Intervention Model",
  "Primary Study Purpose", "Blinding Strategy", …);
* "Study Groups": per arm a label, a description, "Group Type X", then per
  intervention its name, "Intervention Type X" and its description;
* "Interventions": per intervention its name, description and "Intervention Type X"
  (the type line closes each entry, so names and descriptions are unambiguous; the
  Study Groups section is read with these descriptions in hand);
* "Other Intervention Names"; "Eligibility Criteria" (markdown with ``\\>`` style
  escapes, undone here) followed by "Minimum Eligible Age", "Maximum Eligible Age",
  "Eligible Sex", "Accepts Healthy Volunteers";
* "Sponsors" (name, class, "Sponsor Role lead|collaborator"), "Responsible Party"
  (name, title, affiliation, "Responsibility Role X"), "Principal Investigators"
  (name, "Role: X", affiliation), "Locations" (facility, "City, State, Country",
  "Site Status [X]"), "Countries", "Central Contacts" and "Facility Contacts" (name,
  "Role: X", phone / e-mail lines), "Other Identifiers" (ID, "Identifier Type: X",
  "Identifier Source: org_study_id|secondary_id|…"), "More Related Trials".

Enrollment type is not shown, so it stays unset; dates carry no actual/estimated type.
"Last Updated" is the source's own last-update date (``Source.last_update``).

Truncation rule: "More Related Trials" is site chrome printed after all trial
content on every page. A page that does not reach it is ``Source.partial``: the
trial holds the sections that are there, and a note names the section the page
ends in (its last value may be cut).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kg.enums import (
    AgencyClass,
    Allocation,
    ArmType,
    ContactRole,
    InterventionModel,
    InterventionType,
    LocationStatus,
    ObservationalModel,
    OfficialRole,
    PrimaryPurpose,
    ResponsiblePartyType,
    Sex,
    SourceFormat,
    Status,
    StudyType,
    TimePerspective,
    UnknownValue,
    WhoMasked,
    coerce,
    parse_phases,
)
from kg.errors import ParseError
from kg.model import (
    Arm,
    Condition,
    Contact,
    Eligibility,
    Intervention,
    Location,
    Official,
    Organization,
    ResponsibleParty,
    SecondaryId,
    Source,
    Trial,
)
from kg.sources._common import FieldReader, dedupe, parse_age, parse_date, parse_file, sha256, split_criteria
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
    parse_address,
    parse_enrollment,
    parse_masking,
    split_sections,
    unescape_markdown,
    valid_nct,
)

FORMAT = SourceFormat.BASIC_INFO_PAGE
DESCRIPTION = 'Registry-mirror page in the "Basic Information" layout, saved as text'


def _is(enum: type, text: str) -> bool:
    try:
        return coerce(enum, text) is not None
    except UnknownValue:
        return False


def _value(pred):  # type: ignore[no-untyped-def]
    return lambda f: bool(f) and pred(f[0])


def _is_date(text: str) -> bool:
    try:
        return parse_date(text) is not None
    except ValueError:
        return False


def _is_age(text: str) -> bool:
    try:
        parse_age(text)
    except ValueError:
        return False
    return True


def _is_phase(text: str) -> bool:
    try:
        return bool(parse_phases(text))
    except UnknownValue:
        return False


HEADINGS: tuple[Heading, ...] = (
    Heading("results", ("Study Results",)),
    Heading("basic", ("Basic Information",), boilerplate="Get a concise snapshot"),
    Heading("status", ("Recruitment Status",), check=_value(lambda t: _is(Status, t))),
    Heading("phase", ("Clinical Phase",), check=_value(_is_phase)),
    Heading("enrollment", ("Total Enrollment",), check=_value(is_enrollment)),
    Heading("study_type", ("Study Classification",), check=_value(lambda t: _is(StudyType, t))),
    Heading("start", ("Study Start Date",), check=_value(_is_date)),
    Heading("primary_completion", ("Primary Completion Date",), check=_value(_is_date)),
    Heading("completion", ("Study Completion Date",), check=_value(_is_date)),
    Heading("brief_summary", ("Brief Summary",), boilerplate="Review the sponsor-provided synopsis"),
    Heading("detailed_description", ("Detailed Description",), boilerplate="Dive into the extended narrative"),
    Heading("conditions", ("Conditions",), boilerplate="See the medical conditions"),
    Heading("design", ("Study Design",), boilerplate="Understand how the trial is structured"),
    Heading("groups", ("Study Groups",), boilerplate="Review each arm or cohort"),
    Heading("interventions", ("Interventions",), boilerplate="Learn about the drugs, procedures"),
    Heading("other_names", ("Other Intervention Names",), boilerplate="Discover alternative or legacy names"),
    Heading("eligibility", ("Eligibility Criteria",), boilerplate="Check the participation requirements"),
    Heading("min_age", ("Minimum Eligible Age",), check=_value(_is_age)),
    Heading("max_age", ("Maximum Eligible Age",), check=_value(_is_age)),
    Heading("sex", ("Eligible Sex",), check=_value(lambda t: _is(Sex, t))),
    Heading("healthy", ("Accepts Healthy Volunteers",), check=_value(lambda t: t.lower() in {"yes", "no"})),
    Heading("sponsors", ("Sponsors",), boilerplate="Meet the organizations"),
    Heading("responsible_party", ("Responsible Party",), boilerplate="Identify the individual or organization"),
    Heading("officials", ("Principal Investigators",), boilerplate="Learn about the lead researchers"),
    Heading("locations", ("Locations",), boilerplate="Explore where the study is taking place"),
    Heading("countries", ("Countries",), boilerplate="Review the countries"),
    Heading("central_contacts", ("Central Contacts",), boilerplate="Reach out to these primary contacts"),
    Heading("facility_contacts", ("Facility Contacts",), boilerplate="Find local site contact details"),
    Heading("other_ids", ("Other Identifiers",), boilerplate="Review additional registry numbers"),
    Heading("related", ("More Related Trials",), boilerplate="Additional clinical trials that may be relevant"),
)

_NCT_LINE = re.compile(r"^NCT\s*ID\s*:\s*(\S*)\s*$", re.IGNORECASE)
_UPDATED_LINE = re.compile(r"^Last\s+Updated\s*:\s*(.*?)\s*$", re.IGNORECASE)
_GROUP_TYPE = re.compile(r"^Group Type\s+(.+)$")
_INTERVENTION_TYPE = re.compile(r"^Intervention Type\s+(.+)$")
_SPONSOR_ROLE = re.compile(r"^Sponsor Role\s+(.+)$")
_RESPONSIBILITY_ROLE = re.compile(r"^Responsibility Role\s+(.+)$")
_ROLE = re.compile(r"^Role:\s*(.*)$")
_SITE_STATUS = re.compile(r"^Site Status(?:\s+(.+))?$")
_ID_FIELD = re.compile(r"^Identifier (Type|Source|Domain|Link):\s*(.*)$")

_DESIGN_LABELS = {
    "allocation method": "allocation",
    "intervention model": "intervention_model",
    "primary study purpose": "primary_purpose",
    "blinding strategy": "masking",
    "masked roles": "who_masked",
    "who is masked": "who_masked",
    "observational model": "observational_model",
    "time perspective": "time_perspective",
}


def sniff(head: bytes) -> bool:
    if not is_text_page(head):
        return False
    lines = head_lines(head)
    other_sites = ("Ignite Creation Date:", "Ignite Modification Date:", "ClinicalTrials.Veeva")
    if any(ln.startswith(other_sites) for ln in lines):
        return False
    folded = [ln.casefold() for ln in lines]
    marks = sum(1 for h in HEADINGS if h.boilerplate and any(ln.startswith(h.boilerplate.casefold()) for ln in folded))
    has_id_line = any(_NCT_LINE.match(ln) for ln in lines[:10])
    return marks >= 2 or (has_id_line and marks >= 1)


def parse(path: str | Path) -> Iterator[Trial]:
    """Parse a saved page, raising the first error."""
    return parse_file(path, records)


def records(data: bytes, name: str, *, strict: bool = False) -> Iterator[Trial | ParseError]:
    """Yield the page's Trial, or a ParseError naming the file (and section)."""
    return one_record(data, name, _build, strict=strict)


@dataclass
class _Header:
    title: str | None = None
    nct: str | None = None
    updated: str | None = None
    extra: list[str] = field(default_factory=list)


def _header(page: Page) -> _Header:
    h = _Header()
    for ln in page.preamble:
        if m := _NCT_LINE.match(ln.text):
            h.nct = m.group(1)
        elif m := _UPDATED_LINE.match(ln.text):
            h.updated = m.group(1)
        elif h.title is None and h.nct is None:
            h.title = ln.text
        else:
            h.extra.append(ln.text)
    return h


def _build(data: bytes, name: str, strict: bool) -> Trial:
    if not sniff(data[:65536]):
        raise ParseError(name, 'not a "Basic Information" registry-mirror page (no known section boilerplate)')
    page = split_sections(name, page_lines(data), HEADINGS)
    head = _header(page)
    nct = valid_nct(head.nct)
    if nct is None:
        reason = f"malformed NCT ID {head.nct!r}" if head.nct else 'no "NCT ID:" line'
        raise ParseError(name, reason, where="page header")
    r = FieldReader(name, nct, strict=strict)
    notes: list[str] = list(page.notes)
    if head.extra:
        notes.append(f"page header: unrecognised lines {head.extra!r}")

    partial = not page.has("related")
    if partial and page.last is not None:
        notes.append(f"page is truncated: it ends in {page.last.where}; the last value there may be cut")

    def first(key: str) -> tuple[str | None, str]:
        sec = page.get(key)
        return (sec.first(), sec.where) if sec else (None, key)

    count = etype = None
    text, where = first("enrollment")
    if text:
        try:
            count, etype = parse_enrollment(text)
        except ValueError as exc:
            r.problem(where, str(exc))

    phases = []
    text, where = first("phase")
    if text:
        try:
            phases = parse_phases(text)
        except UnknownValue as exc:
            r.problem(where, str(exc))

    entries = _interventions(r, page.get("interventions"))
    arms = _groups(r, page.get("groups"), entries, notes)
    interventions = [iv for iv, _ in entries]
    _other_names(page.get("other_names"), interventions, notes)
    design = _design(r, page.get("design"), notes)
    sponsor, collaborators = _sponsors(r, page.get("sponsors"), notes)
    locations = _locations(r, page.get("locations"), notes)
    _attach_facility_contacts(r, page.get("facility_contacts"), locations, notes)
    _check_countries(page.get("countries"), locations, notes)
    org_id, secondary, aliases = _other_ids(page.get("other_ids"), notes)
    has_results = None
    results = page.get("results")
    if results and any(t.casefold() == "results pending" for t in results.texts()):
        has_results = False

    trial = Trial(
        nct_id=nct,
        source=Source(
            format=FORMAT,
            file=name,
            checksum=sha256(data),
            last_update=r.date(head.updated, "page header: Last Updated") if head.updated else None,
            partial=partial,
        ),
        org_study_id=org_id,
        secondary_ids=secondary,
        nct_id_aliases=aliases,
        brief_title=head.title,
        overall_status=r.enum(Status, *first("status")),
        start_date=r.date(*first("start")),
        primary_completion_date=r.date(*first("primary_completion")),
        completion_date=r.date(*first("completion")),
        sponsor=sponsor,
        collaborators=collaborators,
        responsible_party=_responsible_party(r, page.get("responsible_party"), notes),
        brief_summary=_free_text(page.get("brief_summary")),
        detailed_description=_free_text(page.get("detailed_description")),
        conditions=_conditions(page.get("conditions")),
        study_type=r.enum(StudyType, *first("study_type")),
        phases=phases,
        enrollment_count=count,
        enrollment_type=etype,
        arms=arms,
        interventions=interventions,
        eligibility=_eligibility(r, page),
        locations=locations,
        officials=_officials(r, page.get("officials")),
        contacts=_contacts(r, page.get("central_contacts"), notes),
        has_results=has_results,
    )
    for key, value in design.items():  # allocation, intervention_model, primary_purpose, masking, …
        setattr(trial, key, value)
    trial.source.notes.extend(notes)
    trial.source.notes.extend(r.notes)
    return trial


def _free_text(section: Section | None) -> str | None:
    return unescape_markdown(section.text()) if section else None


def _conditions(section: Section | None) -> list[Condition]:
    if section is None:
        return []
    texts = dedupe([unescape_markdown(t) or "" for t in section.texts()])
    if len(texts) == 1:
        # One line: the site runs every condition together with spaces. Keep it whole.
        return [Condition(texts[0], verbatim=texts[0], split_uncertain=True)]
    return [Condition(t) for t in texts]


def _design(r: FieldReader, section: Section | None, notes: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    if section is None:
        return out
    lines = section.lines()
    i = 0
    while i < len(lines):
        label = lines[i].text
        key = _DESIGN_LABELS.get(label.casefold())
        if key is None or i + 1 >= len(lines):
            notes.append(f"{section.where}, line {lines[i].number}: unrecognised design line {label!r}")
            i += 1
            continue
        value, where = lines[i + 1].text, f"{section.where}: {label}"
        if key == "allocation":
            out[key] = r.enum(Allocation, value, where)
        elif key == "intervention_model":
            out[key] = r.enum(InterventionModel, value, where)
        elif key == "primary_purpose":
            out[key] = r.enum(PrimaryPurpose, value, where)
        elif key == "masking":
            out["masking"], who = parse_masking(r, value, where)
            if who:
                out["who_masked"] = who
        elif key == "who_masked":
            out[key] = r.enums(WhoMasked, [v.strip() for v in value.split(",")], where)
        elif key == "observational_model":
            out[key] = r.enum(ObservationalModel, value, where)
        elif key == "time_perspective":
            out[key] = r.enum(TimePerspective, value, where)
        i += 2
    return out


def _interventions(r: FieldReader, section: Section | None) -> list[tuple[Intervention, list[str]]]:
    """Entries of name, description lines and a closing "Intervention Type X" line;
    each with its description lines as printed (to recognise them under the arms)."""
    out: list[tuple[Intervention, list[str]]] = []
    if section is None:
        return out
    chunk: list[Line] = []
    for ln in section.lines():
        m = _INTERVENTION_TYPE.match(ln.text)
        if not m:
            chunk.append(ln)
            continue
        if not chunk:
            r.problem(f"{section.where}, line {ln.number}", "intervention type without a name")
            continue
        itype = r.enum(InterventionType, m.group(1), f"{section.where}, line {ln.number}")
        iv = Intervention(name=chunk[0].text, type=itype, description=unescape_markdown(join_lines(chunk[1:])))
        out.append((iv, [c.text for c in chunk[1:]]))
        chunk = []
    if chunk:
        # A trailing name without its type line: the page was cut inside the entry.
        iv = Intervention(name=chunk[0].text, description=unescape_markdown(join_lines(chunk[1:])))
        out.append((iv, [c.text for c in chunk[1:]]))
    return out


def _groups(
    r: FieldReader,
    section: Section | None,
    entries: list[tuple[Intervention, list[str]]],
    notes: list[str],
) -> list[Arm]:
    """Arms: label, description lines, "Group Type X"; then interventions (name,
    "Intervention Type X", description). An intervention's description is known from
    the Interventions section, which tells where it ends and the next arm begins
    (and, when several interventions share a name, which one the arm has)."""
    if section is None:
        return []
    lines = section.lines()
    arms: list[Arm] = []
    i = 0
    n = len(lines)
    pending: list[Line] = []  # label + description of the arm being read
    while i < n:
        ln = lines[i]
        m = _GROUP_TYPE.match(ln.text)
        if not m:
            pending.append(ln)
            i += 1
            continue
        where = f"{section.where}, line {ln.number}"
        if not pending:
            r.problem(where, "group type without a group label")
            i += 1
            continue
        arm = Arm(
            label=pending[0].text,
            type=r.enum(ArmType, m.group(1), where),
            description=unescape_markdown(join_lines(pending[1:])),
        )
        arms.append(arm)
        pending = []
        i += 1
        # the arm's interventions: a name line followed by an "Intervention Type" line
        while i + 1 < n and _INTERVENTION_TYPE.match(lines[i + 1].text):
            name = lines[i].text
            tm = _INTERVENTION_TYPE.match(lines[i + 1].text)
            assert tm is not None
            itype = r.enum(InterventionType, tm.group(1), f"{section.where}, line {lines[i + 1].number}")
            arm.intervention_names.append(intervention_ref(itype, name))
            i += 2
            best: tuple[Intervention, list[str]] | None = None
            for iv, raw in entries:
                if iv.name != name or (best is not None and len(raw) <= len(best[1])):
                    continue
                if all(i + k < n and lines[i + k].text == raw[k] for k in range(len(raw))):
                    best = (iv, raw)
            if best is not None and (best[1] or not _more_before_next_group(lines, i, n)):
                iv = best[0]
                i += len(best[1])
            else:
                # Description not known from the Interventions section: the lines up
                # to the next group's label and description are taken as this
                # intervention's description, and the guess is noted.
                iv = next((e[0] for e in entries if e[0].name == name), None) or Intervention(name=name, type=itype)
                if all(iv is not e[0] for e in entries):
                    entries.append((iv, []))
                nxt = next((k for k in range(i, n) if _GROUP_TYPE.match(lines[k].text)), None)
                stop = max(i, nxt - 2) if nxt is not None else n
                if stop > i:
                    if iv.description is None:
                        iv.description = unescape_markdown(join_lines(lines[i:stop]))
                    notes.append(f"{section.where}: description of {name!r} not in Interventions; boundary guessed")
                    i = stop
            if arm.label not in iv.arm_labels:
                iv.arm_labels.append(arm.label)
        arm.intervention_names = dedupe(arm.intervention_names)
    if pending:
        notes.append(f"{section.where}: lines after the last group not read: {[p.text for p in pending]!r}")
    return arms


def _more_before_next_group(lines: list[Line], i: int, n: int) -> bool:
    """Whether lines other than another intervention of this arm, or the next
    group's label and description, follow position ``i``."""
    if i + 1 < n and _INTERVENTION_TYPE.match(lines[i + 1].text):
        return False
    nxt = next((k for k in range(i, n) if _GROUP_TYPE.match(lines[k].text)), None)
    if nxt is None:
        return i < n
    return nxt - i > 2


def _other_names(section: Section | None, interventions: list[Intervention], notes: list[str]) -> None:
    if section is None:
        return
    names = dedupe(section.texts())
    if len(interventions) == 1:
        interventions[0].other_names = dedupe(interventions[0].other_names + names)
    elif names:
        notes.append(f"{section.where}: other names {names!r} cannot be assigned to one of several interventions")


def _eligibility(r: FieldReader, page: Page) -> Eligibility | None:
    sec = page.get("eligibility")
    keys = ("min_age", "max_age", "sex", "healthy")
    if sec is None and not any(page.has(k) for k in keys):
        return None
    criteria = unescape_markdown(sec.text()) if sec else None
    inclusion, exclusion = split_criteria(criteria)

    def val(key: str) -> tuple[str | None, str]:
        s = page.get(key)
        return (s.first(), s.where) if s else (None, key)

    return Eligibility(
        criteria=criteria,
        inclusion=inclusion,
        exclusion=exclusion,
        sex=r.enum(Sex, *val("sex")),
        min_age=r.age(*val("min_age")),
        max_age=r.age(*val("max_age")),
        healthy_volunteers=r.boolean(*val("healthy")),
    )


def _sponsors(
    r: FieldReader, section: Section | None, notes: list[str]
) -> tuple[Organization | None, list[Organization]]:
    lead: Organization | None = None
    collaborators: list[Organization] = []
    if section is None:
        return lead, collaborators
    chunk: list[Line] = []
    for ln in section.lines():
        m = _SPONSOR_ROLE.match(ln.text)
        if not m:
            chunk.append(ln)
            continue
        where = f"{section.where}, line {ln.number}"
        if not chunk:
            r.problem(where, "sponsor role without a sponsor name")
            continue
        agency = None
        if len(chunk) > 1:
            agency = r.enum(AgencyClass, chunk[-1].text, where)
            chunk = chunk[:-1]
        org = Organization(" ".join(c.text for c in chunk), agency)
        role = m.group(1).strip().casefold()
        if role == "lead":
            if lead is not None:
                notes.append(f"{where}: second lead sponsor {org.name!r} kept as a collaborator")
                collaborators.append(org)
            else:
                lead = org
        elif role == "collaborator":
            collaborators.append(org)
        else:
            r.problem(where, f"unknown sponsor role {m.group(1)!r}")
        chunk = []
    if chunk:
        notes.append(f"{section.where}: lines without a sponsor role not read: {[c.text for c in chunk]!r}")
    return lead, collaborators


def _responsible_party(r: FieldReader, section: Section | None, notes: list[str]) -> ResponsibleParty | None:
    if section is None:
        return None
    lines = section.lines()
    rp_type = None
    people: list[str] = []
    for ln in lines:
        m = _RESPONSIBILITY_ROLE.match(ln.text)
        if m:
            rp_type = r.enum(ResponsiblePartyType, m.group(1), f"{section.where}, line {ln.number}")
        else:
            people.append(ln.text)
    if len(people) > 3:
        notes.append(f"{section.where}: lines not read: {people[3:]!r}")
    return ResponsibleParty(
        type=rp_type,
        investigator_name=people[0] if people else None,
        investigator_title=people[1] if len(people) > 1 else None,
        investigator_affiliation=people[2] if len(people) > 2 else None,
    )


def _anchored(lines: list[Line], anchor: re.Pattern[str]) -> list[tuple[Line | None, Line, list[Line]]]:
    """Entries of the form name, anchor line, detail lines: the line before each
    anchor is the entry's name; the lines after it, up to the next name, its details."""
    idx = [k for k, ln in enumerate(lines) if anchor.match(ln.text)]
    out = []
    for j, k in enumerate(idx):
        name = lines[k - 1] if k > 0 and (j == 0 or k - 1 > idx[j - 1]) else None
        end = idx[j + 1] - 1 if j + 1 < len(idx) else len(lines)
        out.append((name, lines[k], lines[k + 1 : end]))
    return out


def _officials(r: FieldReader, section: Section | None) -> list[Official]:
    out: list[Official] = []
    if section is None:
        return out
    for name, role_line, details in _anchored(section.lines(), _ROLE):
        m = _ROLE.match(role_line.text)
        assert m is not None
        if name is None:
            r.problem(f"{section.where}, line {role_line.number}", "investigator role without a name")
            continue
        role = r.enum(OfficialRole, m.group(1), f"{section.where}, line {role_line.number}")
        out.append(Official(name=name.text, role=role, affiliation=" ".join(d.text for d in details) or None))
    return out


def _contact_list(r: FieldReader, section: Section | None, notes: list[str]) -> list[Contact]:
    out: list[Contact] = []
    if section is None:
        return out
    for name, role_line, details in _anchored(section.lines(), _ROLE):
        m = _ROLE.match(role_line.text)
        assert m is not None
        c = Contact(
            name=name.text if name else None,
            role=r.enum(ContactRole, m.group(1), f"{section.where}, line {role_line.number}"),
        )
        for d in details:
            if is_email(d.text) and c.email is None:
                c.email = d.text
            elif is_phone(d.text) and c.phone is None:
                c.phone = d.text
            else:
                notes.append(f"{section.where}, line {d.number}: contact line not read: {d.text!r}")
        out.append(c)
    return out


def _contacts(r: FieldReader, section: Section | None, notes: list[str]) -> list[Contact]:
    return _contact_list(r, section, notes)


def _locations(r: FieldReader, section: Section | None, notes: list[str]) -> list[Location]:
    out: list[Location] = []
    if section is None:
        return out
    lines = section.lines()
    chunk: list[Line] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        m = _SITE_STATUS.match(ln.text)
        if not m:
            chunk.append(ln)
            i += 1
            continue
        where = f"{section.where}, line {ln.number}"
        status_text = m.group(1)
        nxt = lines[i + 1].text if i + 1 < len(lines) else ""
        if status_text is None and re.fullmatch(r"[A-Z][A-Z_]+", nxt) and _is(LocationStatus, nxt):
            status_text = nxt
            i += 1
        out.append(_location(chunk, r.enum(LocationStatus, status_text, where)))
        chunk = []
        i += 1
    if chunk:
        # cut before the status line: keep the site, its status unknown
        out.append(_location(chunk, None))
    return out


def _location(chunk: list[Line], status: LocationStatus | None) -> Location:
    texts = [c.text for c in chunk]
    if not texts:
        return Location(status=status)
    address = texts[-1] if "," in texts[-1] or len(texts) > 1 else None
    facility_lines = texts[:-1] if address is not None else texts
    city, state, zip_code, country = parse_address(address) if address else (None, None, None, None)
    return Location(
        facility=" ".join(facility_lines) or None,
        city=city,
        state=state,
        zip=zip_code,
        country=country,
        status=status,
    )


def _attach_facility_contacts(
    r: FieldReader, section: Section | None, locations: list[Location], notes: list[str]
) -> None:
    contacts = _contact_list(r, section, notes)
    if not contacts:
        return
    if len(locations) == 1:
        locations[0].contacts.extend(contacts)
    else:
        names = [c.name for c in contacts]
        notes.append(
            f"{_where(section)}: facility contacts {names!r} cannot be assigned to one of {len(locations)} sites"
        )


def _where(section: Section | None) -> str:
    return section.where if section else "page"


def _check_countries(section: Section | None, locations: list[Location], notes: list[str]) -> None:
    if section is None:
        return
    seen = {loc.country for loc in locations if loc.country}
    missing = [c for c in section.texts() if c not in seen]
    if missing:
        notes.append(f"{section.where}: countries without a listed site: {missing!r}")


def _other_ids(section: Section | None, notes: list[str]) -> tuple[str | None, list[SecondaryId], list[str]]:
    org: str | None = None
    secondary: list[SecondaryId] = []
    aliases: list[str] = []
    if section is None:
        return org, secondary, aliases
    entries: list[tuple[str, dict[str, str]]] = []
    for ln in section.lines():
        m = _ID_FIELD.match(ln.text)
        if m and entries:
            entries[-1][1][m.group(1).lower()] = m.group(2).strip()
        elif m:
            notes.append(f"{section.where}, line {ln.number}: identifier field without an identifier")
        else:
            entries.append((ln.text, {}))
    for ident, fields in entries:
        source = fields.get("source", "").casefold()
        id_type = fields.get("type")
        id_type = None if id_type in (None, "", "-") else id_type
        if source == "org_study_id" and org is None:
            org = ident
        elif source in ("nct_alias", "nct_id_alias") and valid_nct(ident):
            aliases.append(ident)
        else:
            secondary.append(SecondaryId(ident, id_type, fields.get("domain") or None))
    return org, secondary, aliases
