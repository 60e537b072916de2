"""The legacy ClinicalTrials.gov XML parser: the whole real corpus, a sample checked
against values read straight from the files with xml.etree, hand-written records for
the edges, and hostile documents (entity expansion, external entities, truncation)."""

from __future__ import annotations

import hashlib
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from kg.enums import (
    AgencyClass,
    Allocation,
    ArmType,
    ContactRole,
    DateType,
    EnrollmentType,
    InterventionModel,
    InterventionType,
    LocationStatus,
    Masking,
    OfficialRole,
    Phase,
    PrimaryPurpose,
    ReferenceType,
    ResponsiblePartyType,
    Sex,
    SourceFormat,
    Status,
    StudyType,
    WhoMasked,
)
from kg.errors import ParseError
from kg.model import Trial
from kg.sources import REGISTRY, SNIFF_BYTES, ctgov_xml, detect
from tests import ctgov_display as X
from tests.conftest import FIXTURES

RECORDS = FIXTURES / "records" / "xml"
HAND = RECORDS / "NCT09900011.xml"
OLD = RECORDS / "NCT09900012-old-layout.xml"
SEARCH = RECORDS / "search-results-one-broken.xml"
LAUGHS = RECORDS / "billion-laughs.xml"
EXTERNAL = RECORDS / "external-entity.xml"


# --------------------------------------------------------------------------
# The real corpus


@pytest.fixture(scope="module")
def corpus(corpus_dir: Path) -> dict[str, list[Trial | ParseError]]:
    folder = corpus_dir / "ctgov-xml"
    if not folder.is_dir():
        pytest.skip(f"no legacy XML records at {folder}")
    return {p.name: list(ctgov_xml.records(p.read_bytes(), p.name)) for p in sorted(folder.glob("*.xml"))}


def test_every_corpus_record_parses(corpus: dict[str, list[Trial | ParseError]]) -> None:
    errors = [str(x) for items in corpus.values() for x in items if isinstance(x, ParseError)]
    assert errors == []
    assert all(len(items) == 1 for items in corpus.values())
    assert {t.nct_id for items in corpus.values() for t in items} == {Path(n).stem for n in corpus}
    # every display value in the corpus maps onto the enumerations; the one withheld
    # record's "[Redacted]" sponsor is noted, not kept as a sponsor name
    notes = [f"{t.nct_id}: {n}" for items in corpus.values() for t in items for n in t.source.notes]
    assert notes == ["NCT03182660: /clinical_study/sponsors/lead_sponsor/agency: redacted by the registry"]
    withheld = corpus["NCT03182660.xml"][0]
    assert isinstance(withheld, Trial)
    assert (withheld.sponsor, withheld.study_type, withheld.overall_status) == (None, None, Status.WITHHELD)


def _text(el: Any, path: str) -> str | None:
    v = el.findtext(path)
    return v.strip() or None if v is not None else None


def _expected(root: ET.Element) -> dict[str, Any]:
    """The facts, read from the file with xml.etree and the hand-written tables only."""
    phase = _text(root, "phase")
    phases = {"NA"} if phase == "N/A" else {X.PHASE[p.strip()] for p in phase.split("/")} if phase else set()
    enrol = root.find("enrollment")
    lead = root.find("sponsors/lead_sponsor")

    def date(tag: str) -> tuple[str, str | None] | None:
        el = root.find(tag)
        return X.date(el.text, el.get("type")) if el is not None else None

    lead_name = _text(lead, "agency") if lead is not None else None
    lead_class = _text(lead, "agency_class") if lead is not None else None
    return {
        "nct_id": _text(root, "id_info/nct_id"),
        "brief_title": _text(root, "brief_title"),
        "official_title": _text(root, "official_title"),
        "overall_status": X.STATUS[_text(root, "overall_status")],  # type: ignore[index]
        "phases": phases,
        "study_type": X.STUDY_TYPE[_text(root, "study_type")],  # type: ignore[index]
        "enrollment_count": int(enrol.text) if enrol is not None and enrol.text else None,
        "enrollment_type": X.DATE_TYPE[enrol.get("type")] if enrol is not None and enrol.get("type") else None,
        "start": date("start_date"),
        "completion": date("completion_date"),
        "conditions": list(dict.fromkeys(c.text.strip() for c in root.findall("condition") if c.text)),
        "interventions": [
            (_text(i, "intervention_name"), X.INTERVENTION_TYPE[_text(i, "intervention_type")])  # type: ignore[index]
            for i in root.findall("intervention")
        ],
        "arms": [
            (_text(a, "arm_group_label"), X.ARM_TYPE[t] if (t := _text(a, "arm_group_type")) else None)
            for a in root.findall("arm_group")
        ],
        "sponsor": (lead_name, X.AGENCY_CLASS[lead_class] if lead_class else None)
        if lead_name and lead_name != "[Redacted]"
        else None,
        "sex": X.SEX[g] if (g := _text(root, "eligibility/gender")) else None,
        "min_age": X.age(_text(root, "eligibility/minimum_age")),
        "max_age": X.age(_text(root, "eligibility/maximum_age")),
        "countries": {c for loc in root.findall("location") if (c := _text(loc, "facility/address/country"))},
        "pmids": {
            p.text.strip() for p in root.findall("reference/PMID") + root.findall("results_reference/PMID") if p.text
        },
        "condition_mesh": set(),  # the XML names MeSH terms without IDs
    }


