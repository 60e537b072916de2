"""The core pipeline: mapping determinism, golden graphs, ingest idempotence, safe
replacement, clean errors for bad input, and input shapes (arrays, search pages, zips)."""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import terms as T
from kg.enums import AgeUnit, SourceFormat
from kg.ingest import ingest
from kg.mapping import MappingOptions, graph_for, trial_quads
from kg.model import Age, Arm, Condition, Source, Trial
from kg.sources import ctgov_v2_json
from kg.store import TrialStore
from tests.conftest import FIXTURES

V2_FIXTURE = FIXTURES / "records" / "v2" / "NCT09900101.json"
GOLDEN = FIXTURES / "golden" / "NCT09900101.nq"
PINNED = MappingOptions(ingest_time="2024-01-01T00:00:00Z", tool_version="0.1.0")


def _nquads(quads: list[ox.Quad]) -> bytes:
    return ox.serialize(sorted(quads, key=str), format=ox.RdfFormat.N_QUADS)


def test_golden_graph_is_isomorphic() -> None:
    """The hand-checked graph of a hand-written record. Regenerate with
    TRIALKG_UPDATE_GOLDEN=1, then check the diff by hand."""
    trial = next(ctgov_v2_json.parse(V2_FIXTURE))
    got = set(trial_quads(trial, PINNED))
    if os.environ.get("TRIALKG_UPDATE_GOLDEN"):
        GOLDEN.write_bytes(_nquads(list(got)))
    expected = set(ox.parse(path=str(GOLDEN), format=ox.RdfFormat.N_QUADS))
    # no blank nodes are minted, so isomorphism is set equality
    assert not any(isinstance(t, ox.BlankNode) for q in got for t in (q.subject, q.object))
    assert got - expected == set(), "quads not in the golden graph"
    assert expected - got == set(), "golden quads missing"


def test_same_input_gives_byte_identical_nquads() -> None:
    a = _nquads(trial_quads(next(ctgov_v2_json.parse(V2_FIXTURE)), PINNED))
    b = _nquads(trial_quads(next(ctgov_v2_json.parse(V2_FIXTURE)), PINNED))
    assert a == b


def test_contacts_phone_and_email_only_when_opted_in() -> None:
    trial = next(ctgov_v2_json.parse(V2_FIXTURE))
    default = _nquads(trial_quads(trial, PINNED)).decode()
    assert "jane.roe@example.org" not in default
    assert "555 0100" not in default
    assert '"Jane Roe"' in default  # a name and role are not contact details
    opted = _nquads(trial_quads(trial, MappingOptions(include_contacts=True, ingest_time=None))).decode()
    assert "jane.roe@example.org" in opted and "+1 555 0100" in opted


def test_typed_literals_from_the_record() -> None:
    trial = next(ctgov_v2_json.parse(V2_FIXTURE))
    quads = trial_quads(trial, PINNED)
    t = T.trial_iri("NCT09900101")
    by_pred = {q.predicate: q.object for q in quads if q.subject == t}
    assert by_pred[T.startDate] == ox.Literal("2024-02-15", datatype=T.XSD_DATE)
    assert by_pred[T.completionDate] == ox.Literal("2026-06", datatype=T.XSD_GYEARMONTH)
    assert by_pred[T.enrollmentCount] == ox.Literal("40", datatype=T.XSD_INTEGER)
    assert by_pred[T.enrollmentType] == T.tkg("EnrollmentType_ESTIMATED")
    # the padded registry MeSH ID D000008180 is D008180
    assert ox.Quad(t, T.conditionMesh, T.mesh_iri("D008180"), graph_for(trial)) in quads


