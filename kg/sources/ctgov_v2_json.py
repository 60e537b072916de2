"""ClinicalTrials.gov API v2 JSON.

Accepted shapes: one study object; a JSON array of studies (the website's
download); an API search page ``{"studies": [...], "nextPageToken": ...}``.
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
    WhoMasked,
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
)
from kg.sources._common import FieldReader, dedupe, parse_file, sha256, split_criteria, text

FORMAT = SourceFormat.CTGOV_V2_JSON
DESCRIPTION = "ClinicalTrials.gov API v2 JSON (study, array of studies, or search page)"

_SNIFF = re.compile(rb'"protocolSection"\s*:')


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
    if isinstance(doc, dict) and isinstance(doc.get("studies"), list):
        studies, base = doc["studies"], "$.studies"
    elif isinstance(doc, list):
        studies, base = doc, "$"
    else:
        studies, base = [doc], None
    for i, study in enumerate(studies):
        where = f"{base}[{i}]" if base else "$"
        if not isinstance(study, dict):
            yield ParseError(name, "a study must be a JSON object", where=where)
            continue
        try:
            yield study_to_trial(study, name, where, checksum=_study_checksum(data, study, base), strict=strict)
        except ParseError as exc:
            yield exc


def _study_checksum(data: bytes, study: dict[str, Any], base: str | None) -> str:
    # A single-study file's checksum is the file's; a study inside an array is
    # checksummed on its canonical serialisation, so it is stable whatever its neighbours.
    if base is None:
        return sha256(data)
    return sha256(orjson.dumps(study, option=orjson.OPT_SORT_KEYS))


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def study_to_trial(study: dict[str, Any], file: str, where: str = "$", *, checksum: str, strict: bool = False) -> Trial:
    ps = study.get("protocolSection")
    if not isinstance(ps, dict):
        raise ParseError(file, "no protocolSection", where=where)
    ident = ps.get("identificationModule") or {}
    nct = text(ident.get("nctId"))
    if nct is None or not NCT_ID.match(nct):
        raise ParseError(
            file, f"missing or malformed nctId {nct!r}", where=f"{where}.protocolSection.identificationModule.nctId"
        )
    r = FieldReader(file, nct, strict=strict)
    P = f"{where}.protocolSection"

    status = ps.get("statusModule") or {}
    sponsor_mod = ps.get("sponsorCollaboratorsModule") or {}
    oversight = ps.get("oversightModule") or {}
    desc = ps.get("descriptionModule") or {}
    cond_mod = ps.get("conditionsModule") or {}
    design = ps.get("designModule") or {}
    info = design.get("designInfo") or {}
    masking = info.get("maskingInfo") or {}
    enrol = design.get("enrollmentInfo") or {}
    arms_mod = ps.get("armsInterventionsModule") or {}
    outcomes = ps.get("outcomesModule") or {}
    elig = ps.get("eligibilityModule") or {}
    cl = ps.get("contactsLocationsModule") or {}
    refs = ps.get("referencesModule") or {}
    derived = study.get("derivedSection") or {}

    S = f"{P}.statusModule"

    def date_struct(key: str) -> Any:
        s = status.get(key) or {}
        return r.date(s.get("date"), f"{S}.{key}.date", s.get("type"))

    lead = sponsor_mod.get("leadSponsor") or {}
    rp = sponsor_mod.get("responsibleParty")
    criteria = text(elig.get("eligibilityCriteria"))
    inclusion, exclusion = split_criteria(criteria)

    trial = Trial(
        nct_id=nct,
        source=Source(
            format=FORMAT,
            file=file,
            checksum=checksum,
            last_update=r.date(
                _get(status, "lastUpdatePostDateStruct", "date") or status.get("lastUpdateSubmitDate"),
                f"{S}.lastUpdatePostDateStruct.date",
            ),
        ),
        org_study_id=text(_get(ident, "orgStudyIdInfo", "id")),
        secondary_ids=[
            SecondaryId(str(s["id"]).strip(), text(s.get("type")), text(s.get("domain")))
            for s in ident.get("secondaryIdInfos") or []
            if isinstance(s, dict) and text(s.get("id"))
        ],
        nct_id_aliases=[a for a in (text(x) for x in ident.get("nctIdAliases") or []) if a],
        acronym=text(ident.get("acronym")),
        brief_title=text(ident.get("briefTitle")),
        official_title=text(ident.get("officialTitle")),
        overall_status=r.enum(Status, status.get("overallStatus"), f"{S}.overallStatus"),
        last_known_status=r.enum(Status, status.get("lastKnownStatus"), f"{S}.lastKnownStatus"),
        why_stopped=text(status.get("whyStopped")),
        status_verified=r.date(status.get("statusVerifiedDate"), f"{S}.statusVerifiedDate"),
        start_date=date_struct("startDateStruct"),
        primary_completion_date=date_struct("primaryCompletionDateStruct"),
        completion_date=date_struct("completionDateStruct"),
        first_posted=date_struct("studyFirstPostDateStruct"),
        last_update_posted=date_struct("lastUpdatePostDateStruct"),
        results_first_posted=date_struct("resultsFirstPostDateStruct"),
        sponsor=Organization(
            lead["name"].strip(),
            r.enum(AgencyClass, lead.get("class"), f"{P}.sponsorCollaboratorsModule.leadSponsor.class"),
        )
        if text(lead.get("name"))
        else None,
        collaborators=[
            Organization(
                c["name"].strip(),
                r.enum(AgencyClass, c.get("class"), f"{P}.sponsorCollaboratorsModule.collaborators[{i}].class"),
            )
            for i, c in enumerate(sponsor_mod.get("collaborators") or [])
            if isinstance(c, dict) and text(c.get("name"))
        ],
        responsible_party=ResponsibleParty(
            type=r.enum(ResponsiblePartyType, rp.get("type"), f"{P}.sponsorCollaboratorsModule.responsibleParty.type"),
            investigator_name=text(rp.get("investigatorFullName")),
            investigator_title=text(rp.get("investigatorTitle")),
            investigator_affiliation=text(rp.get("investigatorAffiliation")),
        )
        if isinstance(rp, dict) and rp
        else None,
        has_dmc=r.boolean(oversight.get("oversightHasDmc"), f"{P}.oversightModule.oversightHasDmc"),
        fda_regulated_drug=r.boolean(oversight.get("isFdaRegulatedDrug"), f"{P}.oversightModule.isFdaRegulatedDrug"),
        fda_regulated_device=r.boolean(
            oversight.get("isFdaRegulatedDevice"), f"{P}.oversightModule.isFdaRegulatedDevice"
        ),
        brief_summary=text(desc.get("briefSummary")),
        detailed_description=text(desc.get("detailedDescription")),
        conditions=[
            Condition(c) for c in dedupe([t for t in (text(x) for x in cond_mod.get("conditions") or []) if t])
        ],
        keywords=dedupe([t for t in (text(x) for x in cond_mod.get("keywords") or []) if t]),
        study_type=r.enum(StudyType, design.get("studyType"), f"{P}.designModule.studyType"),
        phases=sort_phases(r.enums(Phase, design.get("phases"), f"{P}.designModule.phases")),
        allocation=r.enum(Allocation, info.get("allocation"), f"{P}.designModule.designInfo.allocation"),
        intervention_model=r.enum(
            InterventionModel, info.get("interventionModel"), f"{P}.designModule.designInfo.interventionModel"
        ),
        primary_purpose=r.enum(
            PrimaryPurpose, info.get("primaryPurpose"), f"{P}.designModule.designInfo.primaryPurpose"
        ),
        masking=r.enum(Masking, masking.get("masking"), f"{P}.designModule.designInfo.maskingInfo.masking"),
        who_masked=r.enums(WhoMasked, masking.get("whoMasked"), f"{P}.designModule.designInfo.maskingInfo.whoMasked"),
        observational_model=r.enum(
            ObservationalModel, info.get("observationalModel"), f"{P}.designModule.designInfo.observationalModel"
        ),
        time_perspective=r.enum(
            TimePerspective, info.get("timePerspective"), f"{P}.designModule.designInfo.timePerspective"
        ),
        enrollment_count=r.integer(enrol.get("count"), f"{P}.designModule.enrollmentInfo.count"),
        enrollment_type=r.enum(EnrollmentType, enrol.get("type"), f"{P}.designModule.enrollmentInfo.type"),
        arms=[
            Arm(
                label=a["label"].strip(),
                type=r.enum(ArmType, a.get("type"), f"{P}.armsInterventionsModule.armGroups[{i}].type"),
                description=text(a.get("description")),
                intervention_names=dedupe([t for t in (text(x) for x in a.get("interventionNames") or []) if t]),
            )
            for i, a in enumerate(arms_mod.get("armGroups") or [])
            if isinstance(a, dict) and text(a.get("label"))
        ],
        interventions=[
            Intervention(
                name=iv["name"].strip(),
                type=r.enum(InterventionType, iv.get("type"), f"{P}.armsInterventionsModule.interventions[{i}].type"),
                description=text(iv.get("description")),
                other_names=dedupe([t for t in (text(x) for x in iv.get("otherNames") or []) if t]),
                arm_labels=dedupe([t for t in (text(x) for x in iv.get("armGroupLabels") or []) if t]),
            )
            for i, iv in enumerate(arms_mod.get("interventions") or [])
            if isinstance(iv, dict) and text(iv.get("name"))
        ],
        primary_outcomes=_outcomes(outcomes.get("primaryOutcomes")),
        secondary_outcomes=_outcomes(outcomes.get("secondaryOutcomes")),
        other_outcomes=_outcomes(outcomes.get("otherOutcomes")),
        eligibility=Eligibility(
            criteria=criteria,
            inclusion=inclusion,
            exclusion=exclusion,
            sex=r.enum(Sex, elig.get("sex"), f"{P}.eligibilityModule.sex"),
            gender_based=r.boolean(elig.get("genderBased"), f"{P}.eligibilityModule.genderBased"),
            min_age=r.age(elig.get("minimumAge"), f"{P}.eligibilityModule.minimumAge"),
            max_age=r.age(elig.get("maximumAge"), f"{P}.eligibilityModule.maximumAge"),
            healthy_volunteers=r.boolean(elig.get("healthyVolunteers"), f"{P}.eligibilityModule.healthyVolunteers"),
            std_ages=[t for t in (text(x) for x in elig.get("stdAges") or []) if t],
        )
        if elig
        else None,
        locations=[
            Location(
                facility=text(loc.get("facility")),
                city=text(loc.get("city")),
                state=text(loc.get("state")),
                zip=text(loc.get("zip")),
                country=text(loc.get("country")),
                status=r.enum(LocationStatus, loc.get("status"), f"{P}.contactsLocationsModule.locations[{i}].status"),
            )
            for i, loc in enumerate(cl.get("locations") or [])
            if isinstance(loc, dict)
        ],
        officials=[
            Official(
                name=o["name"].strip(),
                role=r.enum(OfficialRole, o.get("role"), f"{P}.contactsLocationsModule.overallOfficials[{i}].role"),
                affiliation=text(o.get("affiliation")),
            )
            for i, o in enumerate(cl.get("overallOfficials") or [])
            if isinstance(o, dict) and text(o.get("name"))
        ],
        contacts=[
            Contact(
                name=text(c.get("name")),
                role=r.enum(ContactRole, c.get("role"), f"{P}.contactsLocationsModule.centralContacts[{i}].role"),
                phone=text(c.get("phone")),
                email=text(c.get("email")),
            )
            for i, c in enumerate(cl.get("centralContacts") or [])
            if isinstance(c, dict)
        ],
        references=[
            Reference(
                pmid=text(ref.get("pmid")),
                type=r.enum(ReferenceType, ref.get("type"), f"{P}.referencesModule.references[{i}].type"),
                citation=text(ref.get("citation")),
            )
            for i, ref in enumerate(refs.get("references") or [])
            if isinstance(ref, dict)
        ],
        condition_mesh=_mesh(
            r, _get(derived, "conditionBrowseModule", "meshes"), f"{where}.derivedSection.conditionBrowseModule.meshes"
        ),
        condition_mesh_ancestors=_mesh(
            r,
            _get(derived, "conditionBrowseModule", "ancestors"),
            f"{where}.derivedSection.conditionBrowseModule.ancestors",
        ),
        intervention_mesh=_mesh(
            r,
            _get(derived, "interventionBrowseModule", "meshes"),
            f"{where}.derivedSection.interventionBrowseModule.meshes",
        ),
        intervention_mesh_ancestors=_mesh(
            r,
            _get(derived, "interventionBrowseModule", "ancestors"),
            f"{where}.derivedSection.interventionBrowseModule.ancestors",
        ),
        has_results=r.boolean(study.get("hasResults"), f"{where}.hasResults"),
    )
    trial.source.notes.extend(r.notes)
    return trial


def _outcomes(items: Any) -> list[Outcome]:
    return [
        Outcome(
            measure=o["measure"].strip(), time_frame=text(o.get("timeFrame")), description=text(o.get("description"))
        )
        for o in items or []
        if isinstance(o, dict) and text(o.get("measure"))
    ]


def _mesh(r: FieldReader, items: Any, where: str) -> list[MeshTerm]:
    out: list[MeshTerm] = []
    seen: set[str] = set()
    for i, m in enumerate(items or []):
        if not isinstance(m, dict):
            continue
        mid = r.mesh_id(m.get("id"), f"{where}[{i}].id")
        if mid and mid not in seen:
            seen.add(mid)
            out.append(MeshTerm(mid, text(m.get("term"))))
    return out