def test_sample_matches_values_read_from_the_files(
    corpus_dir: Path, corpus: dict[str, list[Trial | ParseError]]
) -> None:
    folder = corpus_dir / "ctgov-xml"
    names = X.sample(sorted(corpus))
    assert len(names) >= 30
    with_headings = 0
    for name in names:
        root = ET.parse(folder / name).getroot()
        (trial,) = corpus[name]
        assert isinstance(trial, Trial)
        assert X.facts(trial) == _expected(root), name
        assert trial.condition_mesh_names == [m.text.strip() for m in root.findall("condition_browse/mesh_term")], name
        assert trial.intervention_mesh_names == [
            m.text.strip() for m in root.findall("intervention_browse/mesh_term")
        ], name
        criteria = root.findtext("eligibility/criteria/textblock")
        if X.has_items(criteria, "inclusion"):
            with_headings += 1
            assert trial.eligibility is not None and trial.eligibility.inclusion, name
        if X.has_items(criteria, "exclusion"):
            assert trial.eligibility is not None and trial.eligibility.exclusion, name
        # the text is the same words, only the registry's line wrapping is undone
        if criteria and criteria.strip():
            assert trial.eligibility is not None and trial.eligibility.criteria is not None
            assert trial.eligibility.criteria.split() == criteria.split(), name
        last = _text(root, "last_update_posted") or _text(root, "lastchanged_date")
        assert trial.source.last_update is not None
        assert trial.source.last_update.iso == X.date(last, None)[0], name  # type: ignore[index]
        assert trial.has_results is (True if root.find("clinical_results") is not None else None), name
        assert trial.source.checksum == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    assert with_headings >= 20


# --------------------------------------------------------------------------
# Hand-written records


