"""ClinicalTrials.gov classic API full-study JSON (the PascalCase API retired in June 2024).

Accepted shapes: one study object (``{"ProtocolSection": ..., "DerivedSection": ...}``);
``{"Study": {...}}``; ``{"FullStudy": {"Study": {...}}}``; an API page
``{"FullStudiesResponse": {"FullStudies": [{"Rank": 1, "Study": {...}}, ...]}}``; and a
JSON array of any of these.

Values are display spellings ("Phase 1", "Active, not recruiting", "Anticipated",
``"EnrollmentCount": "60"``, "May 2019") mapped onto :mod:`kg.enums` with the alias
tables. Lists are wrapped (``ConditionList.Condition[]``). ``DerivedSection`` and
``PhaseList`` may be missing. The classic API has no ``hasResults`` flag:
``has_results`` is True when results were posted (a results first-posted date or a
results module) and None otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

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
    Phase,
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
    parse_phases,
    sort_phases,
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
    MeshTerm,
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
from kg.sources._common import (
    FieldReader,
    JsonFields,
    dedupe,
    dig,
    internal_error,
    json_kind,
    parse_file,
    sha256,
    split_criteria,
)

FORMAT = SourceFormat.CTGOV_CLASSIC_JSON
DESCRIPTION = "ClinicalTrials.gov classic API full-study JSON (study, FullStudy, FullStudiesResponse, or array)"

_SNIFF = re.compile(rb'"(?:ProtocolSection|FullStudiesResponse)"\s*:')

# ResultsSection modules that mean results were posted (MoreInfoModule alone does not).
_RESULTS_MODULES = (
    "ParticipantFlowModule",
    "BaselineCharacteristicsModule",
    "OutcomeMeasuresModule",
    "AdverseEventsModule",
)


def sniff(head: bytes) -> bool:
    stripped = head.lstrip()
    return stripped[:1] in (b"{", b"[") and _SNIFF.search(head) is not None


def parse(path: str | Path) -> Iterator[Trial]:
    """Parse a file, raising the first error."""
    return parse_file(path, records)


def records(data: bytes, name: str, *, strict: bool = False) -> Iterator[Trial | ParseError]:
    """Yield a Trial (or a ParseError) per study in ``data``; one bad study does
    not stop the others."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        yield ParseError(name, f"invalid JSON: {exc}")
        return
    # A lone study (bare or wrapped in Study / FullStudy) is checksummed on the file's
    # bytes; a study inside an array or a FullStudiesResponse on its canonical form.
    whole_file = isinstance(doc, dict) and "FullStudiesResponse" not in doc
    for item in _studies(doc, name, "$"):
        if isinstance(item, ParseError):
            yield item
            continue
        where, study = item
        checksum = sha256(data) if whole_file else sha256(orjson.dumps(study, option=orjson.OPT_SORT_KEYS))
        try:
            yield study_to_trial(study, name, where, checksum=checksum, strict=strict)
        except ParseError as exc:
            yield exc
        except Exception as exc:
            yield internal_error(name, exc, where=where)


def _studies(node: Any, file: str, where: str, *, top: bool = True) -> Iterator[tuple[str, dict] | ParseError]:
    """Unwrap the accepted shapes into (JSON path, Study object) pairs."""
    if isinstance(node, list) and top:
        for i, x in enumerate(node):
            yield from _studies(x, file, f"{where}[{i}]", top=False)
        return
    if not isinstance(node, dict):
        yield ParseError(file, f"expected a study object, found {json_kind(node)}", where=where)
        return
    if "ProtocolSection" in node:
        yield where, node
    elif "FullStudiesResponse" in node:
        fsr = node["FullStudiesResponse"]
        w = f"{where}.FullStudiesResponse"
        if not isinstance(fsr, dict):
            yield ParseError(file, f"expected an object, found {json_kind(fsr)}", where=w)
            return
        studies = fsr.get("FullStudies")
        if studies is None:  # a page with no hits
            return
        if not isinstance(studies, list):
            yield ParseError(file, f"expected an array, found {json_kind(studies)}", where=f"{w}.FullStudies")
            return
        for i, x in enumerate(studies):
            yield from _studies(x, file, f"{w}.FullStudies[{i}]", top=False)
    elif "FullStudy" in node:
        yield from _studies(node["FullStudy"], file, f"{where}.FullStudy", top=False)
    elif "Study" in node:
        yield from _studies(node["Study"], file, f"{where}.Study", top=False)
    else:
        yield ParseError(file, "not a classic full-study record: no ProtocolSection", where=where)


