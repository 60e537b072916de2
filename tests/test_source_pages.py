"""Registry-mirror pages saved as text: kg.sources.veeva_page, basic_info_page, ignite_page.

Expected values come from ``fixtures/seeds_expected.json`` (written by hand from the five
real pages), from the classic-API corpus records the fixture pages were written from
(read here with ``json``), or are written out in the test. None is computed by the parsers.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from kg.enums import (
    AgencyClass,
    Allocation,
    ArmType,
    EnrollmentType,
    InterventionModel,
    InterventionType,
    Masking,
    ObservationalModel,
    Phase,
    PrimaryPurpose,
    Sex,
    Status,
    StudyType,
    TimePerspective,
    coerce,
    parse_phases,
)
from kg.errors import ParseError
from kg.model import Trial
from kg.sources import REGISTRY, basic_info_page, detect, ignite_page, veeva_page
from kg.sources._pages import parse_age_range, parse_enrollment, split_typed_name
from tests.conftest import EXAMPLES, FIXTURES

PAGES = EXAMPLES / "pages"
MINE = FIXTURES / "pages"
SEEDS = {
    k: v
    for k, v in json.loads((FIXTURES / "seeds_expected.json").read_text(encoding="utf-8")).items()
    if k.endswith(".txt")
}
PAGE_MODULES = (veeva_page, basic_info_page, ignite_page)
BY_FORMAT = {m.FORMAT.value: m for m in PAGE_MODULES}


def _one(path: Path) -> Trial:
    module = detect(path.read_bytes()[:65536])
    assert module is not None, f"{path.name}: no format recognised"
    trials = list(module.parse(path))
    assert len(trials) == 1
    return trials[0]


def _plain(value: Any) -> Any:
    """Model values as JSON-like data (enums as their codes, ages/dates as text)."""
    if isinstance(value, StrEnum):
        return value.value
    if hasattr(value, "iso"):
        return value.iso
    if hasattr(value, "unit") and hasattr(value, "value"):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _check_text(actual: str | None, expected: Any, what: str) -> None:
    if isinstance(expected, dict):
        assert actual is not None, what
        if "startswith" in expected:
            assert actual.startswith(expected["startswith"]), f"{what}: {actual[:80]!r}"
        if "endswith" in expected:
            assert actual.endswith(expected["endswith"]), f"{what}: {actual[-80:]!r}"
        if "paragraphs" in expected:
            assert len(actual.split("\n\n")) == expected["paragraphs"], what
    else:
        assert actual == expected, what


def _check_objects(actual: list[Any], expected: list[dict[str, Any]], what: str) -> None:
    assert len(actual) == len(expected), f"{what}: {len(actual)} != {len(expected)}"
    for i, (obj, exp) in enumerate(zip(actual, expected, strict=True)):
        for key, value in exp.items():
            got = getattr(obj, key)
            if key == "contacts":
                _check_objects(got, value, f"{what}[{i}].contacts")
            elif key == "description" or isinstance(value, dict):
                _check_text(got, value, f"{what}[{i}].{key}")
            else:
                assert _plain(got) == value, f"{what}[{i}].{key}: {got!r}"


# --------------------------------------------------------------------------
# The five real pages, against hand-written expectations


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_page(name: str) -> None:
    exp = SEEDS[name]
    path = PAGES / name
    data = path.read_bytes()
    assert detect(data[:65536]) is BY_FORMAT[exp["format"]]
    t = _one(path)
    assert t.nct_id == exp["nct_id"]
    assert t.source.format.value == exp["format"]
    assert t.source.file == name
    assert t.source.partial is exp["partial"]
    assert t.source.checksum == hashlib.sha256(data).hexdigest()
    assert _plain(t.source.last_update) == exp["last_update"]
    for key in (
        "brief_title",
        "official_title",
        "acronym",
        "overall_status",
        "last_known_status",
        "why_stopped",
        "status_verified",
        "last_update_posted",
        "first_posted",
        "phases",
        "study_type",
        "enrollment_count",
        "enrollment_type",
        "start_date",
        "primary_completion_date",
        "completion_date",
        "allocation",
        "intervention_model",
        "primary_purpose",
        "masking",
        "has_dmc",
        "fda_regulated_drug",
        "fda_regulated_device",
        "org_study_id",
        "has_results",
    ):
        if key in exp:
            assert _plain(getattr(t, key)) == exp[key], key
    for key in ("brief_summary", "detailed_description"):
        if key in exp:
            _check_text(getattr(t, key), exp[key], key)
    for key in ("conditions", "interventions", "arms", "collaborators", "locations", "contacts", "officials"):
        if key in exp:
            _check_objects(getattr(t, key), exp[key], key)
    if "sponsor" in exp:
        _check_objects([t.sponsor], [exp["sponsor"]], "sponsor")
    if "responsible_party" in exp:
        _check_objects([t.responsible_party], [exp["responsible_party"]], "responsible_party")
    if "secondary_ids" in exp:
        assert [s.id for s in t.secondary_ids] == exp["secondary_ids"]
    if "officials_count" in exp:
        assert len(t.officials) == exp["officials_count"]
        _check_objects([t.officials[0], t.officials[-1]], [exp["officials_first"], exp["officials_last"]], "officials")
    if "eligibility" in exp:
        e, ee = t.eligibility, exp["eligibility"]
        if ee is None:
            assert e is None
        else:
            assert e is not None
            assert _plain(e.sex) == ee["sex"]
            assert _plain(e.min_age) == ee["min_age"]
            assert _plain(e.max_age) == ee["max_age"]
            assert e.healthy_volunteers is ee["healthy_volunteers"]
            for part in ("inclusion", "exclusion"):
                items = getattr(e, part)
                assert len(items) == ee[f"{part}_count"], part
                assert items[0] == ee[f"{part}_first"]
                assert items[-1] == ee[f"{part}_last"]
            for snippet in ee.get("criteria_contains", []):
                assert snippet in (e.criteria or "")
                assert "\\" not in (e.criteria or "")


def test_seed_partial_page_names_where_it_ends() -> None:
    t = _one(PAGES / "002_9cec258a2c823d99.txt")
    assert t.source.partial
    assert any("truncated" in n for n in t.source.notes)


# --------------------------------------------------------------------------
# Registry and content sniffing


def test_page_formats_registered_after_the_registry_formats() -> None:
    formats = list(REGISTRY)
    assert formats[-3:] == [veeva_page.FORMAT, basic_info_page.FORMAT, ignite_page.FORMAT]
    for module in PAGE_MODULES:
        assert REGISTRY[module.FORMAT] is module
        assert module.DESCRIPTION


def test_sniffers_accept_only_their_own_layout() -> None:
    for name, exp in SEEDS.items():
        head = (PAGES / name).read_bytes()[:65536]
        for module in PAGE_MODULES:
            assert module.sniff(head) is (module is BY_FORMAT[exp["format"]]), (name, module.__name__)


def test_sniffers_reject_json_xml_and_unknown_text() -> None:
    heads = [
        b'{"protocolSection": {"identificationModule": {"nctId": "NCT00000102"}}}',
        b'[{"protocolSection": {}}]',
        b'<?xml version="1.0"?>\n<clinical_study><id_info><nct_id>NCT00000102</nct_id></id_info></clinical_study>',
        b"<html><body>Status and phase Funder types Trial design</body></html>",
        (MINE / "unknown_layout.txt").read_bytes(),
        b"",
        b"\x00\x01binary",
    ]
    for head in heads:
        for module in PAGE_MODULES:
            assert not module.sniff(head), (module.__name__, head[:40])


def test_sniffers_reject_corpus_records(corpus_dir: Path) -> None:
    for folder in ("ctgov-classic-json", "ctgov-v2-json", "ctgov-xml"):
        for path in sorted((corpus_dir / folder).iterdir())[:5]:
            head = path.read_bytes()[:65536]
            for module in PAGE_MODULES:
                assert not module.sniff(head), (module.__name__, path.name)


# --------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("name", "module", "where"),
    [
        ("veeva_no_nct_id.txt", veeva_page, "Identifiers"),
        ("basic_no_nct_id.txt", basic_info_page, "page header"),
        ("ignite_no_nct_id.txt", ignite_page, "page header"),
    ],
)
def test_page_without_nct_id_is_a_parse_error(name: str, module: Any, where: str) -> None:
    path = MINE / name
    assert detect(path.read_bytes()[:65536]) is module
    (item,) = list(module.records(path.read_bytes(), name))
    assert isinstance(item, ParseError)
    assert item.file == name
    assert where in (item.where or "")
    assert "NCT ID" in item.reason
    with pytest.raises(ParseError, match=name):
        list(module.parse(path))


def test_unknown_layout_is_a_parse_error_naming_the_file() -> None:
    path = MINE / "unknown_layout.txt"
    data = path.read_bytes()
    assert detect(data[:65536]) is None
    for module in PAGE_MODULES:
        (item,) = list(module.records(data, path.name))
        assert isinstance(item, ParseError)
        assert item.file == path.name
        assert "not a" in item.reason


def test_strict_and_lenient_unknown_value() -> None:
    data = (PAGES / "000_33f8ef63051a5fa9.txt").read_bytes().replace(b"\nSex\n\nAll\n", b"\nSex\n\nEveryone\n")
    # "Everyone" fails the Sex heading's value check, so the heading is not found and
    # sex stays unknown; an unknown masking value is a value problem instead.
    data = data.replace(b"None (Open label)", b"Blindfolded")
    (lenient,) = list(veeva_page.records(data, "x.txt"))
    assert isinstance(lenient, Trial)
    assert lenient.masking is None
    assert any("Blindfolded" in n and "Masking" in n for n in lenient.source.notes)
    (strict,) = list(veeva_page.records(data, "x.txt", strict=True))
    assert isinstance(strict, ParseError)
    assert strict.file == "x.txt" and strict.nct_id == "NCT03392311"
    assert "Masking" in (strict.where or "")


# --------------------------------------------------------------------------
# Pages written for other trials, against the corpus records they were written from


def _classic(corpus_dir: Path, nct: str) -> dict[str, Any]:
    return json.loads((corpus_dir / "ctgov-classic-json" / f"{nct}.json").read_text(encoding="utf-8"))[
        "ProtocolSection"
    ]


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


# Classic-API display values, mapped by hand.
CLASSIC_ARM_TYPE = {"Experimental": "EXPERIMENTAL", "No Intervention": "NO_INTERVENTION"}
CLASSIC_STATUS = {
    "Unknown status": "UNKNOWN",
    "Enrolling by invitation": "ENROLLING_BY_INVITATION",
    "Not yet recruiting": "NOT_YET_RECRUITING",
    "Recruiting": "RECRUITING",
    "Completed": "COMPLETED",
    "Active, not recruiting": "ACTIVE_NOT_RECRUITING",
}
CLASSIC_PHASE = {"Phase 1": "PHASE1", "Phase 2": "PHASE2", "Early Phase 1": "EARLY_PHASE1", "Not Applicable": "NA"}


def _check_against_record(t: Trial, rec: dict[str, Any], *, arm_descriptions: bool = True) -> None:
    idm, dm = rec["IdentificationModule"], rec["DesignModule"]
    assert t.nct_id == idm["NCTId"]
    assert t.brief_title == idm["BriefTitle"]
    assert _plain(t.overall_status) == CLASSIC_STATUS[rec["StatusModule"]["OverallStatus"]]
    assert _plain(t.phases) == sorted(CLASSIC_PHASE[p] for p in _get(dm, "PhaseList", "Phase") or [])
    assert t.enrollment_count == int(dm["EnrollmentInfo"]["EnrollmentCount"])
    assert t.sponsor is not None
    assert t.sponsor.name == rec["SponsorCollaboratorsModule"]["LeadSponsor"]["LeadSponsorName"]
    arms = _get(rec, "ArmsInterventionsModule", "ArmGroupList", "ArmGroup") or []
    assert [a.label for a in t.arms] == [a["ArmGroupLabel"] for a in arms]
    for arm, ra in zip(t.arms, arms, strict=True):
        assert _plain(arm.type) == CLASSIC_ARM_TYPE[ra["ArmGroupType"]]
        assert arm.intervention_names == (_get(ra, "ArmGroupInterventionList", "ArmGroupInterventionName") or [])
        if arm_descriptions:
            assert arm.description == ra.get("ArmGroupDescription")
    ivs = _get(rec, "ArmsInterventionsModule", "InterventionList", "Intervention") or []
    assert [(i.name, i.type.title() if i.type else None) for i in t.interventions] == [
        (i["InterventionName"], i["InterventionType"].title()) for i in ivs
    ]


def test_veeva_many_arms_and_heading_like_lines(corpus_dir: Path) -> None:
    t = _one(MINE / "veeva_many_arms_NCT04313647.txt")
    rec = _classic(corpus_dir, "NCT04313647")
    _check_against_record(t, rec)
    assert not t.source.partial
    assert len(t.arms) == 5
    assert [c.name for c in t.conditions] == rec["ConditionsModule"]["ConditionList"]["Condition"]
    # "Conditions" and "Masking" alone on lines of the Full description stay in the text
    paras = rec["DescriptionModule"]["DetailedDescription"].split("\n\n")
    assert t.detailed_description == "\n\n".join([paras[0], "Conditions", paras[1], "Masking", paras[2]])
    assert t.masking is Masking.NONE
    assert t.allocation is Allocation.NON_RANDOMIZED
    assert t.intervention_model is InterventionModel.PARALLEL
    # two funder types (Other, Industry): the sponsor's class is not guessed
    assert t.sponsor is not None and t.sponsor.agency_class is None
    assert any("funder types" in n for n in t.source.notes)
    e = t.eligibility
    assert e is not None
    assert (e.sex, str(e.min_age), str(e.max_age), e.healthy_volunteers) == (Sex.ALL, "18 Years", "45 Years", True)
    assert (len(e.inclusion), len(e.exclusion)) == (5, 7)
    assert e.inclusion[0] == "Healthy volunteers."
    assert e.exclusion[-1].startswith("Volunteers who have diseases (such as insomnia)")
    assert t.org_study_id == rec["IdentificationModule"]["OrgStudyIdInfo"]["OrgStudyId"]


def test_veeva_without_full_description_arms_or_ages(corpus_dir: Path) -> None:
    t = _one(MINE / "veeva_no_description_no_arms_NCT00749164.txt")
    rec = _classic(corpus_dir, "NCT00749164")
    _check_against_record(t, rec)
    assert t.detailed_description is None
    assert t.arms == []
    assert t.enrollment_type is not None and t.enrollment_type.value == "ESTIMATED"
    e = t.eligibility
    assert e is not None and e.min_age is None and e.max_age is None
    assert (len(e.inclusion), len(e.exclusion)) == (6, 11)
    assert e.inclusion[-1].startswith("v. Termination of all GvHD medications")
    assert e.exclusion[3] == "Donor inclusion criteria:"
    contacts = rec["ContactsLocationsModule"]["CentralContactList"]["CentralContact"]
    assert [(c.name, c.phone, c.email) for c in t.contacts] == [
        (c["CentralContactName"], c["CentralContactPhone"], c["CentralContactEMail"]) for c in contacts
    ]
    assert t.source.notes == []


def test_veeva_truncated_page(corpus_dir: Path) -> None:
    t = _one(MINE / "veeva_truncated_NCT02315027.txt")
    rec = _classic(corpus_dir, "NCT02315027")
    assert t.source.partial
    assert any('ends in section "Exclusion criteria"' in n for n in t.source.notes)
    assert t.brief_title == rec["IdentificationModule"]["BriefTitle"]
    # what is there is read; what was cut off stays empty
    assert t.eligibility is not None
    assert len(t.eligibility.inclusion) == 5
    assert t.eligibility.exclusion[-1] == "Participants who have taken any investigational prod"
    assert (t.allocation, t.masking, t.arms) == (None, None, [])


def test_basic_info_many_arms_shared_names_and_heading_like_lines(corpus_dir: Path) -> None:
    t = _one(MINE / "basic_many_arms_NCT02315027.txt")
    rec = _classic(corpus_dir, "NCT02315027")
    _check_against_record(t, rec)
    assert not t.source.partial and t.source.notes == []
    # five interventions share one name; each arm gets the one whose description it shows
    ivs = rec["ArmsInterventionsModule"]["InterventionList"]["Intervention"]
    assert [(i.description, i.arm_labels) for i in t.interventions] == [
        (i["InterventionDescription"], i["InterventionArmGroupLabelList"]["InterventionArmGroupLabel"]) for i in ivs
    ]
    dd = rec["DescriptionModule"]["DetailedDescription"]
    expected = dd.replace("patients with MSA. Safety", "patients with MSA.\n\nConditions\n\nSafety").replace(
        "using MRI. Efficacy", "using MRI.\n\nInterventions\n\nEfficacy"
    )
    assert t.detailed_description == expected
    assert [(c.name, c.verbatim, c.split_uncertain) for c in t.conditions] == [("MSA", "MSA", True)]
    sp = rec["SponsorCollaboratorsModule"]
    assert [(c.name, c.agency_class) for c in t.collaborators] == [
        (c["CollaboratorName"], AgencyClass(c["CollaboratorClass"])) for c in sp["CollaboratorList"]["Collaborator"]
    ]
    rp = sp["ResponsibleParty"]
    assert t.responsible_party is not None
    assert (t.responsible_party.investigator_name, t.responsible_party.investigator_affiliation) == (
        rp["ResponsiblePartyInvestigatorFullName"],
        rp["ResponsiblePartyInvestigatorAffiliation"],
    )
    assert [(s.id, s.type) for s in t.secondary_ids] == [
        (s["SecondaryId"], s["SecondaryIdType"])
        for s in rec["IdentificationModule"]["SecondaryIdInfoList"]["SecondaryIdInfo"]
    ]
    assert [(o.name, o.affiliation) for o in t.officials] == [
        (o["OverallOfficialName"], o["OverallOfficialAffiliation"])
        for o in rec["ContactsLocationsModule"]["OverallOfficialList"]["OverallOfficial"]
    ]
    loc = rec["ContactsLocationsModule"]["LocationList"]["Location"][0]
    assert [(x.facility, x.city, x.state, x.country) for x in t.locations] == [
        (loc["LocationFacility"], loc["LocationCity"], loc["LocationState"], loc["LocationCountry"])
    ]
    e = t.eligibility
    assert e is not None and (len(e.inclusion), len(e.exclusion)) == (5, 12)
    assert (
        e.inclusion[-1]
        == '"Normal" cognition as assessed by Mini-Mental State Examination (MMSE). We will require a value >24.'
    )


def test_basic_info_without_description_or_groups(corpus_dir: Path) -> None:
    t = _one(MINE / "basic_no_groups_NCT00749164.txt")
    rec = _classic(corpus_dir, "NCT00749164")
    _check_against_record(t, rec)
    assert t.detailed_description is None and t.arms == []
    assert t.interventions[0].description == "1-2X10^6 MSC per kg"
    assert t.start_date is not None and t.start_date.iso == "2009-09"
    e = t.eligibility
    assert e is not None and e.min_age is None and e.max_age is None and e.sex is Sex.ALL
    contacts = rec["ContactsLocationsModule"]["CentralContactList"]["CentralContact"]
    assert [(c.name, c.phone, c.email) for c in t.contacts] == [
        (c["CentralContactName"], c["CentralContactPhone"], c["CentralContactEMail"]) for c in contacts
    ]
    assert [(x.facility, x.city, x.state, x.country) for x in t.locations] == [
        ("Hadassah University Hospital", "Jerusalem", None, "Israel")
    ]


@pytest.mark.parametrize(
    ("nct_line", "updated_line"),
    [("NCT ID : NCT03745417", "Last updated: 2021-02-09"), ("Nct Id:NCT03745417", "LAST UPDATED : 2021-02-09")],
)
def test_basic_info_header_label_variants(nct_line: str, updated_line: str, tmp_path: Path) -> None:
    page = (EXAMPLES / "pages/001_1ad9e6c4f6c96f89.txt").read_text(encoding="utf-8")
    assert page.count("NCT ID: NCT03745417\n") == page.count("Last Updated: 2021-02-09\n") == 1
    page = page.replace("NCT ID: NCT03745417", nct_line).replace("Last Updated: 2021-02-09", updated_line)
    path = tmp_path / "basic.txt"
    path.write_text(page, encoding="utf-8")
    t = _one(path)
    assert t.source.format is basic_info_page.FORMAT
    assert t.nct_id == "NCT03745417"
    assert t.source.last_update is not None and t.source.last_update.iso == "2021-02-09"


def test_basic_info_truncated_page() -> None:
    t = _one(MINE / "basic_truncated_NCT04313647.txt")
    assert t.source.partial
    assert any('ends in section "Study Groups"' in n for n in t.source.notes)
    assert [a.label for a in t.arms] == ["1X level", "2X level"]
    assert [i.name for i in t.interventions] == ["1X level of MSCs-Exo", "2X level of MSCs-Exo"]
    assert (
        t.interventions[0].description
        == "Once aerosol inhalation of MSCs-derived exosomes (2.0*10^8 nano vesicles/3 ml)"
    )
    assert t.interventions[-1].description == "Once aerosol inhalation of MSCs-derived exo"
    # sections after the cut are absent, not invented
    assert (t.sponsor, t.eligibility, t.org_study_id, t.locations) == (None, None, None, [])


def test_ignite_full_page(corpus_dir: Path) -> None:
    t = _one(MINE / "ignite_full_NCT04492501.txt")
    rec = _classic(corpus_dir, "NCT04492501")
    _check_against_record(t, rec)
    assert not t.source.partial and t.source.notes == []
    assert t.official_title == rec["IdentificationModule"]["OfficialTitle"]
    # free text with "Key:"-looking lines ("Moderate disease:", "Long title: ...") stays whole
    assert t.detailed_description == rec["DescriptionModule"]["DetailedDescription"]
    ivs = rec["ArmsInterventionsModule"]["InterventionList"]["Intervention"]
    assert [i.description for i in t.interventions] == [i["InterventionDescription"] for i in ivs]
    assert t.interventions[-1].other_names == ["MSC"]
    assert [c.name for c in t.conditions] == rec["ConditionsModule"]["ConditionList"]["Condition"]
    assert t.keywords == rec["ConditionsModule"]["KeywordList"]["Keyword"]
    assert (t.study_type, t.phases, t.masking) == (StudyType.INTERVENTIONAL, [Phase.NA], Masking.NONE)
    assert t.intervention_model is InterventionModel.FACTORIAL
    e = t.eligibility
    assert e is not None
    assert (len(e.inclusion), len(e.exclusion)) == (5, 6)
    assert e.exclusion[3] == "Congestive cardiac failure (EF<20%) (4)"
    assert (str(e.min_age), str(e.max_age), e.sex, e.healthy_volunteers) == ("18 Years", "90 Years", Sex.ALL, False)
    assert t.first_posted is None  # "First Post" is the submission date, not the posting date
    assert t.last_update_posted is not None and t.last_update_posted.iso == "2020-07-30"


def test_ignite_key_variants(tmp_path: Path) -> None:
    """Known keys in lower case or with no space after the colon, and a repeated
    "Phases" key, are read; other "word:text" lines in free text stay text."""
    page = (MINE / "ignite_full_NCT04492501.txt").read_text(encoding="utf-8")
    edits = {
        "Study Type: INTERVENTIONAL": "study type: INTERVENTIONAL",
        "Enrollment Count: 600": "Enrollment Count:600",
        "Phases: NA": "Phases: PHASE1\nPhases: PHASE2",
        "Moderate disease:": "Moderate disease:\nratio:1:10\nhttp://example.org/protocol",
    }
    for old, new in edits.items():
        assert page.count(old) == 1, old
        page = page.replace(old, new)
    path = tmp_path / "ignite.txt"
    path.write_text(page, encoding="utf-8")
    t = _one(path)
    assert (t.study_type, t.enrollment_count, t.phases) == (StudyType.INTERVENTIONAL, 600, [Phase.PHASE1, Phase.PHASE2])
    assert t.detailed_description is not None
    assert "Moderate disease:\nratio:1:10\nhttp://example.org/protocol\n\nCOVID-19" in t.detailed_description
    assert not t.source.partial and t.source.notes == []


def test_ignite_truncated_page(corpus_dir: Path) -> None:
    t = _one(MINE / "ignite_truncated_NCT04313647.txt")
    rec = _classic(corpus_dir, "NCT04313647")
    _check_against_record(t, rec)
    assert t.source.partial
    e = t.eligibility
    assert e is not None and e.sex is None
    assert e.exclusion == [
        "Women in pregnancy or lactation.",
        "Primary diseases of important organs.",
        "Mentally or physically disab",
    ]


# --------------------------------------------------------------------------
# Seeds against the corpus: fields that should agree, and one that really differs


SEED_STATUS_AGREES = {"NCT01420432": True, "NCT03219801": True, "NCT03392311": False}


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_agrees_with_corpus_record(name: str, corpus_dir: Path) -> None:
    t = _one(PAGES / name)
    rec = _classic(corpus_dir, t.nct_id)
    idm, dm = rec["IdentificationModule"], rec["DesignModule"]
    assert t.brief_title == idm["BriefTitle"]
    if t.phases:
        assert _plain(t.phases) == sorted(CLASSIC_PHASE[p] for p in dm["PhaseList"]["Phase"])
    if t.enrollment_count is not None:
        assert t.enrollment_count == int(dm["EnrollmentInfo"]["EnrollmentCount"])
    assert t.sponsor is not None
    assert t.sponsor.name == rec["SponsorCollaboratorsModule"]["LeadSponsor"]["LeadSponsorName"]
    corpus_conditions = rec["ConditionsModule"]["ConditionList"]["Condition"]
    if t.conditions and not t.conditions[0].split_uncertain:
        assert {c.name for c in t.conditions} == set(corpus_conditions)
    elif t.conditions:
        # one run-together line: every registered condition is in it
        assert all(c in (t.conditions[0].verbatim or "") for c in corpus_conditions)
    if t.interventions:
        ivs = rec["ArmsInterventionsModule"]["InterventionList"]["Intervention"]
        assert {i.name for i in t.interventions} == {i["InterventionName"] for i in ivs}
    if t.nct_id in SEED_STATUS_AGREES:
        same = _plain(t.overall_status) == CLASSIC_STATUS[rec["StatusModule"]["OverallStatus"]]
        assert same is SEED_STATUS_AGREES[t.nct_id]


def test_known_status_conflict_is_visible(corpus_dir: Path) -> None:
    t = _one(PAGES / "000_33f8ef63051a5fa9.txt")
    rec = _classic(corpus_dir, "NCT03392311")
    assert t.overall_status is Status.COMPLETED
    assert rec["StatusModule"]["OverallStatus"] == "Enrolling by invitation"
    assert t.overall_status is not Status.ENROLLING_BY_INVITATION


# --------------------------------------------------------------------------
# Display values and value shapes


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (
            Status,
            [
                "Not yet recruiting",
                "Recruiting",
                "Enrolling by invitation",
                "Active, not recruiting",
                "Suspended",
                "Terminated",
                "Completed",
                "Withdrawn",
                "Unknown",
                "Unknown status",
                "Available",
                "No longer available",
                "Temporarily not available",
                "Approved for marketing",
                "Withheld",
            ],
        ),
        (
            StudyType,
            [
                "Interventional",
                "Observational",
                "Expanded Access",
                "Interventional (Clinical Trial)",
                "Observational [Patient Registry]",
                "INTERVENTIONAL",
            ],
        ),
        (Allocation, ["Randomized", "Non-Randomized", "Nonrandomized", "N/A", "NA", "NON_RANDOMIZED"]),
        (
            InterventionModel,
            [
                "Single Group Assignment",
                "Parallel Assignment",
                "Crossover Assignment",
                "Factorial Assignment",
                "Sequential Assignment",
                "SINGLE_GROUP",
            ],
        ),
        (
            PrimaryPurpose,
            [
                "Treatment",
                "Prevention",
                "Diagnostic",
                "Supportive Care",
                "Screening",
                "Health Services Research",
                "Basic Science",
                "Device Feasibility",
                "Educational/Counseling/Training",
                "Other",
            ],
        ),
        (
            Masking,
            [
                "None (Open label)",
                "None (Open Label)",
                "Single Blind",
                "Double Blind",
                "Triple Blind",
                "Quadruple Blind",
                "Single",
                "Double",
                "Triple",
                "Quadruple",
                "NONE",
            ],
        ),
        (
            InterventionType,
            [
                "Drug",
                "Device",
                "Biological",
                "Biological/Vaccine",
                "Procedure",
                "Procedure/Surgery",
                "Radiation",
                "Behavioral",
                "Genetic",
                "Dietary Supplement",
                "Combination Product",
                "Diagnostic Test",
                "Other",
            ],
        ),
        (
            ArmType,
            [
                "Experimental group",
                "Active Comparator group",
                "Placebo Comparator group",
                "Sham Comparator group",
                "No Intervention group",
                "Other group",
                "Experimental",
                "NO_INTERVENTION",
            ],
        ),
        (Sex, ["All", "Female", "Male", "ALL"]),
        (
            AgencyClass,
            [
                "Other",
                "Industry",
                "NIH",
                "Other U.S. Federal agency",
                "U.S. Fed",
                "Individual",
                "Network",
                "Other Government",
                "Unknown",
                "FED",
            ],
        ),
        (
            ObservationalModel,
            [
                "Cohort",
                "Case-Control",
                "Case-Only",
                "Case-Crossover",
                "Ecologic or Community",
                "Family-Based",
                "Defined Population",
                "Natural History",
                "Other",
            ],
        ),
        (TimePerspective, ["Retrospective", "Prospective", "Cross-Sectional", "Other"]),
    ],
)
def test_display_values_parse(enum: type[StrEnum], values: list[str]) -> None:
    for v in values:
        assert coerce(enum, v) is not None, v


def test_phase_displays() -> None:
    assert parse_phases("Phase 2 / Phase 1") == [Phase.PHASE1, Phase.PHASE2]
    assert parse_phases("PHASE1/PHASE2") == [Phase.PHASE1, Phase.PHASE2]
    assert parse_phases("Early Phase 1") == [Phase.EARLY_PHASE1]
    assert parse_phases("N/A") == [Phase.NA]
    assert parse_phases("Phase 4") == [Phase.PHASE4]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18 to 65 years old", ("18 Years", "65 Years")),
        ("18+ years old", ("18 Years", None)),
        ("Up to 65 years old", (None, "65 Years")),
        ("6 months to 17 years old", ("6 Months", "17 Years")),
        ("18 years and older", ("18 Years", None)),
        ("2 to 12 months old", ("2 Months", "12 Months")),
    ],
)
def test_age_ranges(text: str, expected: tuple[str | None, str | None]) -> None:
    lo, hi = parse_age_range(text)
    assert (lo and str(lo), hi and str(hi)) == expected


def test_age_range_rejects_other_text() -> None:
    with pytest.raises(ValueError):
        parse_age_range("adults")


def test_enrollment_and_treatment_lines() -> None:
    assert parse_enrollment("8 patients", default=EnrollmentType.ACTUAL) == (8, EnrollmentType.ACTUAL)
    assert parse_enrollment("10 estimated patients", default=EnrollmentType.ACTUAL) == (10, EnrollmentType.ESTIMATED)
    assert parse_enrollment("1,200 participants") == (1200, None)
    assert split_typed_name("Drug: Calcipotriol ointment") == (InterventionType.DRUG, "Calcipotriol ointment")
    assert split_typed_name("Dietary Supplement: Vitamin D") == (InterventionType.DIETARY_SUPPLEMENT, "Vitamin D")
    assert split_typed_name("DMARDs") == (None, "DMARDs")
    assert split_typed_name("Note: not a type") == (None, "Note: not a type")


def test_veeva_age_and_volunteer_variants() -> None:
    base = (PAGES / "000_33f8ef63051a5fa9.txt").read_bytes()
    for shown, lo, hi in ((b"18+ years old", "18 Years", None), (b"Up to 65 years old", None, "65 Years")):
        (t,) = list(veeva_page.records(base.replace(b"18 to 65 years old", shown), "x.txt", strict=True))
        assert isinstance(t, Trial) and t.eligibility is not None
        assert (
            t.eligibility.min_age and str(t.eligibility.min_age),
            t.eligibility.max_age and str(t.eligibility.max_age),
        ) == (lo, hi)
    data = base.replace(b"No Healthy Volunteers", b"Accepts Healthy Volunteers")
    (t,) = list(veeva_page.records(data, "x.txt", strict=True))
    assert isinstance(t, Trial) and t.eligibility is not None and t.eligibility.healthy_volunteers is True


def test_veeva_heading_word_in_about_text() -> None:
    base = (PAGES / "003_a088c8f5c9a0d108.txt").read_bytes()
    about = b"at a dose of 1.0E+6 MSC/kg in subject for the therapy of Ankylosing spondylitis (AS)\n"
    inserted = about + b"\nEnrollment\n\nwill close when ten patients are treated.\n\nConditions\n\nTreatments\n"
    data = base.replace(about, inserted)
    (t,) = list(veeva_page.records(data, "x.txt", strict=True))
    assert isinstance(t, Trial)
    assert t.brief_summary is not None and t.brief_summary.endswith(
        "(AS)\n\nEnrollment\n\nwill close when ten patients are treated.\n\nConditions\n\nTreatments"
    )
    assert [c.name for c in t.conditions] == ["Ankylosing Spondylitis"]
    assert (t.enrollment_count, t.detailed_description is not None) == (10, True)


def test_veeva_truncation_rule_on_a_seed() -> None:
    data = (PAGES / "003_a088c8f5c9a0d108.txt").read_bytes()
    cut = data[: data.index(b"Trial contacts and locations")]
    (t,) = list(veeva_page.records(cut, "cut.txt"))
    assert isinstance(t, Trial) and t.source.partial
    assert len(t.arms) == 2  # everything before the cut is still read