def test_hand_checked_record() -> None:
    (t,) = ctgov_xml.parse(HAND)
    assert t.nct_id == "NCT09900011"
    assert t.source.format is SourceFormat.CTGOV_XML
    assert t.source.checksum == hashlib.sha256(HAND.read_bytes()).hexdigest()
    assert t.source.notes == []
    assert t.org_study_id == "TKG-X-011"
    assert [s.id for s in t.secondary_ids] == ["2020-004321-10", "U01 XX000011"]
    assert t.nct_id_aliases == ["NCT09900911"]
    assert (t.acronym, t.brief_title) == ("UC-SLE", "Umbilical Cord MSCs in Refractory Lupus")
    assert t.official_title is not None and t.official_title.startswith("A Randomised, Double-blind Study")
    assert (t.overall_status, t.last_known_status, t.why_stopped) == (
        Status.TERMINATED,
        Status.RECRUITING,
        "Slow enrolment",
    )
    assert (t.start_date.iso, t.start_date.type) == ("2019-05", DateType.ACTUAL)  # type: ignore[union-attr]
    assert (t.completion_date.iso, t.completion_date.type) == ("2021-05-14", DateType.ESTIMATED)  # type: ignore[union-attr]
    assert (t.primary_completion_date.iso, t.primary_completion_date.type) == ("2021-03", DateType.ACTUAL)  # type: ignore[union-attr]
    assert (t.first_posted.iso, t.first_posted.type) == ("2019-01-07", DateType.ACTUAL)  # type: ignore[union-attr]
    assert (t.last_update_posted.iso, t.last_update_posted.type) == ("2022-04-28", DateType.ESTIMATED)  # type: ignore[union-attr]
    assert t.results_first_posted is not None and t.results_first_posted.iso == "2022-04-28"
    assert t.status_verified is not None and t.status_verified.iso == "2022-04"
    assert t.source.last_update is not None and t.source.last_update.iso == "2022-04-28"
    assert t.has_results is True
    assert (t.sponsor.name, t.sponsor.agency_class) == ("Example University Hospital", AgencyClass.OTHER)  # type: ignore[union-attr]
    assert [(c.name, c.agency_class) for c in t.collaborators] == [
        ("Example National Institute", AgencyClass.NIH),
        ("Example Cell Therapeutics", AgencyClass.INDUSTRY),
    ]
    assert (t.has_dmc, t.fda_regulated_drug, t.fda_regulated_device) == (True, False, False)
    rp = t.responsible_party
    assert rp is not None and rp.type is ResponsiblePartyType.PRINCIPAL_INVESTIGATOR
    assert (rp.investigator_name, rp.investigator_title) == ("Ada Example", "Professor of Rheumatology")
    # hard wrapping undone, paragraphs kept
    assert t.brief_summary == (
        "This study asks whether mesenchymal stromal cells from umbilical cord, given as two intravenous "
        "infusions four weeks apart, reduce disease activity in adults with active systemic lupus "
        "erythematosus that has not responded to standard treatment.\n\nParticipants are followed for one year."
    )
    assert t.detailed_description is None
    assert [c.name for c in t.conditions] == ["Systemic Lupus Erythematosus", "Lupus Nephritis"]
    assert t.keywords == ["mesenchymal stromal cells", "lupus"]
    assert t.study_type is StudyType.INTERVENTIONAL
    assert t.phases == [Phase.PHASE1, Phase.PHASE2]
    assert (t.allocation, t.intervention_model, t.primary_purpose) == (
        Allocation.RANDOMIZED,
        InterventionModel.PARALLEL,
        PrimaryPurpose.TREATMENT,
    )
    # the older masking spelling: level and who is masked
    assert (t.masking, t.who_masked) == (Masking.DOUBLE, [WhoMasked.PARTICIPANT, WhoMasked.INVESTIGATOR])
    assert (t.enrollment_count, t.enrollment_type) == (60, EnrollmentType.ESTIMATED)
    assert [(a.label, a.type, a.description) for a in t.arms] == [
        ("UC-MSC", ArmType.EXPERIMENTAL, "Two infusions of 1 million cells/kg"),
        ("Placebo", ArmType.PLACEBO_COMPARATOR, None),
    ]
    assert [(i.name, i.type, i.other_names, i.arm_labels) for i in t.interventions] == [
        ("Umbilical cord mesenchymal stromal cells", InterventionType.BIOLOGICAL, ["UC-MSC"], ["UC-MSC"]),
        ("Placebo", InterventionType.DRUG, [], ["Placebo"]),
    ]
    assert [(o.measure, o.time_frame, o.description) for o in t.primary_outcomes] == [
        ("SLE Responder Index-4 response", "Week 24", "Proportion of participants with an SRI-4 response")
    ]
    e = t.eligibility
    assert e is not None
    assert e.inclusion == [
        "Adults aged 18 to 65 years with systemic lupus erythematosus meeting the 2019 EULAR/ACR classification "
        "criteria and an SLEDAI-2K score of 6 or more despite standard therapy",
        "Written informed consent",
    ]
    assert e.exclusion == [
        "Pregnancy or breastfeeding",
        "Active infection needing intravenous antibiotics within 4 weeks before the first infusion",
    ]
    assert (e.sex, e.gender_based, e.healthy_volunteers) == (Sex.FEMALE, True, False)
    assert (str(e.min_age), str(e.max_age)) == ("18 Years", "65 Years")
    assert [(o.name, o.role, o.affiliation) for o in t.officials] == [
        ("Ada Example, MD", OfficialRole.PRINCIPAL_INVESTIGATOR, "Example University Hospital")
    ]
    assert [(c.name, c.role, c.phone, c.email) for c in t.contacts] == [
        ("Bea Example", ContactRole.CONTACT, "+44 20 5550 0111 ext. 21", "bea@example.org")
    ]
    leeds, boston = t.locations
    assert (leeds.facility, leeds.city, leeds.zip, leeds.country, leeds.status) == (
        "Example University Hospital",
        "Leeds",
        "LS1 3EX",
        "United Kingdom",
        LocationStatus.RECRUITING,
    )
    assert [(c.name, c.role) for c in leeds.contacts] == [
        ("Cy Example", ContactRole.CONTACT),
        ("Ada Example, MD", ContactRole.PRINCIPAL_INVESTIGATOR),
    ]
    assert (boston.state, boston.status, boston.contacts) == ("Massachusetts", None, [])
    assert [(r.pmid, r.type) for r in t.references] == [("23456789", None), ("34567890", ReferenceType.RESULT)]
    # MeSH names without IDs are kept as names; no ID is invented
    assert t.condition_mesh == [] and t.intervention_mesh == []
    assert t.condition_mesh_names == ["Lupus Erythematosus, Systemic", "Lupus Nephritis"]
    assert t.intervention_mesh_names == ["Pharmaceutical Solutions"]