def _date(f: JsonFields, status: dict, name: str, where: str) -> TrialDate | None:
    """A ``<name>Struct`` holding ``<name>`` and ``<name>Type``."""
    struct = f.obj(status, f"{name}Struct", where)
    w = f"{where}.{name}Struct"
    return f.r.date(f.s(struct, name, w), f"{w}.{name}", (f.s(struct, f"{name}Type", w), f"{w}.{name}Type"))


def study_to_trial(study: dict[str, Any], file: str, where: str = "$", *, checksum: str, strict: bool = False) -> Trial:
    ps = study.get("ProtocolSection")
    P = f"{where}.ProtocolSection"
    if not isinstance(ps, dict):
        raise ParseError(file, f"ProtocolSection must be an object, found {json_kind(ps)}", where=P)
    ident = ps.get("IdentificationModule")
    nct = dig(ident, "NCTId")
    nct = nct.strip() if isinstance(nct, str) else nct
    if not isinstance(nct, str) or not NCT_ID.match(nct):
        raise ParseError(file, f"missing or malformed NCTId {nct!r}", where=f"{P}.IdentificationModule.NCTId")
    r = FieldReader(file, nct, strict=strict)
    f = JsonFields(r)

    ident = f.obj(ps, "IdentificationModule", P)
    status = f.obj(ps, "StatusModule", P)
    sponsor_mod = f.obj(ps, "SponsorCollaboratorsModule", P)
    oversight = f.obj(ps, "OversightModule", P)
    desc = f.obj(ps, "DescriptionModule", P)
    cond_mod = f.obj(ps, "ConditionsModule", P)
    design = f.obj(ps, "DesignModule", P)
    info = f.obj(design, "DesignInfo", f"{P}.DesignModule")
    masking = f.obj(info, "DesignMaskingInfo", f"{P}.DesignModule.DesignInfo")
    enrol = f.obj(design, "EnrollmentInfo", f"{P}.DesignModule")
    arms_mod = f.obj(ps, "ArmsInterventionsModule", P)
    outcomes = f.obj(ps, "OutcomesModule", P)
    elig = f.obj(ps, "EligibilityModule", P)
    cl = f.obj(ps, "ContactsLocationsModule", P)
    refs = f.obj(ps, "ReferencesModule", P)
    derived = f.obj(study, "DerivedSection", where)
    results = f.obj(study, "ResultsSection", where)

    ID = f"{P}.IdentificationModule"
    S = f"{P}.StatusModule"
    SC = f"{P}.SponsorCollaboratorsModule"
    OV = f"{P}.OversightModule"
    D = f"{P}.DesignModule"
    DI = f"{D}.DesignInfo"
    DM = f"{DI}.DesignMaskingInfo"
    AI = f"{P}.ArmsInterventionsModule"
    E = f"{P}.EligibilityModule"
    CL = f"{P}.ContactsLocationsModule"

    lead = f.obj(sponsor_mod, "LeadSponsor", SC)
    lead_name = f.s(lead, "LeadSponsorName", f"{SC}.LeadSponsor")
    if lead_name is not None and lead_name.lower() == "[redacted]":  # withheld records
        r.notes.append(f"{SC}.LeadSponsor.LeadSponsorName: redacted by the registry")
        lead_name = None
    rp = f.obj(sponsor_mod, "ResponsibleParty", SC)
    criteria = f.s(elig, "EligibilityCriteria", E)
    inclusion, exclusion = split_criteria(criteria)
    results_posted = _date(f, status, "ResultsFirstPostDate", S)

    phases: list[Phase] = []
    for w, v in f.items(design, "PhaseList", "Phase", D):
        if not isinstance(v, str):
            r.problem(w, f"expected a string, found {json_kind(v)}")
            continue
        try:
            phases.extend(parse_phases(v))
        except UnknownValue as exc:
            r.problem(w, str(exc))

    trial = Trial(
        nct_id=nct,
        source=Source(
            format=FORMAT,
            file=file,
            checksum=checksum,
            last_update=r.date(
                f.s(f.obj(status, "LastUpdatePostDateStruct", S), "LastUpdatePostDate", f"{S}.LastUpdatePostDateStruct")
                or f.s(status, "LastUpdateSubmitDate", S),
                f"{S}.LastUpdatePostDateStruct.LastUpdatePostDate",
            ),
        ),
        org_study_id=f.s(f.obj(ident, "OrgStudyIdInfo", ID), "OrgStudyId", f"{ID}.OrgStudyIdInfo"),
        secondary_ids=[
            SecondaryId(sid, f.s(s, "SecondaryIdType", w), f.s(s, "SecondaryIdDomain", w))
            for w, s in f.objs(ident, "SecondaryIdInfoList", "SecondaryIdInfo", ID)
            if (sid := f.s(s, "SecondaryId", w))
        ],
        nct_id_aliases=f.strs(ident, "NCTIdAliasList", "NCTIdAlias", ID),
        acronym=f.s(ident, "Acronym", ID),
        brief_title=f.s(ident, "BriefTitle", ID),
        official_title=f.s(ident, "OfficialTitle", ID),
        overall_status=r.enum(Status, f.s(status, "OverallStatus", S), f"{S}.OverallStatus"),
        last_known_status=r.enum(Status, f.s(status, "LastKnownStatus", S), f"{S}.LastKnownStatus"),
        why_stopped=f.s(status, "WhyStopped", S),
        status_verified=r.date(f.s(status, "StatusVerifiedDate", S), f"{S}.StatusVerifiedDate"),
        start_date=_date(f, status, "StartDate", S),
        primary_completion_date=_date(f, status, "PrimaryCompletionDate", S),
        completion_date=_date(f, status, "CompletionDate", S),
        first_posted=_date(f, status, "StudyFirstPostDate", S),
        last_update_posted=_date(f, status, "LastUpdatePostDate", S),
        results_first_posted=results_posted,
        sponsor=Organization(
            lead_name,
            r.enum(
                AgencyClass, f.s(lead, "LeadSponsorClass", f"{SC}.LeadSponsor"), f"{SC}.LeadSponsor.LeadSponsorClass"
            ),
        )
        if lead_name
        else None,
        collaborators=[
            Organization(cname, r.enum(AgencyClass, f.s(c, "CollaboratorClass", w), f"{w}.CollaboratorClass"))
            for w, c in f.objs(sponsor_mod, "CollaboratorList", "Collaborator", SC)
            if (cname := f.s(c, "CollaboratorName", w))
        ],
        responsible_party=_responsible_party(f, rp, f"{SC}.ResponsibleParty"),
        has_dmc=r.boolean(f.s(oversight, "OversightHasDMC", OV), f"{OV}.OversightHasDMC"),
        fda_regulated_drug=r.boolean(f.s(oversight, "IsFDARegulatedDrug", OV), f"{OV}.IsFDARegulatedDrug"),
        fda_regulated_device=r.boolean(f.s(oversight, "IsFDARegulatedDevice", OV), f"{OV}.IsFDARegulatedDevice"),
        brief_summary=f.s(desc, "BriefSummary", f"{P}.DescriptionModule"),
        detailed_description=f.s(desc, "DetailedDescription", f"{P}.DescriptionModule"),
        conditions=[Condition(c) for c in f.strs(cond_mod, "ConditionList", "Condition", f"{P}.ConditionsModule")],
        keywords=f.strs(cond_mod, "KeywordList", "Keyword", f"{P}.ConditionsModule"),
        study_type=r.enum(StudyType, f.s(design, "StudyType", D), f"{D}.StudyType"),
        phases=sort_phases(phases),
        allocation=r.enum(Allocation, f.s(info, "DesignAllocation", DI), f"{DI}.DesignAllocation"),
        intervention_model=r.enum(
            InterventionModel, f.s(info, "DesignInterventionModel", DI), f"{DI}.DesignInterventionModel"
        ),
        primary_purpose=r.enum(PrimaryPurpose, f.s(info, "DesignPrimaryPurpose", DI), f"{DI}.DesignPrimaryPurpose"),
        masking=r.enum(Masking, f.s(masking, "DesignMasking", DM), f"{DM}.DesignMasking"),
        who_masked=r.enums(
            WhoMasked, f.strs(masking, "DesignWhoMaskedList", "DesignWhoMasked", DM), f"{DM}.DesignWhoMaskedList"
        ),
        observational_model=_first(
            r,
            r.enums(
                ObservationalModel,
                f.strs(info, "DesignObservationalModelList", "DesignObservationalModel", DI),
                f"{DI}.DesignObservationalModelList.DesignObservationalModel",
            ),
            f"{DI}.DesignObservationalModelList.DesignObservationalModel",
        ),
        time_perspective=_first(
            r,
            r.enums(
                TimePerspective,
                f.strs(info, "DesignTimePerspectiveList", "DesignTimePerspective", DI),
                f"{DI}.DesignTimePerspectiveList.DesignTimePerspective",
            ),
            f"{DI}.DesignTimePerspectiveList.DesignTimePerspective",
        ),
        enrollment_count=r.integer(
            f.s(enrol, "EnrollmentCount", f"{D}.EnrollmentInfo"), f"{D}.EnrollmentInfo.EnrollmentCount"
        ),
        enrollment_type=r.enum(
            EnrollmentType, f.s(enrol, "EnrollmentType", f"{D}.EnrollmentInfo"), f"{D}.EnrollmentInfo.EnrollmentType"
        ),
        arms=[
            Arm(
                label=label,
                type=r.enum(ArmType, f.s(a, "ArmGroupType", w), f"{w}.ArmGroupType"),
                description=f.s(a, "ArmGroupDescription", w),
                intervention_names=f.strs(a, "ArmGroupInterventionList", "ArmGroupInterventionName", w),
            )
            for w, a in f.objs(arms_mod, "ArmGroupList", "ArmGroup", AI)
            if (label := f.s(a, "ArmGroupLabel", w))
        ],
        interventions=[
            Intervention(
                name=iname,
                type=r.enum(InterventionType, f.s(iv, "InterventionType", w), f"{w}.InterventionType"),
                description=f.s(iv, "InterventionDescription", w),
                other_names=f.strs(iv, "InterventionOtherNameList", "InterventionOtherName", w),
                arm_labels=f.strs(iv, "InterventionArmGroupLabelList", "InterventionArmGroupLabel", w),
            )
            for w, iv in f.objs(arms_mod, "InterventionList", "Intervention", AI)
            if (iname := f.s(iv, "InterventionName", w))
        ],
        primary_outcomes=_outcomes(f, outcomes, "Primary", f"{P}.OutcomesModule"),
        secondary_outcomes=_outcomes(f, outcomes, "Secondary", f"{P}.OutcomesModule"),
        other_outcomes=_outcomes(f, outcomes, "Other", f"{P}.OutcomesModule"),
        eligibility=Eligibility(
            criteria=criteria,
            inclusion=inclusion,
            exclusion=exclusion,
            sex=r.enum(Sex, f.s(elig, "Gender", E), f"{E}.Gender"),
            gender_based=r.boolean(f.s(elig, "GenderBased", E), f"{E}.GenderBased"),
            min_age=r.age(f.s(elig, "MinimumAge", E), f"{E}.MinimumAge"),
            max_age=r.age(f.s(elig, "MaximumAge", E), f"{E}.MaximumAge"),
            healthy_volunteers=r.boolean(f.s(elig, "HealthyVolunteers", E), f"{E}.HealthyVolunteers"),
            # "Older Adult" -> "OLDER_ADULT", the spelling the v2 API uses
            std_ages=dedupe([a.upper().replace(" ", "_") for a in f.strs(elig, "StdAgeList", "StdAge", E)]),
        )
        if elig
        else None,
        locations=[
            Location(
                facility=f.s(loc, "LocationFacility", w),
                city=f.s(loc, "LocationCity", w),
                state=f.s(loc, "LocationState", w),
                zip=f.s(loc, "LocationZip", w),
                country=f.s(loc, "LocationCountry", w),
                status=r.enum(LocationStatus, f.s(loc, "LocationStatus", w), f"{w}.LocationStatus"),
                contacts=[
                    Contact(
                        name=f.s(c, "LocationContactName", cw),
                        role=r.enum(ContactRole, f.s(c, "LocationContactRole", cw), f"{cw}.LocationContactRole"),
                        phone=_phone(f.s(c, "LocationContactPhone", cw), f.s(c, "LocationContactPhoneExt", cw)),
                        email=f.s(c, "LocationContactEMail", cw),
                    )
                    for cw, c in f.objs(loc, "LocationContactList", "LocationContact", w)
                ],
            )
            for w, loc in f.objs(cl, "LocationList", "Location", CL)
        ],
        officials=[
            Official(
                name=oname,
                role=r.enum(OfficialRole, f.s(o, "OverallOfficialRole", w), f"{w}.OverallOfficialRole"),
                affiliation=f.s(o, "OverallOfficialAffiliation", w),
            )
            for w, o in f.objs(cl, "OverallOfficialList", "OverallOfficial", CL)
            if (oname := f.s(o, "OverallOfficialName", w))
        ],
        contacts=[
            Contact(
                name=f.s(c, "CentralContactName", w),
                role=r.enum(ContactRole, f.s(c, "CentralContactRole", w), f"{w}.CentralContactRole"),
                phone=_phone(f.s(c, "CentralContactPhone", w), f.s(c, "CentralContactPhoneExt", w)),
                email=f.s(c, "CentralContactEMail", w),
            )
            for w, c in f.objs(cl, "CentralContactList", "CentralContact", CL)
        ],
        references=[
            Reference(
                pmid=f.s(ref, "ReferencePMID", w),
                type=r.enum(ReferenceType, f.s(ref, "ReferenceType", w), f"{w}.ReferenceType"),
                citation=f.s(ref, "ReferenceCitation", w),
            )
            for w, ref in f.objs(refs, "ReferenceList", "Reference", f"{P}.ReferencesModule")
        ],
        condition_mesh=_mesh(f, derived, "Condition", "Mesh", f"{where}.DerivedSection"),
        condition_mesh_ancestors=_mesh(f, derived, "Condition", "Ancestor", f"{where}.DerivedSection"),
        intervention_mesh=_mesh(f, derived, "Intervention", "Mesh", f"{where}.DerivedSection"),
        intervention_mesh_ancestors=_mesh(f, derived, "Intervention", "Ancestor", f"{where}.DerivedSection"),
        has_results=True if results_posted or any(results.get(m) for m in _RESULTS_MODULES) else None,
    )
    trial.source.notes.extend(r.notes)
    return trial