@pytest.mark.parametrize(
    ("value", "unit", "canonical"),
    [
        # by hand, from the XSD 1.1 canonical duration: months over 12 carry into years,
        # hours over 24 into days, and zero is PT0S
        (18, "Years", "P18Y"),
        (6, "Months", "P6M"),
        (18, "Months", "P1Y6M"),
        (24, "Months", "P2Y"),
        (1.5, "Years", "P1Y6M"),
        (2, "Weeks", "P14D"),
        (12, "Hours", "PT12H"),
        (48, "Hours", "P2D"),
        (36, "Hours", "P1DT12H"),
        (90, "Minutes", "PT1H30M"),
        (0, "Years", "PT0S"),
        (0, "Days", "PT0S"),
    ],
)
def test_ages_are_canonical_durations_that_read_back_unchanged(value: float, unit: str, canonical: str) -> None:
    """What ingest writes (and the N-Quads cache keeps) is what the store gives back."""
    age = Age(value, AgeUnit(unit))
    assert age.iso_duration == canonical
    store = ox.Store()
    node = ox.NamedNode("urn:x-test:age")
    store.add(ox.Quad(node, node, ox.Literal(canonical, datatype=T.XSD_DURATION)))
    assert next(iter(store)).object == ox.Literal(canonical, datatype=T.XSD_DURATION)


def test_repeated_names_never_share_a_node() -> None:
    """Names that repeat within a list are numbered, and a number never lands on another
    item's own name: "Group-2", "Group", "Group" are three arms, "Asthma", "asthma",
    "Asthma 2" three conditions."""
    trial = Trial(
        nct_id="NCT09900779",
        source=Source(SourceFormat.CTGOV_V2_JSON, "x.json", "sha256:0"),
        conditions=[Condition("Asthma"), Condition("asthma"), Condition("Asthma 2")],
        arms=[Arm("Group-2", None, None, []), Arm("Group", None, None, []), Arm("Group", None, None, [])],
    )
    quads = trial_quads(trial, PINNED)
    base = T.trial_iri("NCT09900779").value
    arms = {q.object.value.removeprefix(base) for q in quads if q.predicate == T.arm}
    assert arms == {"/arm/group-2", "/arm/group", "/arm/group-3"}
    conditions = {q.object.value.removeprefix(base) for q in quads if q.predicate == T.condition}
    # the second "asthma" would be asthma-2, which "Asthma 2" holds: asthma-3
    assert conditions == {"/condition/asthma", "/condition/asthma-3", "/condition/asthma-2"}
    labels = {q.subject.value: q.object.value for q in quads if q.predicate == T.name and "/arm/" in q.subject.value}
    assert sorted(labels.values()) == ["Group", "Group", "Group-2"]


def test_arms_link_same_named_interventions_by_type() -> None:
    # two interventions named "Placebo", told apart in the arms only by their type prefix;
    # the second also names its arm from its own side
    study = json.loads(V2_FIXTURE.read_text(encoding="utf-8"))
    arms_module = study["protocolSection"]["armsInterventionsModule"]
    arms_module["armGroups"] = [
        {"label": "Pill", "type": "PLACEBO_COMPARATOR", "interventionNames": ["Drug: Placebo"]},
        {"label": "Infusion", "type": "SHAM_COMPARATOR", "interventionNames": ["Biological: Placebo"]},
        {"label": "Both", "type": "OTHER"},
    ]
    arms_module["interventions"] = [
        {"type": "DRUG", "name": "Placebo", "armGroupLabels": ["Pill"]},
        {"type": "BIOLOGICAL", "name": "Placebo", "armGroupLabels": ["Infusion", "Both"]},
    ]
    trial = ctgov_v2_json.study_to_trial(study, "same-names.json", checksum="0" * 64)
    quads = trial_quads(trial, PINNED)
    ivs = {q.subject: q.object for q in quads if q.predicate == T.interventionType}
    by_type = {str(v.value).rsplit("_", 1)[-1]: k for k, v in ivs.items()}
    assert len(by_type) == 2, by_type
    linked = {(q.subject.value.rsplit("/", 1)[-1], q.object) for q in quads if q.predicate == T.armIntervention}
    assert linked == {("pill", by_type["DRUG"]), ("infusion", by_type["BIOLOGICAL"]), ("both", by_type["BIOLOGICAL"])}


