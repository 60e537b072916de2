"""ClinicalTrials.gov API v2 JSON.

Accepted shapes: one study object; a JSON array of studies (the website's
download); an API search page ``{"studies": [...], "nextPageToken": ...}`` (one with no
hits reads as no trials); an array of search pages; JSON Lines of any of these (one
document per line, as ``jq -c '.studies[]'`` writes them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
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
    TrialDate,
)
from kg.sources._common import (
    FieldReader,
    JsonFields,
    dig,
    internal_error,
    json_kind,
    parse_file,
    sha256,
    split_criteria,
)

FORMAT = SourceFormat.CTGOV_V2_JSON
DESCRIPTION = "ClinicalTrials.gov API v2 JSON (study, array of studies, search page, or array of pages)"

_SNIFF = re.compile(rb'"protocolSection"\s*:')


#: The keys of an API v2 search page (``GET /api/v2/studies``).
_PAGE_KEYS = frozenset(("studies", "nextPageToken", "totalCount"))


def sniff(head: bytes) -> bool:
    stripped = head.lstrip()
    if stripped[:1] not in (b"{", b"["):
        return False
    return _SNIFF.search(head) is not None or _is_empty_page(stripped)


def _is_empty_page(head: bytes) -> bool:
    """A search page with no hits (``{"studies": [], "totalCount": 0}``): it names no
    protocolSection, but it is an answer of the API, not a file of another kind."""
    if not head.startswith(b"{") or len(head) > 4096:
        return False
    try:
        doc = orjson.loads(head)
    except orjson.JSONDecodeError:
        return False
    return isinstance(doc, dict) and doc.get("studies") == [] and set(doc) <= _PAGE_KEYS


def parse(path: str | Path) -> Iterator[Trial]:
    """Parse a file, raising the first error."""
    return parse_file(path, records)


def records(data: bytes, name: str, *, strict: bool = False) -> Iterator[Trial | ParseError]:
    """Yield a Trial (or a ParseError) per study in ``data``; one bad study does
    not stop the others."""
    try:
        found: Iterable[tuple[str, object] | ParseError] = _studies(orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        lines = data.split(b"\n")
        if not _is_json_lines(lines):
            yield ParseError(name, f"invalid JSON: {exc}")
            return
        found = _json_lines(lines, name)
    for item in found:
        if isinstance(item, ParseError):
            yield item
            continue
        where, study = item
        if not isinstance(study, dict):
            yield ParseError(name, f"a study must be a JSON object, found {json_kind(study)}", where=where)
            continue
        try:
            yield study_to_trial(study, name, where, checksum=_study_checksum(data, study, where), strict=strict)
        except ParseError as exc:
            yield exc
        except Exception as exc:
            yield internal_error(name, exc, where=where)


def _is_json_lines(lines: list[bytes]) -> bool:
    """JSON Lines: one document per line (``jq -c '.studies[]'``), more than one line."""
    documents = [ln for ln in lines if ln.strip()]
    return len(documents) > 1 and all(ln.lstrip().startswith((b"{", b"[")) for ln in documents)


def _json_lines(lines: list[bytes], name: str) -> Iterator[tuple[str, object] | ParseError]:
    """The studies of each line, their paths prefixed with the line number; a line
    that is not JSON is an error of its own and the other lines go on."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield ParseError(name, f"invalid JSON: {exc}", where=f"line {number}")
            continue
        for where, study in _studies(doc):
            yield f"line {number}: {where}", study


def _page_studies(node: object) -> list[object] | None:
    """The studies of a search page; None when ``node`` is not one."""
    if isinstance(node, dict) and "protocolSection" not in node and isinstance(studies := node.get("studies"), list):
        return studies
    return None


def _studies(doc: object) -> Iterator[tuple[str, object]]:
    """Each study of a document with its JSON path: a lone study; a search page; an
    array of studies; or an array of search pages (pages saved one after another)."""
    if (studies := _page_studies(doc)) is not None:
        yield from ((f"$.studies[{i}]", x) for i, x in enumerate(studies))
    elif isinstance(doc, list):
        for i, item in enumerate(doc):
            if (studies := _page_studies(item)) is not None:
                yield from ((f"$[{i}].studies[{j}]", x) for j, x in enumerate(studies))
            else:
                yield f"$[{i}]", item
    else:
        yield "$", doc


