"""The command line, end to end on hand-written records: ingest, show, stats,
sparql, export in every format, exit statuses and clean errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

import kg.export
import kg.nquads_cache
from kg import __version__
from kg import terms as T
from kg.cli import app
from kg.ingest import ingest
from kg.mapping import MappingOptions
from kg.store import TrialStore
from tests.conftest import FIXTURES

V2_FIXTURE = FIXTURES / "records" / "v2" / "NCT09900101.json"
runner = CliRunner()


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    records = tmp_path / "records"
    records.mkdir()
    shutil.copy(V2_FIXTURE, records)
    s = tmp_path / "store"
    result = runner.invoke(app, ["ingest", "--no-link", "--store", str(s), str(records)])
    assert result.exit_code == 0, result.output
    assert "1 trials (ctgov-v2-json 1): 1 added, 0 replaced, 0 unchanged" in result.output
    return s


def test_show_json_facts_come_from_the_record(store: Path) -> None:
    result = runner.invoke(app, ["show", "NCT09900101", "--format", "json", "--store", str(store)])
    assert result.exit_code == 0, result.output
    rec = json.loads(result.output)
    # expected values are the hand-written record's own
    assert rec["nct_id"] == "NCT09900101"
    assert rec["brief_title"] == "Umbilical Cord MSCs for Refractory Lupus"
    assert rec["status"] == "RECRUITING"
    assert rec["phases"] == ["PHASE1", "PHASE2"]
    assert rec["study_type"] == "INTERVENTIONAL"
    assert rec["enrollment"] == {"count": 40, "type": "ESTIMATED"}
    assert rec["start_date"] == "2024-02-15"
    assert rec["completion_date"] == "2026-06"
    assert [c["name"] for c in rec["conditions"]] == ["Lupus Nephritis", "Systemic Lupus Erythematosus"]
    # in the record's order (tkg:position), not the order of their IRIs
    assert [(i["type"], i["name"]) for i in rec["interventions"]] == [
        ("BIOLOGICAL", "UC-MSC"),
        ("OTHER", "Saline"),
        ("DRUG", "Standard therapy"),
    ]
    assert rec["arms"] == [
        {
            "label": "UC-MSC",
            "type": "EXPERIMENTAL",
            "description": "1 million cells/kg intravenously on day 0 and day 7.",
            "interventions": ["Standard therapy", "UC-MSC"],
            # "1 million cells/kg": per kg of body weight
            "doses": [
                {
                    "value": 1000000,
                    "max_value": None,
                    "unit": "cells/kg",
                    "basis": "BODY_WEIGHT",
                    "qualifier": None,
                    "substance": None,
                    "text": "1 million cells/kg",
                }
            ],
        },
        {
            "label": "Placebo",
            "type": "PLACEBO_COMPARATOR",
            "description": "Saline infusion on day 0 and day 7.",
            "interventions": ["Saline", "Standard therapy"],
            "doses": [],
        },
        {
            "label": "Observation",
            "type": "NO_INTERVENTION",
            "description": "Registry follow-up only.",
            "interventions": [],
            "doses": [],
        },
    ]
    assert rec["sponsor"] == {"name": "Example University Hospital", "class": "OTHER"}
    assert (rec["allocation"], rec["intervention_model"], rec["masking"]) == ("RANDOMIZED", "PARALLEL", "DOUBLE")
    el = rec["eligibility"]
    assert (el["sex"], el["min_age"], el["max_age"], el["healthy_volunteers"]) == ("ALL", "18 Years", "65 Years", False)
    assert el["inclusion"] == ["Age 18 to 65 years", "SLEDAI-2K of 8 or more"]
    assert el["exclusion"] == ["Pregnancy", "Active infection", "Malignancy within 5 years"]
    assert rec["sources"][0]["format"] == "ctgov-v2-json"
    assert rec["sources"][0]["file"] == "NCT09900101.json"
    assert rec["sources"][0]["last_update"] == "2024-03-05"
    assert rec["disagreements"] == {}


def test_show_text_and_unknown_trial(store: Path) -> None:
    result = runner.invoke(app, ["show", "NCT09900101", "--store", str(store)])
    assert result.exit_code == 0
    assert "NCT09900101  Umbilical Cord MSCs for Refractory Lupus" in result.output
    assert "Enrollment:           40 ESTIMATED" in result.output
    missing = runner.invoke(app, ["show", "NCT00000001", "--store", str(store)])
    assert missing.exit_code == 1
    assert "NCT00000001 is not in the store" in missing.output
    assert "Traceback" not in missing.output


def test_show_lists_what_the_parser_could_not_read(tmp_path: Path) -> None:
    bad = FIXTURES / "records" / "classic" / "NCT09900003-bad-values.json"
    s = tmp_path / "store"
    ingested = runner.invoke(app, ["ingest", "--no-link", "--store", str(s), str(bad)])
    assert ingested.exit_code == 0, ingested.output
    as_json = runner.invoke(app, ["show", "NCT09900003", "--format", "json", "--store", str(s)])
    [source] = json.loads(as_json.output)["sources"]
    base = "$.FullStudy.Study.ProtocolSection"
    by_place = {n.split(": ", 1)[0]: n for n in source["notes"]}
    assert set(by_place) == {
        f"{base}.StatusModule.OverallStatus",
        f"{base}.StatusModule.StartDateStruct.StartDate",
        f"{base}.DesignModule.DesignInfo",
        f"{base}.DesignModule.EnrollmentInfo.EnrollmentCount",
        f"{base}.ConditionsModule.ConditionList.Condition[1]",
    }
    assert "'Paused indefinitely'" in by_place[f"{base}.StatusModule.OverallStatus"]
    assert "'sixty'" in by_place[f"{base}.DesignModule.EnrollmentInfo.EnrollmentCount"]
    as_text = runner.invoke(app, ["show", "NCT09900003", "--store", str(s)])
    assert f"      note: {by_place[f'{base}.StatusModule.StartDateStruct.StartDate']}" in as_text.output


def test_reingest_with_other_settings_rebuilds_the_graph(tmp_path: Path) -> None:
    """Opting out of contacts, or linking where the first run did not, is not
    "unchanged": the graph is rebuilt with the new settings."""
    s = ["--store", str(tmp_path / "store")]

    def run(*flags: str) -> str:
        result = runner.invoke(app, ["ingest", *flags, *s, str(V2_FIXTURE)])
        assert result.exit_code == 0, result.output
        return result.output

    def exported() -> str:
        return runner.invoke(app, ["export", "--format", "nquads", *s]).output

    assert "1 added" in run("--no-link", "--include-contacts")
    assert "jane.roe@example.org" in exported() and "+1 555 0100" in exported()
    assert "1 unchanged" in run("--no-link", "--include-contacts")
    assert "1 replaced" in run("--no-link")
    assert "jane.roe@example.org" not in exported() and "+1 555 0100" not in exported()
    assert "linkedConcept" not in exported()
    assert "1 replaced" in run()  # now with the bundled vocabulary
    assert "linkedConcept" in exported()
    assert "1 unchanged" in run()
    mesh = FIXTURES / "vocab" / "desc2024_mini.xml"
    assert runner.invoke(app, ["vocab", "import", str(mesh), *s]).exit_code == 0
    assert "1 replaced" in run()  # the vocabularies changed: linked again
    assert "1 unchanged" in run()


def test_stats_counts_trials_with_several_sources(tmp_path: Path) -> None:
    records = tmp_path / "records"
    records.mkdir()
    for name in ("a.json", "b.json", "c.json"):  # one trial from three source files
        shutil.copy(V2_FIXTURE, records / name)
    other = json.loads(V2_FIXTURE.read_text())
    other["protocolSection"]["identificationModule"]["nctId"] = "NCT09900103"
    (records / "d.json").write_text(json.dumps(other))
    s = str(tmp_path / "store")
    assert runner.invoke(app, ["ingest", "--no-link", "--store", s, str(records)]).exit_code == 0
    stats = runner.invoke(app, ["stats", "--store", s]).output
    assert "trials: 2\ntrial graphs: 4\ntrials with several sources: 1\n" in stats


def test_a_graph_left_incomplete_is_not_shown_as_a_trial(store: Path, tmp_path: Path) -> None:
    """A graph without its checksum (a write cut off by a crash) is neither counted,
    shown, exported nor loaded as a trial; stats says so, validate reports it, and the
    next ingest of the same source completes it."""
    s = ox.Store(str(store))
    [marker] = [q for q in s.quads_for_pattern(None, T.checksum, None, None) if q.subject == q.graph_name]
    s.remove(marker)
    s.flush()
    del s
    args = ["--store", str(store)]
    stats = runner.invoke(app, ["stats", *args])
    assert "trials: 0" in stats.output
    assert "incomplete trial graphs (an interrupted ingest: run it again): 1" in stats.output
    shown = runner.invoke(app, ["show", "NCT09900101", *args])
    assert shown.exit_code == 1
    assert "NCT09900101: its graph was left incomplete by an interrupted ingest; run the ingest again" in shown.output
    exported = runner.invoke(app, ["export", "--format", "nquads", *args])
    assert exported.exit_code == 0 and "NCT09900101" not in exported.output
    validated = runner.invoke(app, ["validate", "--format", "json", *args])
    assert validated.exit_code == 1 and "checksum" in validated.output
    records = tmp_path / "again"
    records.mkdir()
    shutil.copy(V2_FIXTURE, records)
    again = runner.invoke(app, ["ingest", "--no-link", *args, str(records)])
    assert "1 replaced" in again.output, again.output
    assert (
        "incomplete trial graphs (an interrupted ingest: run it again): 0"
        in runner.invoke(app, ["stats", *args]).output
    )
    assert runner.invoke(app, ["show", "NCT09900101", *args]).exit_code == 0


@pytest.mark.parametrize("fmt", ["turtle", "ntriples", "nquads", "trig"])
def test_export_formats_parse_back(store: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    result = runner.invoke(app, ["export", "--format", fmt, "-o", str(out), "--store", str(store)])
    assert result.exit_code == 0, result.output
    rdf_format = {
        "turtle": ox.RdfFormat.TURTLE,
        "ntriples": ox.RdfFormat.N_TRIPLES,
        "nquads": ox.RdfFormat.N_QUADS,
        "trig": ox.RdfFormat.TRIG,
    }[fmt]
    parsed = list(ox.parse(path=str(out), format=rdf_format))
    stored = ox.Store.read_only(str(store))
    if fmt in ("nquads", "trig"):
        assert set(map(str, parsed)) == set(map(str, stored))
    else:
        assert {str(t) for t in parsed} == {str(ox.Triple(q.subject, q.predicate, q.object)) for q in stored}
    if fmt in ("turtle", "trig"):
        assert out.read_text().startswith("@prefix")


def test_export_selected_trial_and_chunks(store: Path, tmp_path: Path) -> None:
    none = runner.invoke(app, ["export", "-f", "nquads", "--trial", "NCT00000001", "--store", str(store)])
    assert none.exit_code == 2 and none.stdout == ""  # not in the store: an error, not an empty export
    chunks = tmp_path / "chunks"
    result = runner.invoke(
        app, ["export", "-f", "nquads", "--chunk-quads", "50", "-o", str(chunks), "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    files = sorted(chunks.glob("*.nq"))
    assert len(files) == 1  # one trial graph is never split across files
    assert len(list(ox.parse(path=str(files[0]), format=ox.RdfFormat.N_QUADS))) == len(ox.Store.read_only(str(store)))


def test_export_to_an_unwritable_place_is_a_clean_error(store: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no such dir" / "out.ttl"
    result = runner.invoke(app, ["export", "-o", str(missing), "--store", str(store)])
    assert result.exit_code == 2
    assert f"error: cannot write {missing}: " in result.stderr
    assert not missing.parent.exists()


@pytest.mark.parametrize("cache", [False, True], ids=["from the store", "from the N-Quads cache"])
def test_failed_export_keeps_the_previous_file_and_leaves_no_part(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: bool
) -> None:
    out = tmp_path / "out.nq"
    out.write_text("the previous export\n")
    if cache:

        def full_disk(self, row):  # type: ignore[no-untyped-def]
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(kg.nquads_cache.NQuadsCache, "unpack", full_disk)
    else:
        real = kg.export.ox.serialize

        def interrupted(quads, target, *args, **kwargs):  # type: ignore[no-untyped-def]
            real(list(quads)[:3], target, *args, **kwargs)  # part of the output reaches the disk
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(kg.export.ox, "serialize", interrupted)
    args = ["export", "-f", "nquads", "-o", str(out), "--store", str(store)] + ([] if cache else ["--no-cache"])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert f"error: cannot write {out}: No space left on device" in result.stderr
    assert out.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.nq", "records", "store"])


def test_stats_and_sparql(store: Path) -> None:
    result = runner.invoke(app, ["stats", "--format", "json", "--store", str(store)])
    assert result.exit_code == 0
    stats = json.loads(result.output)
    assert stats["trials"] == 1
    assert stats["conditions"] == 2
    assert stats["conditions unlinked"] == 2
    assert stats["graphs per source format"] == {"ctgov-v2-json": 1}
    q = "SELECT ?n WHERE { ?t <https://w3id.org/trialkg/ontology#enrollmentCount> ?n }"
    result = runner.invoke(app, ["sparql", q, "--format", "csv", "--store", str(store)])
    assert result.exit_code == 0
    assert result.output == "n\n40\n"
    bad = runner.invoke(app, ["sparql", "SELECT WHERE", "--store", str(store)])
    assert bad.exit_code == 2
    assert "SPARQL syntax error" in bad.output
    missing = runner.invoke(app, ["sparql", "--file", "no-such-query.rq", "--store", str(store)])
    assert missing.exit_code == 2
    assert "'no-such-query.rq' does not exist" in missing.output
    assert missing.exception is None or isinstance(missing.exception, SystemExit)


def test_stats_counts_graphs_of_other_versions(store: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["stats", "--format", "json", "--store", str(store)])
    assert json.loads(result.output)["trial graphs per trialkg version"] == {__version__: 1}
    result = runner.invoke(app, ["stats", "--store", str(store)])
    assert "another trialkg version" not in result.output
    # a graph written by an earlier version is counted, with a hint to ingest again
    other = tmp_path / "other"
    other.mkdir()
    doc = json.loads(V2_FIXTURE.read_text(encoding="utf-8"))
    doc["protocolSection"]["identificationModule"]["nctId"] = "NCT09900199"
    (other / "NCT09900199.json").write_text(json.dumps(doc), encoding="utf-8")
    ts = TrialStore(store)
    ingest(ts, [other], options=MappingOptions(tool_version="0.1.0"))
    ts.flush()
    del ts
    result = runner.invoke(app, ["stats", "--format", "json", "--store", str(store)])
    assert json.loads(result.output)["trial graphs per trialkg version"] == {"0.1.0": 1, __version__: 1}
    result = runner.invoke(app, ["stats", "--store", str(store)])
    assert result.exit_code == 0
    assert "1 trial graph(s) were written by another trialkg version" in result.output


def test_ingest_exit_status_reports_bad_files(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    shutil.copy(V2_FIXTURE, tmp_path / "in")
    (tmp_path / "in" / "broken.json").write_text('{"protocolSection": ')
    result = runner.invoke(app, ["ingest", "--no-link", "--store", str(tmp_path / "s"), str(tmp_path / "in")])
    assert result.exit_code == 1
    assert "skipped: broken.json: invalid JSON" in result.output
    assert "1 added" in result.output


def test_a_skipped_file_is_said_once(tmp_path: Path) -> None:
    """As the installed command prints it (logging's own handler writes to the real stderr)."""
    broken = tmp_path / "broken.json"
    broken.write_text('{"protocolSection": ')
    script = "import sys; from kg.cli import app; sys.argv[0] = 'trialkg'; app()"
    args = ["ingest", "--no-link", "--store", str(tmp_path / "s"), str(broken)]
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.count("broken.json") == 1, done.stderr


def test_unknown_trials_formats_and_numbers_are_refused(store: Path) -> None:
    s = ["--store", str(store)]
    for args, message in [
        (["export", "-f", "nquads", "-t", "NCT99999999"], "no trial graph for NCT99999999 in the store"),
        (["conflicts", "NCT99999999"], "no trial graph for NCT99999999 in the store"),
        (["validate", "-t", "NCT 0990 0101"], "no trial graph for NCT 0990 0101 in the store"),
        (["stats", "-f", "xml"], "unknown format 'xml': use text or json"),
        (["conflicts", "-f", "xml"], "unknown format 'xml': use text or json"),
        (["sparql"], "give a query, or --file with one"),
        (["sparql", "PREFIX ex: <http://e/>\nINSERT DATA { ex:a ex:b ex:c }"], "this is a SPARQL update"),
        (["export", "-f", "nquads", "--chunk-quads", "0", "-o", str(store.parent / "chunks")], "--chunk-quads"),
        (["ingest", "-j", "0", str(V2_FIXTURE)], "--workers"),
    ]:
        result = runner.invoke(app, [*args, *s])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    lower = runner.invoke(app, ["export", "-f", "nquads", "-t", "nct09900101", *s])
    assert lower.exit_code == 0 and "<https://w3id.org/trialkg/trial/NCT09900101>" in lower.output


def test_missing_store_is_a_clean_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stats", "--store", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no store at" in result.output
    assert "Traceback" not in result.output


def test_ingest_into_a_file_or_a_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    for target, message in [
        (folder, "holds other files and is not a trialkg store"),
        (folder / "notes.txt", "is a file, not a store directory"),
    ]:
        result = runner.invoke(app, ["ingest", "--no-link", "--store", str(target), str(V2_FIXTURE)])
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]  # nothing written there


def test_help_everywhere() -> None:
    for cmd in (["--help"], ["ingest", "--help"], ["export", "--help"], ["show", "--help"], ["stats", "--help"]):
        result = runner.invoke(app, cmd)
        assert result.exit_code == 0
        assert "Usage" in result.output