# -- ingest ------------------------------------------------------------------


@pytest.fixture()
def records_dir(tmp_path: Path) -> Path:
    d = tmp_path / "records"
    d.mkdir()
    shutil.copy(V2_FIXTURE, d / V2_FIXTURE.name)
    return d


def _graph_content(store: TrialStore) -> set[str]:
    return {str(q) for q in store.store if q.predicate != T.PROV_GENERATED_AT_TIME}


def test_ingest_twice_changes_nothing(records_dir: Path, tmp_path: Path) -> None:
    store = TrialStore(tmp_path / "store")
    first = ingest(store, [records_dir])
    assert (first.trials_added, first.trials_replaced, first.trials_unchanged) == (1, 0, 0)
    before = {str(q) for q in store.store}
    second = ingest(store, [records_dir])
    assert (second.trials_added, second.trials_replaced, second.trials_unchanged) == (0, 0, 1)
    assert {str(q) for q in store.store} == before


def test_two_sources_of_a_trial_never_mix_two_things_in_one_node(tmp_path: Path) -> None:
    """An older and a newer record of one trial (two files, two graphs) that list arms,
    outcomes and criteria in another order, one with an outcome and a site the other
    lacks: in the union of the graphs each node is still one thing (one measure, one
    label, one text), and what both records state is one node, in both graphs."""
    d = tmp_path / "records"
    d.mkdir()
    shutil.copy(V2_FIXTURE, d / "new.json")
    old = json.loads(V2_FIXTURE.read_text(encoding="utf-8"))
    p = old["protocolSection"]
    p["armsInterventionsModule"]["armGroups"].reverse()
    p["outcomesModule"]["primaryOutcomes"].insert(0, {"measure": "BILAG response", "timeFrame": "12 weeks"})
    p["eligibilityModule"]["eligibilityCriteria"] = (
        "Inclusion Criteria:\n\n* SLEDAI-2K of 8 or more\n* Age 18 to 65 years\n\n"
        "Exclusion Criteria:\n\n* Active infection\n* Pregnancy"
    )
    p["contactsLocationsModule"]["locations"].reverse()
    p["contactsLocationsModule"]["locations"].insert(0, {"facility": "Old Site", "city": "Lyon", "country": "France"})
    (d / "old.json").write_text(json.dumps(old), encoding="utf-8")
    store = TrialStore(None)
    assert ingest(store, [d]).trials_added == 2
    assert len(list(store.trial_graphs(["NCT09900101"]))) == 2

    def values(prop: ox.NamedNode) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for q in store.store.quads_for_pattern(None, prop, None, None):
            out.setdefault(q.subject.value, set()).add(q.object.value)
        return out

    measures = values(T.measure)
    assert all(len(v) == 1 for v in measures.values()), measures
    assert sorted(m for v in measures.values() for m in v) == ["Adverse events", "BILAG response", "SRI-4 response"]
    labels = {k: v for k, v in values(T.name).items() if "/arm/" in k}
    assert sorted(v.pop() for v in labels.values()) == ["Observation", "Placebo", "UC-MSC"]
    texts = values(T.text)
    assert all(len(v) == 1 for v in texts.values()), texts
    assert len(texts) == 5  # two inclusion and three exclusion criteria (the old record lacks one)
    facilities = values(T.facility)
    assert sorted(v.pop() for v in facilities.values()) == [
        "Example Clinic Berlin",
        "Example University Hospital",
        "Old Site",
    ]
    # "SRI-4 response" is stated by both records: one node, in both graphs, with each
    # record's own position (second in the old record, first in the new)
    sri = next(k for k, v in measures.items() if v == {"SRI-4 response"})
    graphs = {q.graph_name for q in store.store.quads_for_pattern(ox.NamedNode(sri), T.measure, None, None)}
    assert len(graphs) == 2
    positions = {q.object.value for q in store.store.quads_for_pattern(ox.NamedNode(sri), T.position, None, None)}
    assert positions == {"1", "2"}