def _first(r: FieldReader, values: list[Any], where: str) -> Any:
    """The model holds one value where the classic API has a list; keep the first."""
    if len(values) > 1:
        r.problem(where, f"{len(values)} values, only the first ({values[0]}) is kept")
    return values[0] if values else None


def _phone(phone: str | None, ext: str | None) -> str | None:
    if phone and ext:
        return f"{phone} ext. {ext}"
    return phone


def _responsible_party(f: JsonFields, rp: dict, where: str) -> ResponsibleParty | None:
    party = ResponsibleParty(
        type=f.r.enum(ResponsiblePartyType, f.s(rp, "ResponsiblePartyType", where), f"{where}.ResponsiblePartyType"),
        investigator_name=f.s(rp, "ResponsiblePartyInvestigatorFullName", where),
        investigator_title=f.s(rp, "ResponsiblePartyInvestigatorTitle", where),
        investigator_affiliation=f.s(rp, "ResponsiblePartyInvestigatorAffiliation", where),
    )
    if party.type is None and not (
        party.investigator_name or party.investigator_title or party.investigator_affiliation
    ):
        return None
    return party


def _outcomes(f: JsonFields, module: dict, kind: str, where: str) -> list[Outcome]:
    """``<kind>OutcomeList.<kind>Outcome[]`` with ``<kind>OutcomeMeasure`` etc."""
    key = f"{kind}Outcome"
    return [
        Outcome(measure=measure, time_frame=f.s(o, f"{key}TimeFrame", w), description=f.s(o, f"{key}Description", w))
        for w, o in f.objs(module, f"{key}List", key, where)
        if (measure := f.s(o, f"{key}Measure", w))
    ]


def _mesh(f: JsonFields, derived: dict, kind: str, what: str, where: str) -> list[MeshTerm]:
    """``<kind>BrowseModule.<kind><what>List.<kind><what>[]`` with ``...Id`` and ``...Term``."""
    browse_key = f"{kind}BrowseModule"
    browse = f.obj(derived, browse_key, where)
    key = f"{kind}{what}"
    out: list[MeshTerm] = []
    seen: set[str] = set()
    for w, m in f.objs(browse, f"{key}List", key, f"{where}.{browse_key}"):
        mid = f.r.mesh_id(f.s(m, f"{key}Id", w), f"{w}.{key}Id")
        if mid and mid not in seen:
            seen.add(mid)
            out.append(MeshTerm(mid, f.s(m, f"{key}Term", w)))
    return out