def test_old_layout() -> None:
    (t,) = ctgov_xml.parse(OLD)
    assert t.source.notes == []
    # the one-line <study_design>
    assert (t.allocation, t.intervention_model, t.primary_purpose, t.masking) == (
        Allocation.RANDOMIZED,
        InterventionModel.PARALLEL,
        PrimaryPurpose.TREATMENT,
        Masking.DOUBLE,
    )
    assert t.who_masked == [
        WhoMasked.PARTICIPANT,
        WhoMasked.CARE_PROVIDER,
        WhoMasked.INVESTIGATOR,
        WhoMasked.OUTCOMES_ASSESSOR,
    ]
    # lastchanged_date is the old last-update-submitted date: the record's last update,
    # but not a posted date; firstreceived_date is a submission date, not first posted
    assert t.source.last_update is not None and t.source.last_update.iso == "2012-07-02"
    assert (t.last_update_posted, t.first_posted) == (None, None)
    assert (t.start_date.iso, t.start_date.type) == ("2009-09", None)  # type: ignore[union-attr]
    assert (t.enrollment_count, t.enrollment_type) == (40, None)
    assert t.sponsor is not None and t.sponsor.agency_class is AgencyClass.FED
    assert t.interventions[0].type is InterventionType.PROCEDURE
    assert t.eligibility is not None and t.eligibility.sex is Sex.ALL
    assert (str(t.eligibility.min_age), t.eligibility.max_age) == ("18 Years", None)
    assert t.eligibility.inclusion == ["Adults with a single full-thickness cartilage defect of the femoral condyle."]
    assert [(o.name, o.role) for o in t.officials] == [("Dee Q Example, MD, PhD", OfficialRole.STUDY_CHAIR)]
    assert (t.has_results, t.has_dmc, t.phases) == (None, None, [Phase.PHASE2])


def test_wrapper_with_a_broken_study() -> None:
    data = SEARCH.read_bytes()
    good, bad = ctgov_xml.records(data, SEARCH.name)
    assert isinstance(good, Trial) and good.nct_id == "NCT09900013"
    assert (good.masking, good.who_masked, good.allocation, good.phases) == (
        Masking.NONE,
        [],
        Allocation.NA,
        [Phase.NA],
    )
    assert good.enrollment_type is EnrollmentType.ESTIMATED
    assert isinstance(bad, ParseError)
    assert (bad.file, bad.where) == (SEARCH.name, "/search_results/clinical_study[2]/id_info/nct_id")
    # a study in a wrapper is checksummed on its own (canonical) bytes, not the file's
    assert good.source.checksum != hashlib.sha256(data).hexdigest()
    second = data.index(b"<clinical_study>", data.index(b"</clinical_study>"))
    alone = data[:second] + data[data.index(b"</search_results>") :]
    (again,) = ctgov_xml.records(alone, "alone.xml")
    assert isinstance(again, Trial) and again.source.checksum == good.source.checksum
    with pytest.raises(ParseError):
        list(ctgov_xml.parse(SEARCH))


@pytest.mark.parametrize("prefix", ["", "ct:"])
def test_namespaced_record_reads_like_the_plain_one(prefix: str) -> None:
    """A record re-saved by an XML tool with its elements in a namespace (default or
    prefixed) gives the trial the plain record gives."""
    data = HAND.read_bytes()
    text = data.decode("utf-8")
    if prefix:
        text = re.sub(r"<(/?)([a-z_]+)", rf"<\1{prefix}\2", text)
    xmlns = f"xmlns:{prefix[:-1]}" if prefix else "xmlns"
    text = text.replace(
        f"<{prefix}clinical_study", f'<{prefix}clinical_study {xmlns}="http://clinicaltrials.gov/ct2"', 1
    )
    namespaced = text.encode("utf-8")
    assert detect(namespaced[:SNIFF_BYTES]) is ctgov_xml
    [plain] = ctgov_xml.records(data, HAND.name)
    [again] = ctgov_xml.records(namespaced, HAND.name)
    assert isinstance(plain, Trial) and isinstance(again, Trial), again
    plain.source.checksum = again.source.checksum = ""
    assert again == plain