def test_changed_source_replaces_only_its_graph(records_dir: Path, tmp_path: Path) -> None:
    store = TrialStore(tmp_path / "store")
    other = json.loads(V2_FIXTURE.read_text())
    other["protocolSection"]["identificationModule"]["nctId"] = "NCT09900102"
    (records_dir / "NCT09900102.json").write_text(json.dumps(other))
    ingest(store, [records_dir])
    g2 = next(g for n, g in store.trial_graphs() if n == "NCT09900102")
    other_graph_before = {str(q) for q in store.graph_quads(g2)}

    doc = json.loads(V2_FIXTURE.read_text())
    doc["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
    (records_dir / V2_FIXTURE.name).write_text(json.dumps(doc))
    report = ingest(store, [records_dir])
    assert (report.trials_replaced, report.trials_unchanged) == (1, 1)
    t = T.trial_iri("NCT09900101")
    statuses = {q.object for q in store.store.quads_for_pattern(t, T.overallStatus, None, None)}
    assert statuses == {T.tkg("Status_COMPLETED")}  # the old RECRUITING is gone
    assert {str(q) for q in store.graph_quads(g2)} == other_graph_before
    assert len(store.trial_graphs()) == 2


def test_interrupted_graph_write_is_replaced_on_next_ingest(records_dir: Path, tmp_path: Path) -> None:
    """A graph without its checksum marker is an interrupted bulk write."""
    store = TrialStore(tmp_path / "store")
    ingest(store, [records_dir])
    ((_nct, g),) = store.trial_graphs()
    graph = ox.NamedNode(g)
    complete = {str(q) for q in store.graph_quads(g) if q.predicate != T.PROV_GENERATED_AT_TIME}
    for q in list(store.store.quads_for_pattern(graph, T.checksum, None, graph)):
        store.store.remove(q)
    # drop half of the rest, as a crash in the middle of the bulk write would
    rest = list(store.graph_quads(g))
    for q in rest[: len(rest) // 2]:
        store.store.remove(q)
    report = ingest(store, [records_dir])
    assert report.trials_replaced == 1
    assert {str(q) for q in store.graph_quads(g) if q.predicate != T.PROV_GENERATED_AT_TIME} == complete


@pytest.mark.parametrize("batch_bytes", [1, 32 * 1024 * 1024], ids=["batch-per-trial", "one-batch"])
def test_same_graph_twice_in_one_run_the_later_wins(
    tmp_path: Path, batch_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two files of the same name (so the same graph) one after the other in one run.
    With a batch per trial, and a slow disk, the first is still being loaded in the
    background when the second arrives."""
    folders = {name: tmp_path / name for name in ("a", "b", "c")}
    for folder in folders.values():
        folder.mkdir()
    for name, status in (("a", "RECRUITING"), ("b", "COMPLETED")):
        doc = json.loads(V2_FIXTURE.read_text())
        doc["protocolSection"]["statusModule"]["overallStatus"] = status
        (folders[name] / "x.json").write_text(json.dumps(doc))
    for i in range(3):  # other trials, loaded first
        doc = json.loads(V2_FIXTURE.read_text())
        doc["protocolSection"]["identificationModule"]["nctId"] = f"NCT0990020{i}"
        (folders["c"] / f"y{i}.json").write_text(json.dumps(doc))
    store = TrialStore(tmp_path / "store")
    real = store.add_new_graphs_nquads

    def slow(body: bytes, markers: bytes) -> None:
        time.sleep(0.3)
        real(body, markers)

    monkeypatch.setattr(store, "add_new_graphs_nquads", slow)
    report = ingest(store, [folders["c"], folders["a"], folders["b"]], batch_bytes=batch_bytes)
    assert (report.trials_added, report.trials_replaced) == (4, 1)
    t = T.trial_iri("NCT09900101")
    statuses = {q.object for q in store.store.quads_for_pattern(t, T.overallStatus, None, None)}
    assert statuses == {T.tkg("Status_COMPLETED")}
    assert len(store.trial_graphs()) == 4
    again = ingest(store, [folders["c"], folders["b"]], batch_bytes=batch_bytes)
    assert again.trials_unchanged == 4


def test_a_failed_bulk_load_is_raised_not_lost(
    records_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TrialStore(tmp_path / "store")

    def failing(body: bytes, markers: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "add_new_graphs_nquads", failing)
    with pytest.raises(OSError, match="No space left"):
        ingest(store, [records_dir])


def test_search_page_array_and_zip_inputs(tmp_path: Path) -> None:
    study = json.loads(V2_FIXTURE.read_text())
    second = json.loads(V2_FIXTURE.read_text())
    second["protocolSection"]["identificationModule"]["nctId"] = "NCT09900103"
    (tmp_path / "page.json").write_text(json.dumps({"studies": [study, second], "nextPageToken": "abc"}))
    (tmp_path / "array.json").write_text(json.dumps([study]))
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as zf:
        zf.writestr("studies/one.json", json.dumps(study))
        zf.writestr("studies/broken.json", '{"protocolSection": {')
    store = TrialStore(None)
    report = ingest(store, [tmp_path])
    # array.json, bundle.zip!studies/one.json and page.json each give NCT09900101 a graph
    assert sorted(store.trial_graphs(["NCT09900101"])).__len__() == 3
    assert len(store.trial_graphs(["NCT09900103"])) == 1
    assert [e.file for e in report.errors] == ["bundle.zip!studies/broken.json"]
    assert "invalid JSON" in report.errors[0].reason


def test_empty_search_pages_and_saved_runs_of_pages(tmp_path: Path) -> None:
    """A search with no hits is an answer (no trials, no error); pages saved one after
    another in an array give every study, each named by its place."""
    study = json.loads(V2_FIXTURE.read_text())
    second = json.loads(V2_FIXTURE.read_text())
    second["protocolSection"]["identificationModule"]["nctId"] = "NCT09900103"
    (tmp_path / "empty.json").write_text(json.dumps({"studies": [], "nextPageToken": None}))
    (tmp_path / "empty-count.json").write_text('{"totalCount": 0, "studies": []}')
    pages = [{"studies": [study], "nextPageToken": "abc"}, {"studies": [second, "oops"]}]
    (tmp_path / "pages.json").write_text(json.dumps(pages))
    store = TrialStore(None)
    report = ingest(store, [tmp_path])
    assert report.trials_added == 2
    assert len(store.trial_graphs(["NCT09900101"])) == len(store.trial_graphs(["NCT09900103"])) == 1
    [error] = report.errors
    assert (error.file, error.where) == ("pages.json", "$[1].studies[1]")
    assert error.reason == "a study must be a JSON object, found a string"


def test_json_lines_of_studies_and_pages(tmp_path: Path) -> None:
    """One document per line (``jq -c '.studies[]'``): every study, a bad line named by
    its number, and the checksum the study has in an array."""
    study = json.loads(V2_FIXTURE.read_text())
    second = json.loads(V2_FIXTURE.read_text())
    second["protocolSection"]["identificationModule"]["nctId"] = "NCT09900103"
    lines = [json.dumps(study), "", json.dumps({"studies": [second]}), '{"protocolSection": {']
    (tmp_path / "studies.jsonl").write_text("\n".join(lines) + "\n")
    store = TrialStore(None)
    report = ingest(store, [tmp_path / "studies.jsonl"])
    assert report.trials_added == 2
    [error] = report.errors
    assert (error.file, error.where) == ("studies.jsonl", "line 4")
    assert error.reason.startswith("invalid JSON")
    (tmp_path / "array.json").write_text(json.dumps([study]))
    again = ingest(store, [tmp_path / "array.json"])
    assert again.trials_added == 1
    graphs = [ox.NamedNode(g) for _, g in store.trial_graphs(["NCT09900101"])]
    checksums = {q.object for g in graphs for q in store.store.quads_for_pattern(g, T.checksum, None, g)}
    assert len(graphs) == 2 and len(checksums) == 1  # the study's own checksum, whichever file held it


def test_bad_files_are_reported_and_the_rest_goes_on(tmp_path: Path) -> None:
    good = json.loads(V2_FIXTURE.read_text())
    (tmp_path / "a_good.json").write_text(json.dumps(good))
    (tmp_path / "b_truncated.json").write_bytes(V2_FIXTURE.read_bytes()[:700])
    (tmp_path / "c_notes.txt").write_text("shopping list: eggs, milk\n")
    bad_id = json.loads(V2_FIXTURE.read_text())
    bad_id["protocolSection"]["identificationModule"]["nctId"] = "NCT123"
    (tmp_path / "d_bad_id.json").write_text(json.dumps(bad_id))
    bad_value = json.loads(V2_FIXTURE.read_text())
    bad_value["protocolSection"]["identificationModule"]["nctId"] = "NCT09900104"
    bad_value["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = "forty"
    (tmp_path / "e_bad_value.json").write_text(json.dumps(bad_value))

    store = TrialStore(None)
    report = ingest(store, [tmp_path, tmp_path / "missing.json"])
    errors = {e.file: e for e in report.errors}
    assert set(errors) == {"b_truncated.json", "c_notes.txt", "d_bad_id.json", str(tmp_path / "missing.json")}
    assert "invalid JSON" in errors["b_truncated.json"].reason
    assert "not in any known format" in errors["c_notes.txt"].reason
    assert errors["d_bad_id.json"].where == "$.protocolSection.identificationModule.nctId"
    assert "no such file" in errors[str(tmp_path / "missing.json")].reason
    # a value that cannot be mapped is noted on the graph, not invented, not fatal
    assert {n for n, _ in store.trial_graphs()} == {"NCT09900101", "NCT09900104"}
    t = T.trial_iri("NCT09900104")
    assert not list(store.store.quads_for_pattern(t, T.enrollmentCount, None, None))
    notes = [q.object.value for q in store.store.quads_for_pattern(None, T.parseNote, None, None)]
    assert notes == ["$.protocolSection.designModule.enrollmentInfo.count: not a whole number: 'forty'"]


def test_strict_values_reject_the_record(tmp_path: Path) -> None:
    bad_value = json.loads(V2_FIXTURE.read_text())
    bad_value["protocolSection"]["designModule"]["phases"] = ["PHASE9"]
    (tmp_path / "bad.json").write_text(json.dumps(bad_value))
    report = ingest(TrialStore(None), [tmp_path], strict_parse=True)
    (err,) = report.errors
    assert err.where == "$.protocolSection.designModule.phases"
    assert err.nct_id == "NCT09900101"
    assert "PHASE9" in err.reason


def test_worker_processes_store_the_same_graphs(tmp_path: Path) -> None:
    for i in range(24):  # more than the files mapped inline before workers start
        doc = json.loads(V2_FIXTURE.read_text())
        doc["protocolSection"]["identificationModule"]["nctId"] = f"NCT099002{i:02d}"
        (tmp_path / f"r{i}.json").write_text(json.dumps(doc))
    (tmp_path / "broken.json").write_text("{")
    one, two = TrialStore(None), TrialStore(None)
    r1 = ingest(one, [tmp_path], options=PINNED, workers=1)
    r2 = ingest(two, [tmp_path], options=PINNED, workers=2)
    assert (r1.trials_added, r2.trials_added) == (24, 24)
    assert [e.file for e in r1.errors] == [e.file for e in r2.errors] == ["broken.json"]
    assert {str(q) for q in one.store} == {str(q) for q in two.store}
