"""Legacy ClinicalTrials.gov XML (``<clinical_study>``, the AllPublicXML download).

Accepted shapes: one ``<clinical_study>`` document, and a wrapper element (such as
``<search_results>`` or ``<clinical_studies>``) holding several ``<clinical_study>``.

Parsing is safe: no DTD loading, no network, no entity expansion, no huge trees, and
a document whose DOCTYPE declares entities is refused with a ParseError.

Text blocks (``<textblock>``) are dedented and the registry's hard wrapping at 99
columns is undone: a line break is removed only where the next word would not have
fitted on the line, so real line breaks are kept. Values are display spellings mapped
onto :mod:`kg.enums`; ``<masking>Double (Participant, Investigator)</masking>`` and the
older ``Double Blind (Subject, Investigator)`` give both the level and who is masked.
Registry MeSH terms (``<condition_browse>``) carry names but no IDs: they go to
``condition_mesh_names`` / ``intervention_mesh_names``, never into ``condition_mesh``.
``has_results`` is True when results were posted and None otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from kg.enums import (
    AgencyClass,
    Allocation,
    ArmType,
    ContactRole,
    EnrollmentType,
    InterventionModel,
    InterventionType,
    LocationStatus,
    Masking,
    ObservationalModel,
    OfficialRole,
    PrimaryPurpose,
    ReferenceType,
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
    NCT_ID,
    Arm,
    Condition,
    Contact,
    Eligibility,
    Intervention,
    Location,
    Official,
    Organization,
    Outcome,
    Reference,
    ResponsibleParty,
    SecondaryId,
    Source,
    Trial,
    TrialDate,
)
from kg.sources._common import FieldReader, dedupe, internal_error, parse_file, sha256, split_criteria

FORMAT = SourceFormat.CTGOV_XML
DESCRIPTION = "Legacy ClinicalTrials.gov XML (<clinical_study>, or a wrapper holding several)"

_SNIFF = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?clinical_study[\s>]")
_ROOT = re.compile(rb"<(?![?!])([A-Za-z_][\w.:-]*)")  # the first start tag
_BOM = b"\xef\xbb\xbf"

_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}

# "Double (Participant, Investigator)", "Double Blind (Subject, Investigator)"
_MASKING = re.compile(r"^\s*([^()]*?)\s*\(([^()]*)\)\s*$")
# The pre-2017 one-line design: "Allocation: Randomized, Intervention Model: ..., Masking: ..."
_DESIGN_KEYS = ("Allocation", "Endpoint Classification", "Intervention Model", "Masking", "Primary Purpose",
                "Observational Model", "Time Perspective")  # fmt: skip
_DESIGN_SPLIT = re.compile(r",\s*(?=(?:" + "|".join(_DESIGN_KEYS) + r")\s*:)")
_NO_ENTITIES = "the DOCTYPE declares entities; entity expansion is refused"
_REDACTED = "[redacted]"
_WRAP = 99  # the registry wraps text blocks at this column
_NA = {"n/a", "na"}


def sniff(head: bytes) -> bool:
    stripped = head.removeprefix(_BOM).lstrip()
    if stripped[:1] != b"<":
        return False
    root = _ROOT.search(stripped)
    if root is None or root.group(1).lower() == b"html":
        return False
    return root.group(1).rpartition(b":")[2] == b"clinical_study" or _SNIFF.search(head) is not None


def _drop_namespace(root: Any) -> None:
    """Elements by their local names: the registry's files use no namespace, but a
    file re-saved by an XML tool may put its elements in one (``xmlns=".../ct2"``)."""
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.partition("}")[2]


def parse(path: str | Path) -> Iterator[Trial]:
    """Parse a file, raising the first error."""
    return parse_file(path, records)


def records(data: bytes, name: str, *, strict: bool = False) -> Iterator[Trial | ParseError]:
    """Yield a Trial (or a ParseError) per ``<clinical_study>`` in ``data``; one bad
    study does not stop the others."""
    try:
        root = _parse_xml(data, name)
    except ParseError as exc:
        yield exc
        return
    if root.tag.startswith("{"):
        _drop_namespace(root)
    if root.tag == "clinical_study":
        studies = [(root, "/clinical_study")]
    else:
        found = root.findall("clinical_study")
        if not found:
            yield ParseError(name, f"no <clinical_study> in <{root.tag}>", where=f"/{root.tag}")
            return
        studies = [(s, f"/{root.tag}/clinical_study[{i}]") for i, s in enumerate(found, start=1)]
    whole_file = len(studies) == 1 and root.tag == "clinical_study"
    for study, where in studies:
        # A lone study is checksummed on the file's bytes; a study in a wrapper on its
        # canonical (C14N) form, so it is stable whatever its neighbours.
        checksum = sha256(data) if whole_file else sha256(etree.tostring(study, method="c14n"))
        try:
            yield study_to_trial(study, name, where, checksum=checksum, strict=strict)
        except ParseError as exc:
            yield exc
        except Exception as exc:
            yield internal_error(name, exc, where=where)


def _parse_xml(data: bytes, name: str) -> Any:
    # Refuse entity declarations before libxml2 sees them (they are refused after
    # parsing too, for encodings this byte scan cannot read).
    doctype = data.find(b"<!DOCTYPE", 0, 4096)
    if doctype >= 0:
        end = data.find(b"]>", doctype)
        if data.find(b"<!ENTITY", doctype, end if end >= 0 else len(data)) >= 0:
            raise ParseError(name, _NO_ENTITIES, where="DOCTYPE")
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        where = f"line {line}" if line else None
        raise ParseError(name, f"not well-formed XML: {exc.msg}", where=where) from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ParseError(name, _NO_ENTITIES, where="DOCTYPE")
    return root


def _t(el: Any, path: str) -> str | None:
    """The stripped text of the first element at ``path``, or None."""
    v = el.findtext(path)
    if v is None:
        return None
    return v.strip() or None


def _texts(el: Any, path: str) -> list[str]:
    return dedupe([s for s in ((e.text or "").strip() for e in el.iterfind(path)) if s])


def _block(el: Any, path: str) -> str | None:
    """A ``<textblock>``: dedented, hard wrapping undone, paragraphs kept."""
    raw = el.findtext(path)
    if raw is None:
        return None
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    indent = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=None)
    if indent is None:
        return None
    out: list[str] = []
    prev = -1  # the length of the line before, as wrapped; -1 after a blank line
    for ln in lines:
        body = ln.rstrip()
        if not body.strip():
            if out and out[-1]:
                out.append("")
            prev = -1
            continue
        # The registry broke the line here only if the next word did not fit.
        if prev >= 0 and prev + 1 + len(body.split(None, 1)[0]) > _WRAP:
            out[-1] = f"{out[-1]} {body.lstrip()}"
        else:
            out.append(body[indent:])
        prev = len(body)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) or None


def _person(k: dict[str, Any]) -> str | None:
    """A name: one ``<last_name>`` in current files; first/middle/last/degrees in older ones."""
    parts = [p for p in (_tx(k.get("first_name")), _tx(k.get("middle_name")), _tx(k.get("last_name"))) if p]
    if not parts:
        return None
    name = " ".join(parts)
    degrees = _tx(k.get("degrees"))
    return f"{name}, {degrees}" if degrees else name


def _contact(k: dict[str, Any]) -> Contact | None:
    name, phone, ext, email = _person(k), _tx(k.get("phone")), _tx(k.get("phone_ext")), _tx(k.get("email"))
    if not (name or phone or email):
        return None
    return Contact(
        name=name, role=ContactRole.CONTACT, phone=f"{phone} ext. {ext}" if phone and ext else phone, email=email
    )


def study_to_trial(
    study: Any, file: str, where: str = "/clinical_study", *, checksum: str, strict: bool = False
) -> Trial:
    W = where
    top = _kids(study)
    id_info = _kids(top["id_info"]) if "id_info" in top else {}
    nct = _tx(id_info.get("nct_id"))
    if nct is None or not NCT_ID.match(nct):
        raise ParseError(file, f"missing or malformed nct_id {nct!r}", where=f"{W}/id_info/nct_id")
    r = FieldReader(file, nct, strict=strict)
    oversight = _kids(top["oversight_info"]) if "oversight_info" in top else {}

    def t(tag: str) -> str | None:
        return _tx(top.get(tag))

    def date(tag: str) -> TrialDate | None:
        el = top.get(tag)
        if el is None:
            return None
        return r.date(_tx(el), f"{W}/{tag}", (el.get("type"), f"{W}/{tag}/@type"))

    design = _design(r, study, W)
    criteria = _block(study, "eligibility/criteria/textblock")
    inclusion, exclusion = split_criteria(criteria)
    elig = top.get("eligibility")
    EL = f"{W}/eligibility"
    enrol = top.get("enrollment")
    results_posted = date("results_first_posted")
    phase_text = t("phase")
    try:
        phases = parse_phases(phase_text)
    except UnknownValue as exc:
        r.problem(f"{W}/phase", str(exc))
        phases = []
    study_type = t("study_type")
    lead = study.find("sponsors/lead_sponsor")
    lead_name = _unredacted(r, _t(lead, "agency") if lead is not None else None, f"{W}/sponsors/lead_sponsor/agency")

    trial = Trial(
        nct_id=nct,
        source=Source(
            format=FORMAT,
            file=file,
            checksum=checksum,
            last_update=r.date(
                t("last_update_posted") or t("last_update_submitted") or t("lastchanged_date"),
                f"{W}/last_update_posted",
            ),
        ),
        org_study_id=_tx(id_info.get("org_study_id")),
        secondary_ids=[SecondaryId(s) for s in _texts(study, "id_info/secondary_id")],
        nct_id_aliases=_texts(study, "id_info/nct_alias"),
        acronym=t("acronym"),
        brief_title=t("brief_title"),
        official_title=t("official_title"),
        overall_status=r.enum(Status, t("overall_status"), f"{W}/overall_status"),
        last_known_status=r.enum(Status, t("last_known_status"), f"{W}/last_known_status"),
        why_stopped=t("why_stopped"),
        status_verified=r.date(t("verification_date"), f"{W}/verification_date"),
        start_date=date("start_date"),
        primary_completion_date=date("primary_completion_date"),
        completion_date=date("completion_date"),
        first_posted=date("study_first_posted"),
        last_update_posted=date("last_update_posted"),
        results_first_posted=results_posted,
        sponsor=Organization(
            lead_name, r.enum(AgencyClass, _t(lead, "agency_class"), f"{W}/sponsors/lead_sponsor/agency_class")
        )
        if lead_name
        else None,
        collaborators=[
            Organization(
                cname,
                r.enum(AgencyClass, _t(c, "agency_class"), f"{W}/sponsors/collaborator[{i}]/agency_class"),
            )
            for i, c in enumerate(study.iterfind("sponsors/collaborator"), start=1)
            if (cname := _t(c, "agency"))
        ],
        responsible_party=_responsible_party(r, top.get("responsible_party"), f"{W}/responsible_party"),
        has_dmc=r.boolean(_tx(oversight.get("has_dmc")), f"{W}/oversight_info/has_dmc"),
        fda_regulated_drug=r.boolean(
            _tx(oversight.get("is_fda_regulated_drug")), f"{W}/oversight_info/is_fda_regulated_drug"
        ),
        fda_regulated_device=r.boolean(
            _tx(oversight.get("is_fda_regulated_device")), f"{W}/oversight_info/is_fda_regulated_device"
        ),
        brief_summary=_block(study, "brief_summary/textblock"),
        detailed_description=_block(study, "detailed_description/textblock"),
        conditions=[Condition(c) for c in _texts(study, "condition")],
        keywords=_texts(study, "keyword"),
        # "N/A" (withheld records) states no study type
        study_type=r.enum(StudyType, None if (study_type or "").lower() in _NA else study_type, f"{W}/study_type"),
        phases=phases,
        allocation=design["allocation"],
        intervention_model=design["intervention_model"],
        primary_purpose=design["primary_purpose"],
        masking=design["masking"],
        who_masked=design["who_masked"],
        observational_model=design["observational_model"],
        time_perspective=design["time_perspective"],
        enrollment_count=r.integer(enrol.text, f"{W}/enrollment") if enrol is not None else None,
        enrollment_type=r.enum(EnrollmentType, enrol.get("type"), f"{W}/enrollment/@type")
        if enrol is not None
        else None,
        arms=[
            Arm(
                label=label,
                type=r.enum(ArmType, _t(a, "arm_group_type"), f"{W}/arm_group[{i}]/arm_group_type"),
                description=_t(a, "description"),
            )
            for i, a in enumerate(study.iterfind("arm_group"), start=1)
            if (label := _t(a, "arm_group_label"))
        ],
        interventions=[
            Intervention(
                name=iname,
                type=r.enum(InterventionType, _t(iv, "intervention_type"), f"{W}/intervention[{i}]/intervention_type"),
                description=_t(iv, "description"),
                other_names=_texts(iv, "other_name"),
                arm_labels=_texts(iv, "arm_group_label"),
            )
            for i, iv in enumerate(study.iterfind("intervention"), start=1)
            if (iname := _t(iv, "intervention_name"))
        ],
        primary_outcomes=_outcomes(study, "primary_outcome"),
        secondary_outcomes=_outcomes(study, "secondary_outcome"),
        other_outcomes=_outcomes(study, "other_outcome"),
        eligibility=Eligibility(
            criteria=criteria,
            inclusion=inclusion,
            exclusion=exclusion,
            sex=r.enum(Sex, _t(elig, "gender"), f"{EL}/gender"),
            gender_based=r.boolean(_t(elig, "gender_based"), f"{EL}/gender_based"),
            min_age=r.age(_t(elig, "minimum_age"), f"{EL}/minimum_age"),
            max_age=r.age(_t(elig, "maximum_age"), f"{EL}/maximum_age"),
            healthy_volunteers=r.boolean(_t(elig, "healthy_volunteers"), f"{EL}/healthy_volunteers"),
        )
        if elig is not None
        else None,
        locations=[
            _location(r, loc, f"{W}/location[{i}]") for i, loc in enumerate(study.iterfind("location"), start=1)
        ],
        officials=[
            Official(
                name=oname,
                role=r.enum(OfficialRole, _tx(k.get("role")), f"{W}/overall_official[{i}]/role"),
                affiliation=_tx(k.get("affiliation")),
            )
            for i, k in enumerate(map(_kids, study.iterfind("overall_official")), start=1)
            if (oname := _person(k))
        ],
        contacts=[
            c
            for tag in ("overall_contact", "overall_contact_backup")
            for c in map(_contact, map(_kids, study.iterfind(tag)))
            if c is not None
        ],
        references=[
            Reference(pmid=_tx(k.get("PMID")), type=rtype, citation=_tx(k.get("citation")))
            # <reference> may be background or derived (the XML does not say): no type
            for tag, rtype in (("reference", None), ("results_reference", ReferenceType.RESULT))
            for k in map(_kids, study.iterfind(tag))
            if _tx(k.get("PMID")) or _tx(k.get("citation"))
        ],
        has_results=True if results_posted or "clinical_results" in top else None,
        condition_mesh_names=_texts(study, "condition_browse/mesh_term"),
        intervention_mesh_names=_texts(study, "intervention_browse/mesh_term"),
    )
    trial.source.notes.extend(r.notes)
    return trial


def _unredacted(r: FieldReader, name: str | None, where: str) -> str | None:
    """Withheld records name their sponsor "[Redacted]": that is no sponsor name."""
    if name is not None and name.lower() == _REDACTED:
        r.notes.append(f"{where}: redacted by the registry")  # a fact about the record, not a parse error
        return None
    return name


def _kids(el: Any) -> dict[str, Any]:
    """The first child element of each tag (one pass; faster than a path per field)."""
    kids: dict[str, Any] = {}
    for c in el:
        kids.setdefault(c.tag, c)
    return kids


def _tx(el: Any) -> str | None:
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def _location(r: FieldReader, loc: Any, where: str) -> Location:
    # Studies can list thousands of sites: read each with one pass per element.
    k = _kids(loc)
    facility = _kids(k["facility"]) if "facility" in k else {}
    address = _kids(facility["address"]) if "address" in facility else {}
    return Location(
        facility=_tx(facility.get("name")),
        city=_tx(address.get("city")),
        state=_tx(address.get("state")),
        zip=_tx(address.get("zip")),
        country=_tx(address.get("country")),
        status=r.enum(LocationStatus, _tx(k.get("status")), f"{where}/status"),
        contacts=[
            *(
                c
                for tag in ("contact", "contact_backup")
                if tag in k
                for c in map(_contact, map(_kids, loc.iterfind(tag)))
                if c is not None
            ),
            *(
                Contact(name=name, role=r.enum(ContactRole, _tx(inv.get("role")), f"{where}/investigator[{j}]/role"))
                for j, inv in enumerate(map(_kids, loc.iterfind("investigator")), start=1)
                if (name := _person(inv))
            ),
        ],
    )


def _outcomes(study: Any, tag: str) -> list[Outcome]:
    return [
        Outcome(measure=measure, time_frame=_tx(k.get("time_frame")), description=_tx(k.get("description")))
        for k in map(_kids, study.iterfind(tag))
        if (measure := _tx(k.get("measure")))
    ]


def _responsible_party(r: FieldReader, rp: Any, where: str) -> ResponsibleParty | None:
    if rp is None:
        return None
    party = ResponsibleParty(
        type=r.enum(ResponsiblePartyType, _t(rp, "responsible_party_type"), f"{where}/responsible_party_type"),
        investigator_name=_t(rp, "investigator_full_name"),
        investigator_title=_t(rp, "investigator_title"),
        investigator_affiliation=_t(rp, "investigator_affiliation"),
    )
    if party.type is None and not (
        party.investigator_name or party.investigator_title or party.investigator_affiliation
    ):
        return None
    return party


def _design(r: FieldReader, study: Any, W: str) -> dict[str, Any]:
    """The design fields from ``<study_design_info>``, or from the pre-2017
    one-line ``<study_design>`` ("Allocation: Randomized, Masking: ...")."""
    values: dict[str, tuple[str | None, str]] = {}
    info = study.find("study_design_info")
    if info is not None:
        D = f"{W}/study_design_info"
        for key, tag in (
            ("allocation", "allocation"),
            ("intervention_model", "intervention_model"),
            ("primary_purpose", "primary_purpose"),
            ("masking", "masking"),
            ("observational_model", "observational_model"),
            ("time_perspective", "time_perspective"),
        ):
            values[key] = (_t(info, tag), f"{D}/{tag}")
    else:
        line = _t(study, "study_design")
        if line:
            for part in _DESIGN_SPLIT.split(line):
                key, sep, value = part.partition(":")
                k = key.strip().lower().replace(" ", "_")
                if sep and k in {"allocation", "intervention_model", "primary_purpose", "masking",
                                 "observational_model", "time_perspective"}:  # fmt: skip
                    values[k] = (value.strip() or None, f"{W}/study_design")
                elif sep and k == "endpoint_classification":
                    pass  # no longer registered; the model has no field for it
                else:
                    r.problem(f"{W}/study_design", f"unrecognised design item {part.strip()!r}")

    def get(key: str) -> tuple[str | None, str]:
        return values.get(key, (None, f"{W}/study_design_info/{key}"))

    masking, who = _masking(r, *get("masking"))
    return {
        "allocation": r.enum(Allocation, *get("allocation")),
        "intervention_model": r.enum(InterventionModel, *get("intervention_model")),
        "primary_purpose": r.enum(PrimaryPurpose, *get("primary_purpose")),
        "masking": masking,
        "who_masked": who,
        "observational_model": r.enum(ObservationalModel, *get("observational_model")),
        "time_perspective": r.enum(TimePerspective, *get("time_perspective")),
    }


def _masking(r: FieldReader, value: str | None, where: str) -> tuple[Masking | None, list[WhoMasked]]:
    """ "Double (Participant, Investigator)" -> (DOUBLE, [PARTICIPANT, INVESTIGATOR])."""
    if value is None:
        return None, []
    try:  # "None (Open Label)", "Single", "Double Blind"
        return coerce(Masking, value), []
    except UnknownValue:
        pass
    m = _MASKING.match(value)
    if not m:
        r.problem(where, str(UnknownValue(Masking, value)))
        return None, []
    level = r.enum(Masking, m.group(1), where)
    who = r.enums(WhoMasked, [w.strip() for w in m.group(2).split(",") if w.strip()], where)
    return level, who
