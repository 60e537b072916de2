"""The classic-API full-study JSON parser: the whole real corpus, a sample checked
against values read straight from the files, and hand-written records for the edges."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from kg.enums import (
    AgencyClass,
    AgeUnit,
    ContactRole,
    DateType,
    EnrollmentType,
    InterventionType,
    Masking,
    ObservationalModel,
    OfficialRole,
    Phase,
    ReferenceType,
    ResponsiblePartyType,
    Sex,
    SourceFormat,
    Status,
    StudyType,
    TimePerspective,
    WhoMasked,
)
from kg.errors import ParseError
from kg.model import Age, MeshTerm, Trial
from kg.sources import REGISTRY, SNIFF_BYTES, detect
from kg.sources import ctgov_classic_json as classic
from kg.sources._common import normalise_mesh_id
from tests import ctgov_display as X
from tests.conftest import FIXTURES

RECORDS = FIXTURES / "records" / "classic"
HAND = RECORDS / "NCT09900001.json"
RESPONSE = RECORDS / "fullstudies-one-broken.json"
BAD_VALUES = RECORDS / "NCT09900003-bad-values.json"


# --------------------------------------------------------------------------
# The real corpus


@pytest.fixture(scope="module")
def corpus(corpus_dir: Path) -> dict[str, list[Trial | ParseError]]:
    folder = corpus_dir / "ctgov-classic-json"
    if not folder.is_dir():
        pytest.skip(f"no classic-API records at {folder}")
    return {p.name: list(classic.records(p.read_bytes(), p.name)) for p in sorted(folder.glob("*.json"))}


def test_every_corpus_record_parses(corpus: dict[str, list[Trial | ParseError]]) -> None:
    errors = [str(x) for items in corpus.values() for x in items if isinstance(x, ParseError)]
    assert errors == []
    assert all(len(items) == 1 for items in corpus.values())
    assert {t.nct_id for items in corpus.values() for t in items} == {Path(n).stem for n in corpus}
    # every display value in the corpus maps onto the enumerations
    notes = [f"{t.nct_id}: {n}" for items in corpus.values() for t in items for n in t.source.notes]
    assert notes == []


def _expected(doc: dict[str, Any]) -> dict[str, Any]:
    """The facts, read from the file with json and the hand-written tables only."""
    ps = doc["ProtocolSection"]

    def get(d: Any, *path: str) -> Any:
        for k in path:
            d = d.get(k) if isinstance(d, dict) else None
        return d

    def items(d: Any, *path: str) -> list[Any]:
        return get(d, *path) or []

    ident, status, design = ps["IdentificationModule"], ps.get("StatusModule", {}), ps.get("DesignModule", {})
    elig = ps.get("EligibilityModule", {})
    count = get(design, "EnrollmentInfo", "EnrollmentCount")
    etype = get(design, "EnrollmentInfo", "EnrollmentType")
    lead = get(ps, "SponsorCollaboratorsModule", "LeadSponsor") or {}
    return {
        "nct_id": ident["NCTId"],
        "brief_title": X.strip(ident.get("BriefTitle")),
        "official_title": X.strip(ident.get("OfficialTitle")),
        "overall_status": X.STATUS[status["OverallStatus"]],
        "phases": {X.PHASE[p] for p in items(design, "PhaseList", "Phase")},
        "study_type": X.STUDY_TYPE[design["StudyType"]],
        "enrollment_count": int(count) if count else None,
        "enrollment_type": X.DATE_TYPE[etype] if etype else None,
        "start": X.date(get(status, "StartDateStruct", "StartDate"), get(status, "StartDateStruct", "StartDateType")),
        "completion": X.date(
            get(status, "CompletionDateStruct", "CompletionDate"),
            get(status, "CompletionDateStruct", "CompletionDateType"),
        ),
        "conditions": list(
            dict.fromkeys(c.strip() for c in items(ps, "ConditionsModule", "ConditionList", "Condition"))
        ),
        "interventions": [
            (i["InterventionName"].strip(), X.INTERVENTION_TYPE[i["InterventionType"]])
            for i in items(ps, "ArmsInterventionsModule", "InterventionList", "Intervention")
        ],
        "arms": [
            (a["ArmGroupLabel"].strip(), X.ARM_TYPE[a["ArmGroupType"]] if a.get("ArmGroupType") else None)
            for a in items(ps, "ArmsInterventionsModule", "ArmGroupList", "ArmGroup")
        ],
        "sponsor": (lead["LeadSponsorName"].strip(), lead.get("LeadSponsorClass"))
        if lead.get("LeadSponsorName")
        else None,
        "sex": X.SEX[elig["Gender"]] if elig.get("Gender") else None,
        "min_age": X.age(elig.get("MinimumAge")),
        "max_age": X.age(elig.get("MaximumAge")),
        "countries": {
            loc["LocationCountry"].strip()
            for loc in items(ps, "ContactsLocationsModule", "LocationList", "Location")
            if loc.get("LocationCountry")
        },
        "pmids": {
            r["ReferencePMID"].strip()
            for r in items(ps, "ReferencesModule", "ReferenceList", "Reference")
            if r.get("ReferencePMID")
        },
        "condition_mesh": {
            X.mesh_key(m["ConditionMeshId"])
            for m in items(doc.get("DerivedSection"), "ConditionBrowseModule", "ConditionMeshList", "ConditionMesh")
        },
    }


def test_sample_matches_values_read_from_the_files(
    corpus_dir: Path, corpus: dict[str, list[Trial | ParseError]]
) -> None:
    folder = corpus_dir / "ctgov-classic-json"
    names = X.sample(sorted(corpus))
    assert len(names) >= 30
    for name in names:
        doc = json.loads((folder / name).read_text(encoding="utf-8"))
        (trial,) = corpus[name]
        assert isinstance(trial, Trial)
        assert X.facts(trial) == _expected(doc), name
        criteria = doc["ProtocolSection"].get("EligibilityModule", {}).get("EligibilityCriteria")
        assert trial.eligibility is not None
        assert trial.eligibility.criteria == X.strip(criteria), name
        if X.has_items(criteria, "inclusion"):
            assert trial.eligibility.inclusion, name
        if X.has_items(criteria, "exclusion"):
            assert trial.eligibility.exclusion, name
        last = doc["ProtocolSection"]["StatusModule"]["LastUpdatePostDateStruct"]["LastUpdatePostDate"]
        assert trial.source.last_update is not None
        assert trial.source.last_update.iso == X.date(last, None)[0]  # type: ignore[index]
        assert trial.source.checksum == hashlib.sha256((folder / name).read_bytes()).hexdigest()


# --------------------------------------------------------------------------
# Hand-written records


def test_hand_checked_record() -> None:
    (t,) = classic.parse(HAND)
    assert t.nct_id == "NCT09900001"
    assert t.source.format is SourceFormat.CTGOV_CLASSIC_JSON
    assert t.source.file == "NCT09900001.json"
    assert t.source.checksum == hashlib.sha256(HAND.read_bytes()).hexdigest()
    assert t.source.notes == []
    assert t.org_study_id == "TKG-CL-001"
    assert [(s.id, s.type, s.domain) for s in t.secondary_ids] == [
        ("2019-001234-56", "EudraCT Number", None),
        ("R01 XX000001", "U.S. NIH Grant/Contract", "Example Institute"),
    ]
    assert t.nct_id_aliases == ["NCT09900901"]
    assert t.acronym == "CORD-KNEE"
    assert t.brief_title == "Cord Blood Cells in Knee Osteoarthritis: a Registry"
    assert t.overall_status is Status.ACTIVE_NOT_RECRUITING
    assert t.last_known_status is Status.RECRUITING
    # dates keep their precision; a missing type stays None
    assert (t.status_verified.iso, t.status_verified.type) == ("2021-04", None)  # type: ignore[union-attr]
    assert (t.start_date.iso, t.start_date.type, t.start_date.precision) == ("2019-05", None, "month")  # type: ignore[union-attr]
    assert (t.primary_completion_date.iso, t.primary_completion_date.type) == ("2020-05-14", DateType.ACTUAL)  # type: ignore[union-attr]
    assert (t.completion_date.iso, t.completion_date.type) == ("2021-12", DateType.ESTIMATED)  # type: ignore[union-attr]
    assert (t.first_posted.iso, t.first_posted.type) == ("2019-03-06", DateType.ACTUAL)  # type: ignore[union-attr]
    assert (t.last_update_posted.iso, t.last_update_posted.type) == ("2021-06-03", DateType.ESTIMATED)  # type: ignore[union-attr]
    assert t.source.last_update is not None and t.source.last_update.iso == "2021-06-03"
    assert t.results_first_posted is None and t.has_results is None
    assert (t.sponsor.name, t.sponsor.agency_class) == ("Example Regional Hospital", AgencyClass.OTHER)  # type: ignore[union-attr]
    assert [(c.name, c.agency_class) for c in t.collaborators] == [
        ("Example Cord Blood Bank", AgencyClass.UNKNOWN),
        ("Example Ministry of Health", AgencyClass.OTHER_GOV),
    ]
    rp = t.responsible_party
    assert rp is not None and rp.type is ResponsiblePartyType.SPONSOR_INVESTIGATOR
    assert (rp.investigator_name, rp.investigator_title) == ("Ada Example", "Professor of Orthopaedics")
    assert (t.has_dmc, t.fda_regulated_drug, t.fda_regulated_device) == (False, False, False)
    assert [c.name for c in t.conditions] == ["Osteoarthritis, Knee", "Cartilage Degeneration"]
    assert t.keywords == ["cord blood", "knee"]
    assert t.study_type is StudyType.OBSERVATIONAL
    assert t.phases == []  # no PhaseList
    assert (t.allocation, t.masking, t.who_masked) == (None, None, [])
    assert t.observational_model is ObservationalModel.COHORT
    assert t.time_perspective is TimePerspective.PROSPECTIVE
    assert (t.enrollment_count, t.enrollment_type) == (60, EnrollmentType.ESTIMATED)
    (arm,) = t.arms
    assert (arm.label, arm.type, arm.intervention_names) == (
        "Treated knees",
        None,
        ["Biological: Umbilical cord blood cells"],
    )
    (iv,) = t.interventions
    assert (iv.name, iv.type, iv.other_names, iv.arm_labels) == (
        "Umbilical cord blood cells",
        InterventionType.BIOLOGICAL,
        ["UCB cells"],
        ["Treated knees"],
    )
    assert [(o.measure, o.time_frame) for o in t.primary_outcomes] == [("WOMAC pain score", "24 months")]
    assert [o.description for o in t.secondary_outcomes] == ["Any adverse event"]
    e = t.eligibility
    assert e is not None
    assert e.inclusion == ["Knee osteoarthritis, Kellgren-Lawrence grade 2 or 3", "Treated with cord blood cells"]
    assert e.exclusion == ["Knee surgery in the past year"]
    assert (e.sex, e.gender_based, e.healthy_volunteers) == (Sex.FEMALE, True, True)
    assert (e.min_age, e.max_age) == (Age(6, AgeUnit.MONTHS), Age(65, AgeUnit.YEARS))
    assert e.std_ages == ["CHILD", "ADULT", "OLDER_ADULT"]
    (contact,) = t.contacts
    assert (contact.name, contact.role, contact.phone, contact.email) == (
        "Bea Example",
        ContactRole.CONTACT,
        "+1 555 0101 ext. 12",
        "bea@example.org",
    )
    (official,) = t.officials
    assert (official.name, official.role) == ("Ada Example, MD", OfficialRole.PRINCIPAL_INVESTIGATOR)
    lyon, basel = t.locations
    assert (lyon.facility, lyon.city, lyon.state, lyon.zip, lyon.country) == (
        "Example Regional Hospital",
        "Lyon",
        None,
        "69000",
        "France",
    )
    assert [(c.name, c.role) for c in lyon.contacts] == [("Cy Example", ContactRole.SUB_INVESTIGATOR)]
    assert (basel.country, basel.status, basel.contacts) == ("Switzerland", None, [])
    assert [(r.pmid, r.type) for r in t.references] == [
        ("12345678", ReferenceType.BACKGROUND),
        (None, ReferenceType.RESULT),
    ]
    # no DerivedSection: no MeSH terms, nothing invented
    assert (t.condition_mesh, t.condition_mesh_ancestors, t.intervention_mesh) == ([], [], [])


def test_full_studies_response_with_a_broken_study() -> None:
    good, bad = classic.records(RESPONSE.read_bytes(), RESPONSE.name)
    assert isinstance(good, Trial) and good.nct_id == "NCT09900002"
    assert isinstance(bad, ParseError)
    assert bad.file == RESPONSE.name
    assert bad.where == "$.FullStudiesResponse.FullStudies[1].Study.ProtocolSection.IdentificationModule.NCTId"
    assert "NCT099" in bad.reason
    # a study inside a response is checksummed on its own canonical form
    study = json.loads(RESPONSE.read_text())["FullStudiesResponse"]["FullStudies"][0]["Study"]
    assert good.source.checksum == hashlib.sha256(orjson.dumps(study, option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert good.phases == [Phase.PHASE1, Phase.PHASE2]
    assert (good.masking, good.who_masked) == (Masking.DOUBLE, [WhoMasked.PARTICIPANT, WhoMasked.OUTCOMES_ASSESSOR])
    assert (good.start_date.iso, good.start_date.type) == ("2020-02", DateType.ESTIMATED)  # type: ignore[union-attr]
    assert (good.overall_status, good.last_known_status) == (Status.UNKNOWN, Status.NOT_YET_RECRUITING)
    # strict parsing raises the broken study's error after the good one
    with pytest.raises(ParseError, match="NCTId"):
        list(classic.parse(RESPONSE))


def test_padded_mesh_ids_are_normalised_and_deduplicated() -> None:
    good, _ = classic.records(RESPONSE.read_bytes(), RESPONSE.name)
    assert isinstance(good, Trial)
    assert good.condition_mesh == [MeshTerm("D011565", "Psoriasis")]  # D000011565 == D011565
    assert [m.id for m in good.condition_mesh_ancestors] == ["D017444", "D012871"]
    # C000711674 is a 9-digit UI in its own right; C000024352 is C024352 padded
    assert [m.id for m in good.intervention_mesh] == ["C000711674", "C024352"]
    assert good.intervention_mesh_ancestors == []


@pytest.mark.parametrize(
    ("given", "nlm"),
    [
        ("D000011565", "D011565"),
        ("D011565", "D011565"),
        ("d000011565", "D011565"),
        ("D066331", "D066331"),
        ("D000068180", "D000068180"),  # Aripiprazole: made after 2014, 9 digits
        ("C000024352", "C024352"),
        ("C000711674", "C000711674"),
    ],
)
def test_mesh_ids_as_nlm_writes_them(given: str, nlm: str) -> None:
    # hand-checked against the MeSH 2024 descriptor and supplementary-concept files
    assert normalise_mesh_id(given) == nlm


def test_bad_values_become_notes_when_lenient_and_errors_when_strict() -> None:
    (t,) = classic.records(BAD_VALUES.read_bytes(), BAD_VALUES.name)
    assert isinstance(t, Trial) and t.nct_id == "NCT09900003"
    base = "$.FullStudy.Study.ProtocolSection"
    noted = {n.split(": ", 1)[0] for n in t.source.notes}
    assert noted == {
        f"{base}.StatusModule.OverallStatus",
        f"{base}.StatusModule.StartDateStruct.StartDate",
        f"{base}.DesignModule.DesignInfo",
        f"{base}.DesignModule.EnrollmentInfo.EnrollmentCount",
        f"{base}.ConditionsModule.ConditionList.Condition[1]",
    }
    # nothing is guessed for the bad values; good neighbours are kept
    assert (t.overall_status, t.start_date, t.enrollment_count, t.allocation) == (None, None, None, None)
    assert t.enrollment_type is EnrollmentType.ACTUAL
    assert [c.name for c in t.conditions] == ["Lupus"]
    assert t.completion_date is not None and t.completion_date.iso == "2023-03"
    with pytest.raises(ParseError) as info:
        list(classic.parse(BAD_VALUES))
    assert info.value.nct_id == "NCT09900003" and info.value.file == BAD_VALUES.name


def test_strict_error_names_the_json_path_and_trial() -> None:
    doc = json.loads(HAND.read_text())
    doc["ProtocolSection"]["StatusModule"]["StartDateStruct"]["StartDate"] = "Sometime 2019"
    (err,) = classic.records(json.dumps(doc).encode(), "edited.json", strict=True)
    assert isinstance(err, ParseError)
    assert (err.file, err.where, err.nct_id) == (
        "edited.json",
        "$.ProtocolSection.StatusModule.StartDateStruct.StartDate",
        "NCT09900001",
    )
    assert "Sometime 2019" in str(err)


def test_truncated_file_gives_a_parse_error() -> None:
    data = HAND.read_bytes()
    end = data.rindex(b"}")
    for cut in range(0, end, 37):
        items = list(classic.records(data[:cut], "cut.json"))
        assert len(items) == 1 and isinstance(items[0], ParseError), cut
        assert "invalid JSON" in items[0].reason


def test_every_accepted_shape() -> None:
    study = json.loads(HAND.read_text())
    shapes = [study, {"Study": study}, {"FullStudy": {"Study": study}}]
    for shape in shapes:
        data = json.dumps(shape).encode()
        (t,) = classic.records(data, "one.json")
        assert isinstance(t, Trial) and t.nct_id == "NCT09900001"
        assert t.source.checksum == hashlib.sha256(data).hexdigest()  # one record: the file's checksum
    response = {"FullStudiesResponse": {"NStudiesFound": 1, "FullStudies": [{"Rank": 1, "Study": study}]}}
    data = json.dumps([*shapes, response]).encode()
    trials = list(classic.records(data, "many.json"))
    assert [t.nct_id for t in trials] == ["NCT09900001"] * 4
    # in a multi-record file each study has its own checksum, the same whatever its wrapping
    canonical = hashlib.sha256(orjson.dumps(study, option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert {t.source.checksum for t in trials if isinstance(t, Trial)} == {canonical}
    assert list(classic.records(b'{"FullStudiesResponse": {"NStudiesFound": 0}}', "empty.json")) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "invalid JSON"),
        (b"\xff\xfe{", "invalid JSON"),
        (b"42", "expected a study object"),
        (b'{"studies": []}', "no ProtocolSection"),
        (b'{"ProtocolSection": []}', "ProtocolSection must be an object"),
        (b'[{"Study": "x"}]', "expected a study object"),
        (b'{"FullStudiesResponse": {"FullStudies": {}}}', "expected an array"),
    ],
)
def test_unusable_documents_give_parse_errors(data: bytes, reason: str) -> None:
    items = list(classic.records(data, "bad.json"))
    assert len(items) == 1 and isinstance(items[0], ParseError)
    assert reason in items[0].reason


def test_sniff_and_registry() -> None:
    for path in (HAND, RESPONSE, BAD_VALUES):
        head = path.read_bytes()[:SNIFF_BYTES]
        assert classic.sniff(head)
        assert detect(head) is classic
    for other in (FIXTURES / "records" / "v2").glob("*.json"):
        assert not classic.sniff(other.read_bytes()[:SNIFF_BYTES])
    for other in (FIXTURES / "records" / "xml").glob("*.xml"):
        assert not classic.sniff(other.read_bytes()[:SNIFF_BYTES])
    order = list(REGISTRY)
    assert order.index(SourceFormat.CTGOV_V2_JSON) < order.index(SourceFormat.CTGOV_CLASSIC_JSON)
    assert REGISTRY[SourceFormat.CTGOV_CLASSIC_JSON] is classic
    assert classic.FORMAT is SourceFormat.CTGOV_CLASSIC_JSON and classic.DESCRIPTION


def test_sniff_rejects_the_v2_corpus(corpus_dir: Path) -> None:
    v2 = sorted((corpus_dir / "ctgov-v2-json").glob("*.json"))
    if not v2:
        pytest.skip("no v2 records in the corpus")
    assert not any(classic.sniff(p.read_bytes()[:SNIFF_BYTES]) for p in v2)
