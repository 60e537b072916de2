"""One trial from several sources, end to end: a seed page and the classic-API record of
the same NCT ID are ingested into one store; `trialkg show` presents both sources and
`trialkg conflicts` lists exactly the compared fields on which they disagree.

The page's values come from the hand-written ``fixtures/seeds_expected.json``, the
record's from the corpus file read here with ``json``; nothing is computed by trialkg.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kg.cli import app
from tests import ctgov_display as display
from tests.conftest import EXAMPLES, FIXTURES

SEEDS = json.loads((FIXTURES / "seeds_expected.json").read_text(encoding="utf-8"))
#: The seeds whose NCT ID has a classic-API record in ../shared/corpus.
IN_CORPUS = ["000_33f8ef63051a5fa9.txt", "003_a088c8f5c9a0d108.txt", "004_af3d16ab93fc7196.txt"]


def _expected_fields(page: dict[str, Any], rec: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Compared field -> (page value, record value), for the fields both sources state."""
    status, design = rec["StatusModule"], rec["DesignModule"]
    ident, sponsor = rec["IdentificationModule"], rec["SponsorCollaboratorsModule"]
    out: dict[str, tuple[Any, Any]] = {
        "status": (page["overall_status"], display.STATUS[status["OverallStatus"]]),
        "brief_title": (page["brief_title"], ident["BriefTitle"]),
        "sponsor.name": (page["sponsor"]["name"], sponsor["LeadSponsor"]["LeadSponsorName"]),
    }
    if page.get("enrollment_count") is not None:
        out["enrollment.count"] = (page["enrollment_count"], int(design["EnrollmentInfo"]["EnrollmentCount"]))
    if page.get("phases"):
        out["phases"] = (sorted(page["phases"]), sorted(display.PHASE[p] for p in design["PhaseList"]["Phase"]))
    return out


def _same(field: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str) and field != "status":
        return " ".join(a.casefold().split()) == " ".join(b.casefold().split())
    return bool(a == b)


@pytest.mark.parametrize("name", IN_CORPUS)
def test_page_and_record_of_one_trial(name: str, corpus_dir: Path, tmp_path: Path) -> None:
    page = SEEDS[name]
    nct = page["nct_id"]
    record_file = corpus_dir / "ctgov-classic-json" / f"{nct}.json"
    rec = json.loads(record_file.read_text(encoding="utf-8"))["ProtocolSection"]
    store = str(tmp_path / "store")
    runner = CliRunner()
    done = runner.invoke(app, ["ingest", "--store", store, str(EXAMPLES / "pages" / name), str(record_file)])
    assert done.exit_code == 0, done.output

    shown = runner.invoke(app, ["show", nct, "--format", "json", "--store", store])
    assert shown.exit_code == 0, shown.output
    facts = json.loads(shown.output)
    sources = {s["format"]: s for s in facts["sources"]}
    assert set(sources) == {page["format"], "ctgov-classic-json"}
    assert sources["ctgov-classic-json"]["file"] == record_file.name
    assert sources[page["format"]]["file"] == name
    record_update, _ = display.date(rec["StatusModule"]["LastUpdatePostDateStruct"]["LastUpdatePostDate"], None)
    assert sources["ctgov-classic-json"]["last_update"] == record_update

    listed = runner.invoke(app, ["conflicts", nct, "--format", "json", "--store", store])
    assert listed.exit_code == 0, listed.output
    rows = {r["field"]: r["sources"] for r in json.loads(listed.output)}
    for field, (page_value, record_value) in _expected_fields(page, rec).items():
        if _same(field, page_value, record_value):
            assert field not in rows, f"{field}: both sources say {page_value!r}"
            continue
        assert field in rows, f"{field}: page {page_value!r}, record {record_value!r}"
        by_format = {s["format"]: s for s in rows[field]}
        got_page = by_format[page["format"]]["value"]
        got_record = by_format["ctgov-classic-json"]["value"]
        assert (sorted(got_page) if field == "phases" else got_page) == page_value
        assert (sorted(got_record) if field == "phases" else got_record) == record_value
        assert by_format["ctgov-classic-json"]["last_update"] == record_update
    # every field listed really differs between the two sources
    for field, values in rows.items():
        assert len({json.dumps(v["value"], sort_keys=True) for v in values}) > 1, field
    if nct == "NCT03392311":  # the example: Completed on the page, enrolling in the record
        assert {s["value"] for s in rows["status"]} == {"COMPLETED", "ENROLLING_BY_INVITATION"}