def _study_checksum(data: bytes, study: dict[str, Any], where: str) -> str:
    # A single-study file's checksum is the file's; a study inside an array is
    # checksummed on its canonical serialisation, so it is stable whatever its neighbours.
    if where == "$":
        return sha256(data)
    return sha256(orjson.dumps(study, option=orjson.OPT_SORT_KEYS))


def study_to_trial(study: dict[str, Any], file: str, where: str = "$", *, checksum: str, strict: bool = False) -> Trial:
    P = f"{where}.protocolSection"
    ps = study.get("protocolSection")
    if ps is None:
        raise ParseError(file, "no protocolSection: not an API v2 study", where=P)
    if not isinstance(ps, dict):
        raise ParseError(file, f"protocolSection must be an object, found {json_kind(ps)}", where=P)
    nct = dig(ps, "identificationModule", "nctId")
    nct = nct.strip() if isinstance(nct, str) else nct
    if not isinstance(nct, str) or not NCT_ID.match(nct):
        raise ParseError(file, f"missing or malformed nctId {nct!r}", where=f"{P}.identificationModule.nctId")
    r = FieldReader(file, nct, strict=strict)
    f = JsonFields(r)

    ID = f"{P}.identificationModule"
    S = f"{P}.statusModule"
    SC = f"{P}.sponsorCollaboratorsModule"
    OV = f"{P}.oversightModule"
    DE = f"{P}.descriptionModule"
    C = f"{P}.conditionsModule"
    D = f"{P}.designModule"
    DI = f"{D}.designInfo"
    DM = f"{DI}.maskingInfo"
    EN = f"{D}.enrollmentInfo"
    AI = f"{P}.armsInterventionsModule"
    OM = f"{P}.outcomesModule"
    E = f"{P}.eligibilityModule"
    CL = f"{P}.contactsLocationsModule"
    R = f"{P}.referencesModule"
    DS = f"{where}.derivedSection"

    ident = f.obj(ps, "identificationModule", P)
    status = f.obj(ps, "statusModule", P)
    sponsor_mod = f.obj(ps, "sponsorCollaboratorsModule", P)
    oversight = f.obj(ps, "oversightModule", P)
    desc = f.obj(ps, "descriptionModule", P)
    cond_mod = f.obj(ps, "conditionsModule", P)
    design = f.obj(ps, "designModule", P)
    info = f.obj(design, "designInfo", D)
    masking = f.obj(info, "maskingInfo", DI)
    enrol = f.obj(design, "enrollmentInfo", D)
    arms_mod = f.obj(ps, "armsInterventionsModule", P)
    outcomes = f.obj(ps, "outcomesModule", P)
    elig = f.obj(ps, "eligibilityModule", P)
    cl = f.obj(ps, "contactsLocationsModule", P)
    refs = f.obj(ps, "referencesModule", P)
    derived = f.obj(study, "derivedSection", where)
    cond_browse = f.obj(derived, "conditionBrowseModule", DS)
    iv_browse = f.obj(derived, "interventionBrowseModule", DS)

    def date_struct(key: str) -> TrialDate | None:
        struct = f.obj(status, key, S)
        w = f"{S}.{key}"
        return r.date(f.s(struct, "date", w), f"{w}.date", (f.s(struct, "type", w), f"{w}.type"))

    lead = f.obj(sponsor_mod, "leadSponsor", SC)
    lead_name = f.s(lead, "name", f"{SC}.leadSponsor")
    rp = f.obj(sponsor_mod, "responsibleParty", SC)
    RP = f"{SC}.responsibleParty"
    criteria = f.s(elig, "eligibilityCriteria", E)
    inclusion, exclusion = split_criteria(criteria)

    trial = Trial(
        nct_id=nct,
        source=Source(
            format=FORMAT,
            file=file,
            checksum=checksum,
            last_update=r.date(
                f.s(f.obj(status, "lastUpdatePostDateStruct", S), "date", f"{S}.lastUpdatePostDateStruct")
                or f.s(status, "lastUpdateSubmitDate", S),
                f"{S}.lastUpdatePostDateStruct.date",
            ),
        ),
        org_study_id=f.s(f.obj(ident, "orgStudyIdInfo", ID), "id", f"{ID}.orgStudyIdInfo"),
        secondary_ids=[
            SecondaryId(sid, f.s(s, "type", w), f.s(s, "domain", w))
            for w, s in f.objs_of(f.arr(ident, "secondaryIdInfos", ID))
            if (sid := f.s(s, "id", w))
        ],
        nct_id_aliases=f.strs_of(f.arr(ident, "nctIdAliases", ID)),
        acronym=f.s(ident, "acronym", ID),
        brief_title=f.s(ident, "briefTitle", ID),
        official_title=f.s(ident, "officialTitle", ID),
        overall_status=r.enum(Status, f.s(status, "overallStatus", S), f"{S}.overallStatus"),
        last_known_status=r.enum(Status, f.s(status, "lastKnownStatus", S), f"{S}.lastKnownStatus"),
        why_stopped=f.s(status, "whyStopped", S),
        status_verified=r.date(f.s(status, "statusVerifiedDate", S), f"{S}.statusVerifiedDate"),
        start_date=date_struct("startDateStruct"),
        primary_completion_date=date_struct("primaryCompletionDateStruct"),
        completion_date=date_struct("completionDateStruct"),
        first_posted=date_struct("studyFirstPostDateStruct"),
        last_update_posted=date_struct("lastUpdatePostDateStruct"),
        results_first_posted=date_struct("resultsFirstPostDateStruct"),
        sponsor=Organization(
            lead_name, r.enum(AgencyClass, f.s(lead, "class", f"{SC}.leadSponsor"), f"{SC}.leadSponsor.class")
        )
        if lead_name
        else None,
        collaborators=[
            Organization(cname, r.enum(AgencyClass, f.s(c, "class", w), f"{w}.class"))
            for w, c in f.objs_of(f.arr(sponsor_mod, "collaborators", SC))
            if (cname := f.s(c, "name", w))
        ],
        responsible_party=ResponsibleParty(
            type=r.enum(ResponsiblePartyType, f.s(rp, "type", RP), f"{RP}.type"),
            investigator_name=f.s(rp, "investigatorFullName", RP),
            investigator_title=f.s(rp, "investigatorTitle", RP),
            investigator_affiliation=f.s(rp, "investigatorAffiliation", RP),
        )
        if rp
        else None,
        has_dmc=r.boolean(oversight.get("oversightHasDmc"), f"{OV}.oversightHasDmc"),
        fda_regulated_drug=r.boolean(oversight.get("isFdaRegulatedDrug"), f"{OV}.isFdaRegulatedDrug"),
        fda_regulated_device=r.boolean(oversight.get("isFdaRegulatedDevice"), f"{OV}.isFdaRegulatedDevice"),
        brief_summary=f.s(desc, "briefSummary", DE),
        detailed_description=f.s(desc, "detailedDescription", DE),
        conditions=[Condition(c) for c in f.strs_of(f.arr(cond_mod, "conditions", C))],
        keywords=f.strs_of(f.arr(cond_mod, "keywords", C)),
        study_type=r.enum(StudyType, f.s(design, "studyType", D), f"{D}.studyType"),
        phases=sort_phases(r.enums(Phase, f.strs_of(f.arr(design, "phases", D)), f"{D}.phases")),
        allocation=r.enum(Allocation, f.s(info, "allocation", DI), f"{DI}.allocation"),
        intervention_model=r.enum(InterventionModel, f.s(info, "interventionModel", DI), f"{DI}.interventionModel"),
        primary_purpose=r.enum(PrimaryPurpose, f.s(info, "primaryPurpose", DI), f"{DI}.primaryPurpose"),
        masking=r.enum(Masking, f.s(masking, "masking", DM), f"{DM}.masking"),
        who_masked=r.enums(WhoMasked, f.strs_of(f.arr(masking, "whoMasked", DM)), f"{DM}.whoMasked"),
        observational_model=r.enum(ObservationalModel, f.s(info, "observationalModel", DI), f"{DI}.observationalModel"),
        time_perspective=r.enum(TimePerspective, f.s(info, "timePerspective", DI), f"{DI}.timePerspective"),
        enrollment_count=r.integer(enrol.get("count"), f"{EN}.count"),
        enrollment_type=r.enum(EnrollmentType, f.s(enrol, "type", EN), f"{EN}.type"),
        arms=[
            Arm(
                label=label,
                type=r.enum(ArmType, f.s(a, "type", w), f"{w}.type"),
                description=f.s(a, "description", w),
                intervention_names=f.strs_of(f.arr(a, "interventionNames", w)),
            )
            for w, a in f.objs_of(f.arr(arms_mod, "armGroups", AI))
            if (label := f.s(a, "label", w))
        ],
        interventions=[
            Intervention(
                name=iname,
                type=r.enum(InterventionType, f.s(iv, "type", w), f"{w}.type"),
                description=f.s(iv, "description", w),
                other_names=f.strs_of(f.arr(iv, "otherNames", w)),
                arm_labels=f.strs_of(f.arr(iv, "armGroupLabels", w)),
            )
            for w, iv in f.objs_of(f.arr(arms_mod, "interventions", AI))
            if (iname := f.s(iv, "name", w))
        ],
        primary_outcomes=_outcomes(f, outcomes, "primaryOutcomes", OM),
        secondary_outcomes=_outcomes(f, outcomes, "secondaryOutcomes", OM),
        other_outcomes=_outcomes(f, outcomes, "otherOutcomes", OM),
        eligibility=Eligibility(
            criteria=criteria,
            inclusion=inclusion,
            exclusion=exclusion,
            sex=r.enum(Sex, f.s(elig, "sex", E), f"{E}.sex"),
            gender_based=r.boolean(elig.get("genderBased"), f"{E}.genderBased"),
            min_age=r.age(f.s(elig, "minimumAge", E), f"{E}.minimumAge"),
            max_age=r.age(f.s(elig, "maximumAge", E), f"{E}.maximumAge"),
            healthy_volunteers=r.boolean(elig.get("healthyVolunteers"), f"{E}.healthyVolunteers"),
            std_ages=f.strs_of(f.arr(elig, "stdAges", E)),
        )
        if elig
        else None,
        locations=[
            Location(
                facility=f.s(loc, "facility", w),
                city=f.s(loc, "city", w),
                state=f.s(loc, "state", w),
                zip=f.s(loc, "zip", w),
                country=f.s(loc, "country", w),
                status=r.enum(LocationStatus, f.s(loc, "status", w), f"{w}.status"),
            )
            for w, loc in f.objs_of(f.arr(cl, "locations", CL))
        ],
        officials=[
            Official(
                name=oname,
                role=r.enum(OfficialRole, f.s(o, "role", w), f"{w}.role"),
                affiliation=f.s(o, "affiliation", w),
            )
            for w, o in f.objs_of(f.arr(cl, "overallOfficials", CL))
            if (oname := f.s(o, "name", w))
        ],
        contacts=[
            Contact(
                name=f.s(c, "name", w),
                role=r.enum(ContactRole, f.s(c, "role", w), f"{w}.role"),
                phone=f.s(c, "phone", w),
                email=f.s(c, "email", w),
            )
            for w, c in f.objs_of(f.arr(cl, "centralContacts", CL))
        ],
        references=[
            Reference(
                pmid=f.s(ref, "pmid", w),
                type=r.enum(ReferenceType, f.s(ref, "type", w), f"{w}.type"),
                citation=f.s(ref, "citation", w),
            )
            for w, ref in f.objs_of(f.arr(refs, "references", R))
        ],
        condition_mesh=_mesh(f, cond_browse, "meshes", f"{DS}.conditionBrowseModule"),
        condition_mesh_ancestors=_mesh(f, cond_browse, "ancestors", f"{DS}.conditionBrowseModule"),
        intervention_mesh=_mesh(f, iv_browse, "meshes", f"{DS}.interventionBrowseModule"),
        intervention_mesh_ancestors=_mesh(f, iv_browse, "ancestors", f"{DS}.interventionBrowseModule"),
        has_results=r.boolean(study.get("hasResults"), f"{where}.hasResults"),
    )
    trial.source.notes.extend(r.notes)
    return trial


def _outcomes(f: JsonFields, module: dict, key: str, where: str) -> list[Outcome]:
    return [
        Outcome(measure=measure, time_frame=f.s(o, "timeFrame", w), description=f.s(o, "description", w))
        for w, o in f.objs_of(f.arr(module, key, where))
        if (measure := f.s(o, "measure", w))
    ]


def _mesh(f: JsonFields, module: dict, key: str, where: str) -> list[MeshTerm]:
    out: list[MeshTerm] = []
    seen: set[str] = set()
    for w, m in f.objs_of(f.arr(module, key, where)):
        mid = f.r.mesh_id(f.s(m, "id", w), f"{w}.id")
        if mid and mid not in seen:
            seen.add(mid)
            out.append(MeshTerm(mid, f.s(m, "term", w)))
    return out
