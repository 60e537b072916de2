"""Validation on real data, per trial graph and whole-graph, the ingest gate, the
``validate`` command and the quality-check queries.

- the whole corpus, and the example pages, validate with no Violation (or only
  violations listed as source defects), with the default engine (SPARQL; it equals
  pySHACL, see test_validation_engines.py);
- per-trial validation gives the same results as validating the same trial graphs
  merged into one data graph;
- ``ingest --validate`` keeps a broken trial apart (quarantine graph) while its
  neighbours land, and ``--strict`` rejects it;
- every queries/qc/*-violation.rq returns no rows on the corpus except listed
  source defects, and returns rows on a graph broken in its way.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import typer
from rdflib.namespace import SH
from typer.testing import CliRunner

from kg import resources, shacl_sparql
from kg import terms as T
from kg.cli import app as main_app
from kg.cli.validate import register
from kg.ingest import ingest
from kg.mapping import MappingOptions, graph_for, trial_quads
from kg.queries import run_query
from kg.store import TrialStore
from kg.validation import Engine, IngestGate, Severity, quarantined_graphs, validate_merged, validate_store
from tests.conftest import CORPUS, EXAMPLES, FIXTURES
from tests.maximal import NCT, maximal_trial

DEFECTS = json.loads((FIXTURES / "validation" / "source_defects.json").read_text(encoding="utf-8"))["defects"]
PINNED = MappingOptions(ingest_time="2024-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def corpus_report(corpus_store):  # type: ignore[no-untyped-def]
    ts, _ = corpus_store
    return validate_store(ts)


def _listed(check: str) -> set[str]:
    return {d["nct_id"] for d in DEFECTS if d["check"] == check}


def test_corpus_has_no_unlisted_violation(corpus_store, corpus_report) -> None:  # type: ignore[no-untyped-def]
    ts, _ = corpus_store
    report = corpus_report
    ncts = sorted({n for n, _ in ts.trial_graphs()})
    assert len(ncts) > 2000
    assert report.trials == ncts
    assert len(report.graphs) >= len(ncts)
    violations = {
        (r.source_shape.rsplit("#", 1)[-1], r.trial_id) for r in report.results if r.severity is Severity.VIOLATION
    }
    listed = {(d["check"], d["nct_id"]) for d in DEFECTS if not d["check"].endswith(".rq")}
    assert violations - listed == set(), "violations that are not listed source defects"
    assert listed - violations == set(), "listed defects no longer found: remove them from the fixture"
    assert report.conforms == (not listed)


def test_pyshacl_worker_processes_give_the_same_report(corpus_store, corpus_report) -> None:  # type: ignore[no-untyped-def]
    """pySHACL in two worker processes, on every 60th trial, gives the report of the
    default engine."""
    ts, _ = corpus_store
    subset = sorted({n for n, _ in ts.trial_graphs()})[::60]
    two = validate_store(ts, subset, engine=Engine.PYSHACL, workers=2, chunk_size=5)
    assert two.results == [r for r in corpus_report.results if r.trial_id in set(subset)]
    assert two.trials == subset


def test_sparql_engine_threads_give_the_same_results_in_the_same_order(corpus_store) -> None:  # type: ignore[no-untyped-def]
    """The SPARQL engine's queries run three at a time give the results of one at a time,
    in the same order, before any sorting."""
    ts, _ = corpus_store
    one = shacl_sparql.run(ts.store, workers=1)
    three = shacl_sparql.run(ts.store, workers=3)
    assert one, "the corpus gives results (unlinked conditions), so the comparison means something"
    assert three == one


def test_known_source_gaps_are_warnings(corpus_report) -> None:  # type: ignore[no-untyped-def]
    """The withheld record NCT03182660 names no condition and no study type: incomplete,
    so Warnings (hand-checked in the XML file)."""
    report = corpus_report
    found = {(r.source_shape.rsplit("#", 1)[-1], r.severity) for r in report.results if r.trial_id == "NCT03182660"}
    assert ("Trial-condition-missing", Severity.WARNING) in found
    assert ("Trial-studyType-missing", Severity.WARNING) in found
    classic = {r.source_shape.rsplit("#", 1)[-1] for r in report.results if r.trial_id == "NCT04135092"}
    assert "Trial-condition-missing" in classic


def shared_nodes(ts: TrialStore, graphs: list[str]) -> set[str]:
    """Subjects stated in more than one of ``graphs`` (organisations, named by name)."""
    seen: dict[str, str] = {}
    shared = set()
    for g in graphs:
        for q in ts.graph_quads(g):
            s = q.subject.value
            if seen.setdefault(s, g) != g:
                shared.add(s)
    return shared


def test_per_trial_results_equal_whole_graph_validation(corpus_store, corpus_report) -> None:  # type: ignore[no-untyped-def]
    """Per-trial results equal those of the same graphs merged into one data graph, on the
    whole corpus. Every node a trial graph describes is scoped to its trial (organisations
    too), so no node is stated by two trials' graphs; a trial described by several source
    files is left out, since its sources may disagree on the same node by design."""
    ts, _ = corpus_store
    per_trial = corpus_report
    graphs = ts.trial_graphs()
    per_nct = Counter(n for n, _ in graphs)
    single = sorted(n for n, k in per_nct.items() if k == 1)
    assert len(single) >= 2000
    assert shared_nodes(ts, [g for n, g in graphs if per_nct[n] == 1]) == set()
    merged = validate_merged(ts, single)
    per = {r.key()[1:] for r in per_trial.results if r.trial_id in set(single)}
    whole = {r.key()[1:] for r in merged.results}
    assert per, "the corpus gives results (unlinked conditions at least), so the comparison means something"
    assert whole == per


def test_example_pages_validate_without_violation(tmp_path: Path) -> None:
    ts = TrialStore(None)
    rep = ingest(ts, [EXAMPLES / "pages"], options=PINNED)
    assert rep.trials_added == 5, rep.errors
    report = validate_store(ts, workers=1)
    assert [r for r in report.results if r.severity is Severity.VIOLATION] == []
    # the truncated IGNITE page is flagged as partial (examples/pages/002_*: "page is truncated")
    partial = {r.trial_id for r in report.results if r.source_shape.endswith("#Source-partial-page")}
    assert partial == {"NCT03765957"}


# ---------------------------------------------------------------- the ingest gate


def _records(tmp_path: Path) -> Path:
    """Three real v2 records; in one of them the start date is moved after the completion date."""
    src = tmp_path / "records"
    src.mkdir()
    corpus = CORPUS / "ctgov-v2-json"
    if not corpus.exists():
        pytest.skip(f"the shared corpus is not at {corpus}")
    for name in ("NCT00124774.json", "NCT00220935.json"):
        shutil.copy(corpus / name, src / name)
    record = json.loads((corpus / "NCT00763412.json").read_text(encoding="utf-8"))
    assert record["protocolSection"]["statusModule"]["completionDateStruct"]["date"] == "2013-01"
    record["protocolSection"]["statusModule"]["startDateStruct"]["date"] = "2014-02"
    (src / "NCT00763412.json").write_text(json.dumps(record), encoding="utf-8")
    return src


def test_gate_keeps_a_broken_trial_apart_and_its_neighbours_land(tmp_path: Path) -> None:
    src = _records(tmp_path)
    ts = TrialStore(None)
    gate = IngestGate(ts)
    rep = ingest(ts, [src], options=PINNED, gate=gate)
    assert rep.trials_added == 2
    assert [(n, f) for n, f, _ in rep.kept_apart] == [("NCT00763412", "NCT00763412.json")]
    assert "TrialDateOrderShape" in rep.kept_apart[0][2]
    assert {n for n, _ in ts.trial_graphs()} == {"NCT00124774", "NCT00220935"}
    quarantine = quarantined_graphs(ts)
    assert len(quarantine) == 1 and quarantine[0].startswith(gate.quarantine_prefix + "graph/NCT00763412/")
    kept = list(ts.graph_quads(quarantine[0]))
    assert any(q.predicate == T.startDate and q.object.value == "2014-02" for q in kept)
    # nothing of the broken trial in any trial graph
    assert not any(g.startswith(T.GRAPH_PREFIX + "NCT00763412/") for g in ts.named_graphs())
    # the copy has the trial's conditions and interventions but not the trial-level name-key
    # shortcuts, and the queries that group by them across the store do not count it
    assert sum(q.predicate == T.condition for q in kept) >= 2 and any(q.predicate == T.intervention for q in kept)
    assert not any(q.predicate in T.TRIAL_SHORTCUTS for q in kept)
    without = TrialStore(None)
    without.store.bulk_extend(q for q in ts.store if q.graph_name.value != quarantine[0])
    for name, params in (
        ("shared-interventions", {"min_conditions": 1}),
        ("condition-co-occurrence", {"min_trials": 1}),
    ):
        assert run_query(name, params, store=ts) == run_query(name, params, store=without), name
        assert run_query(name, params, store=ts)[1], name
    # fixed and ingested again: it lands and its quarantine copy goes
    record = json.loads((src / "NCT00763412.json").read_text(encoding="utf-8"))
    record["protocolSection"]["statusModule"]["startDateStruct"]["date"] = "2006-11"
    (src / "NCT00763412.json").write_text(json.dumps(record), encoding="utf-8")
    rep2 = ingest(ts, [src], options=PINNED, gate=IngestGate(ts))
    assert rep2.trials_added == 1 and rep2.kept_apart == []
    assert quarantined_graphs(ts) == []


def test_strict_gate_rejects_without_quarantine(tmp_path: Path) -> None:
    src = _records(tmp_path)
    ts = TrialStore(None)
    rep = ingest(ts, [src], options=PINNED, gate=IngestGate(ts, reject=True))
    assert rep.trials_added == 2 and len(rep.kept_apart) == 1
    assert quarantined_graphs(ts) == []


def test_cli_ingest_validate_and_strict(tmp_path: Path) -> None:
    src = _records(tmp_path)
    runner = CliRunner()
    r = runner.invoke(main_app, ["ingest", str(src), "--store", str(tmp_path / "s1"), "--no-link", "--validate"])
    assert r.exit_code == 1, r.output
    assert "kept apart: NCT00763412 from NCT00763412.json" in r.output
    assert "2 added" in r.output
    r = runner.invoke(
        main_app, ["ingest", str(src), "--store", str(tmp_path / "s2"), "--no-link", "--validate", "--strict"]
    )
    assert r.exit_code == 1, r.output
    assert "rejected: NCT00763412" in r.output
    ts = TrialStore(tmp_path / "s2", read_only=True)
    assert {n for n, _ in ts.trial_graphs()} == {"NCT00124774", "NCT00220935"}
    assert quarantined_graphs(ts) == []
    del ts
    r = runner.invoke(
        main_app,
        ["ingest", str(src), "--store", str(tmp_path / "s3"), "--no-link", "--validate", "--engine", "pyshacl"],
    )
    assert r.exit_code == 1, r.output
    assert "kept apart: NCT00763412 from NCT00763412.json" in r.output


# ---------------------------------------------------------------- trialkg validate


@pytest.fixture
def validate_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """trialkg"""

    register(app)
    return app


def _store_with(tmp_path: Path, broken: bool) -> Path:
    path = tmp_path / ("broken" if broken else "ok")
    ts = TrialStore(path)
    trial = maximal_trial(notes=False)
    quads = trial_quads(trial, PINNED)
    if broken:  # enrollment -3 (hand-made): a Violation of Trial-enrollmentCount
        quads = [q for q in quads if q.predicate != T.enrollmentCount]
        quads.append(
            ox.Quad(T.trial_iri(NCT), T.enrollmentCount, ox.Literal("-3", datatype=T.XSD_INTEGER), graph_for(trial))
        )
    ts.add_new_graphs(quads)
    ts.flush()
    del ts
    return path


def test_validate_command_exit_codes_and_formats(tmp_path: Path, validate_app: typer.Typer) -> None:
    runner = CliRunner()
    ok = _store_with(tmp_path, broken=False)
    r = runner.invoke(validate_app, ["validate", "--store", str(ok)])
    assert r.exit_code == 0, r.output
    assert "1 trial graph(s) of 1 trial(s) validated: 0 violations, 0 warnings, 0 infos; conforms" in r.output

    bad = _store_with(tmp_path, broken=True)
    r = runner.invoke(validate_app, ["validate", "--store", str(bad), "--trial", NCT])
    assert r.exit_code == 1, r.output
    lines = r.output.splitlines()
    assert lines[0] == NCT
    assert lines[1].startswith("  tkgsh:Trial-enrollmentCount: The enrollment count must be")
    assert lines[2].split() == [
        "VIOLATION",
        NCT,
        "tkg:enrollmentCount",
        "=",
        '"-3"^^<http://www.w3.org/2001/XMLSchema#integer>',
        "[sh:MinInclusive;",
        f"ctgov-v2-json/{graph_for(maximal_trial()).value.rsplit('/', 1)[-1]}]",
    ]

    # the reference engine prints the same report
    ref = runner.invoke(validate_app, ["validate", "--store", str(bad), "--trial", NCT, "--engine", "pyshacl"])
    assert ref.exit_code == 1 and ref.output == r.output

    r = runner.invoke(validate_app, ["validate", "--store", str(bad), "--format", "json"])
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert data["conforms"] is False and data["counts"]["Violation"] == 1
    (res,) = data["results"]
    assert res["trial_id"] == NCT and res["graph"] == graph_for(maximal_trial()).value
    assert res["focus_node"] == T.trial_iri(NCT).value and res["result_path"] == T.enrollmentCount.value

    r = runner.invoke(validate_app, ["validate", "--store", str(bad), "--format", "turtle"])
    assert r.exit_code == 1
    g = rdflib.Graph().parse(data=r.output, format="turtle")
    (report,) = list(g.subjects(rdflib.RDF.type, SH.ValidationReport))
    assert g.value(report, SH.conforms).toPython() is False
    (result,) = list(g.objects(report, SH.result))
    assert g.value(result, SH.resultSeverity) == SH.Violation
    assert g.value(result, SH.sourceConstraintComponent) == SH.MinInclusiveConstraintComponent

    r = runner.invoke(validate_app, ["validate", "--store", str(bad), "--trial", "NCT00000000"])
    assert r.exit_code == 2 and "no trial graph for NCT00000000" in r.output
    r = runner.invoke(validate_app, ["validate", "--store", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "no store at" in r.output


# ---------------------------------------------------------------- quality-check queries


def _rows(store: ox.Store, path: Path) -> list[dict[str, str]]:
    res = store.query(path.read_text(encoding="utf-8"))
    names = [v.value for v in res.variables]
    return [{n: (sol[n].value if sol[n] is not None else "") for n in names} for sol in res]


QC = {p.name: p for p in resources.qc_query_files()}


def test_qc_queries_find_only_listed_source_defects(corpus_store) -> None:  # type: ignore[no-untyped-def]
    ts, _ = corpus_store
    assert len(QC) >= 5
    for name, path in QC.items():
        rows = _rows(ts.store, path)
        found = {r.get("nct") or T.DATA_NS + "?" + r.get("graph", "") for r in rows}
        assert found - _listed(name) == set(), f"{name}: {rows}"
        assert _listed(name) - found == set(), f"{name}: listed defects no longer found"


def _broken_store(mutate) -> ox.Store:  # type: ignore[no-untyped-def]
    trial = maximal_trial(notes=False)
    quads = trial_quads(trial, PINNED)
    quads = mutate(quads, graph_for(trial))
    store = ox.Store()
    store.extend(quads)
    return store


B = T.trial_iri(NCT)


def _drop(*preds: ox.NamedNode):  # type: ignore[no-untyped-def]
    return lambda quads, g: [q for q in quads if q.predicate not in preds]


BROKEN = {
    "trials-without-conditions-violation.rq": _drop(T.condition),
    "trial-without-title-violation.rq": _drop(T.briefTitle, T.officialTitle),
    "dangling-arm-intervention-violation.rq": lambda quads, g: [
        *quads,
        ox.Quad(ox.NamedNode(B.value + "/arm/uc-msc"), T.armIntervention, ox.NamedNode(B.value + "/nowhere"), g),
    ],
    "dangling-vocabulary-link-violation.rq": _drop(T.linkedConcept),
    "graph-without-provenance-violation.rq": _drop(T.checksum),
    "graph-with-several-trials-violation.rq": lambda quads, g: [
        *quads,
        ox.Quad(T.trial_iri("NCT09900043"), T.RDF_TYPE, T.ClinicalTrial, g),
    ],
}


def test_every_qc_query_has_a_broken_case() -> None:
    assert set(BROKEN) == set(QC)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_qc_query_finds_its_breakage(name: str) -> None:
    assert _rows(_broken_store(lambda q, g: q), QC[name]) == [], "the maximal trial has no such defect"
    rows = _rows(_broken_store(BROKEN[name]), QC[name])
    assert rows, f"{name} found nothing in a graph broken in its way"
    if "nct" in rows[0]:
        assert {r["nct"] for r in rows} == {NCT}
    if "graph" in rows[0]:
        assert {r["graph"] for r in rows} == {graph_for(maximal_trial()).value}