def test_strict_error_names_the_element_path_and_trial() -> None:
    data = HAND.read_bytes().replace(b'<start_date type="Actual">May 2019', b'<start_date type="Actual">Spring 2019')
    (err,) = ctgov_xml.records(data, "edited.xml", strict=True)
    assert isinstance(err, ParseError)
    assert (err.file, err.where, err.nct_id) == ("edited.xml", "/clinical_study/start_date", "NCT09900011")
    (lenient,) = ctgov_xml.records(data, "edited.xml")
    assert isinstance(lenient, Trial) and lenient.start_date is None
    assert [n.split(": ", 1)[0] for n in lenient.source.notes] == ["/clinical_study/start_date"]


@pytest.mark.parametrize("path", [LAUGHS, EXTERNAL])
def test_entity_declarations_are_refused(path: Path) -> None:
    started = time.perf_counter()
    items = list(ctgov_xml.records(path.read_bytes(), path.name))
    assert time.perf_counter() - started < 1.0
    assert len(items) == 1 and isinstance(items[0], ParseError)
    assert "entit" in items[0].reason
    with pytest.raises(ParseError):
        list(ctgov_xml.parse(path))


def test_entities_are_never_expanded_whatever_the_encoding() -> None:
    # a UTF-16 document hides "<!ENTITY" from a byte scan; the parser itself must refuse
    for path in (LAUGHS, EXTERNAL):
        data = path.read_text().replace("UTF-8", "UTF-16").encode("utf-16")
        items = list(ctgov_xml.records(data, path.name))
        assert len(items) == 1 and isinstance(items[0], ParseError)
        assert "root:" not in str(items[0]) and "lollol" not in str(items[0])


def test_truncated_file_gives_a_parse_error() -> None:
    data = HAND.read_bytes()
    end = data.rindex(b"</clinical_study>")
    for cut in range(0, end, 97):
        items = list(ctgov_xml.records(data[:cut], "cut.xml"))
        assert len(items) == 1 and isinstance(items[0], ParseError), cut


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not well-formed"),
        (b"<clinical_study><id_info><nct_id>NCT1</nct_id></id_info></clinical_study>", "malformed nct_id"),
        (b"<search_results count='0'/>", "no <clinical_study>"),
        (b'{"ProtocolSection": {}}', "not well-formed"),
    ],
)
def test_unusable_documents_give_parse_errors(data: bytes, reason: str) -> None:
    items = list(ctgov_xml.records(data, "bad.xml"))
    assert len(items) == 1 and isinstance(items[0], ParseError)
    assert reason in items[0].reason


def test_sniff_and_registry() -> None:
    for path in (HAND, OLD, SEARCH):
        head = path.read_bytes()[:SNIFF_BYTES]
        assert ctgov_xml.sniff(head)
        assert detect(head) is ctgov_xml
    for other in [*(FIXTURES / "records" / "v2").glob("*.json"), *(FIXTURES / "records" / "classic").glob("*.json")]:
        assert not ctgov_xml.sniff(other.read_bytes()[:SNIFF_BYTES])
    assert not ctgov_xml.sniff(b"<!DOCTYPE html><html><body><pre><clinical_study></pre></body></html>")
    assert ctgov_xml.sniff(b"\xef\xbb\xbf<?xml version='1.0'?>\n<clinical_study>")
    order = list(REGISTRY)
    assert order.index(SourceFormat.CTGOV_CLASSIC_JSON) < order.index(SourceFormat.CTGOV_XML)
    assert REGISTRY[SourceFormat.CTGOV_XML] is ctgov_xml
    assert ctgov_xml.FORMAT is SourceFormat.CTGOV_XML and ctgov_xml.DESCRIPTION


def test_sniff_rejects_the_json_corpora(corpus_dir: Path) -> None:
    paths = [*(corpus_dir / "ctgov-v2-json").glob("*.json"), *(corpus_dir / "ctgov-classic-json").glob("*.json")]
    if not paths:
        pytest.skip("no JSON records in the corpus")
    assert not any(ctgov_xml.sniff(p.read_bytes()[:SNIFF_BYTES]) for p in paths)
