"""Every record of the shared corpus ingests, and what ``show`` reads back from
the graph equals what the test reads directly from the source files."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from kg.readback import records
from kg.sources import REGISTRY

FORMAT_DIRS = {"ctgov-v2-json": "ctgov-v2-json", "ctgov-classic-json": "ctgov-classic-json", "ctgov-xml": "ctgov-xml"}


def test_every_corpus_record_ingests(corpus_store, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    store, report = corpus_store
    assert report.errors == []
    registered = {m.FORMAT.value for m in REGISTRY.values()}
    expected: dict[str, set[str]] = {}
    for fmt, folder in FORMAT_DIRS.items():
        if fmt in registered:
            expected[fmt] = {p.stem for p in (corpus_dir / folder).iterdir() if p.stem.startswith("NCT")}
    got: dict[str, set[str]] = {fmt: set() for fmt in expected}
    for nct, graph in store.trial_graphs():
        fmt = graph.split("/")[-2]
        got.setdefault(fmt, set()).add(nct)
    assert got == expected
    assert report.per_format == {fmt: len(ids) for fmt, ids in expected.items()}


# -- v2 JSON: facts read directly from the file --------------------------------


def _v2_expected(doc: dict[str, Any]) -> dict[str, Any]:
    ps = doc["protocolSection"]
    ident, status = ps["identificationModule"], ps["statusModule"]
    design = ps.get("designModule", {})
    elig = ps.get("eligibilityModule", {})
    enrol = design.get("enrollmentInfo", {})
    arms = ps.get("armsInterventionsModule", {})
    lead = ps["sponsorCollaboratorsModule"]["leadSponsor"]
    return {
        "nct_id": ident["nctId"],
        "brief_title": ident["briefTitle"].strip(),
        "official_title": ident.get("officialTitle", "").strip() or None,
        "status": status["overallStatus"],
        "phases": sorted(
            design.get("phases", []), key=["NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"].index
        ),
        "study_type": design["studyType"],
        "enrollment": {"count": enrol.get("count"), "type": enrol.get("type")},
        "start_date": status.get("startDateStruct", {}).get("date"),
        "completion_date": status.get("completionDateStruct", {}).get("date"),
        "conditions": sorted(
            {c.strip() for c in ps.get("conditionsModule", {}).get("conditions", [])}, key=str.casefold
        ),
        "interventions": sorted((i["type"], i["name"].strip()) for i in arms.get("interventions", [])),
        "arms": [(a["label"].strip(), a.get("type")) for a in arms.get("armGroups", [])],
        "sponsor": {"name": lead["name"].strip(), "class": lead.get("class")},
        "allocation": design.get("designInfo", {}).get("allocation"),
        "intervention_model": design.get("designInfo", {}).get("interventionModel"),
        "masking": design.get("designInfo", {}).get("maskingInfo", {}).get("masking"),
        "sex": elig.get("sex"),
        "min_age": elig.get("minimumAge"),
        "max_age": elig.get("maximumAge"),
        "countries": sorted(
            {loc["country"] for loc in ps.get("contactsLocationsModule", {}).get("locations", []) if loc.get("country")}
        ),
        "pmids": sorted({r["pmid"] for r in ps.get("referencesModule", {}).get("references", []) if r.get("pmid")}),
        "last_update": status["lastUpdatePostDateStruct"]["date"],
    }


def _shown(rec: dict[str, Any]) -> dict[str, Any]:
    el = rec["eligibility"] or {}
    return {
        "nct_id": rec["nct_id"],
        "brief_title": rec["brief_title"],
        "official_title": rec["official_title"],
        "status": rec["status"],
        "phases": rec["phases"],
        "study_type": rec["study_type"],
        "enrollment": rec["enrollment"],
        "start_date": rec["start_date"],
        "completion_date": rec["completion_date"],
        "conditions": sorted({c["name"] for c in rec["conditions"]}, key=str.casefold),
        "interventions": sorted((i["type"], i["name"]) for i in rec["interventions"]),
        "arms": [(a["label"], a["type"]) for a in rec["arms"]],
        "sponsor": rec["sponsor"],
        "allocation": rec["allocation"],
        "intervention_model": rec["intervention_model"],
        "masking": rec["masking"],
        "sex": el.get("sex"),
        "min_age": el.get("min_age"),
        "max_age": el.get("max_age"),
        "countries": sorted({loc["country"] for loc in rec["locations"] if loc.get("country")}),
        "pmids": sorted(set(rec["references"])),
        "last_update": rec["sources"][0]["last_update"],
    }


def test_v2_show_equals_source_for_a_sample(corpus_store, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    store, _ = corpus_store
    files = sorted((corpus_dir / "ctgov-v2-json").glob("NCT*.json"))
    sample = random.Random(20241122).sample(files, 40)
    for path in sample:
        expected = _v2_expected(json.loads(path.read_bytes()))
        (rec,) = [r for r in records(store, expected["nct_id"]) if r["_source"]["format"] == "ctgov-v2-json"]
        rec["sources"] = [rec["_source"]]
        assert _shown(rec) == expected, path.name


def test_a_trial_in_two_formats_keeps_its_outcomes_apart(corpus_store, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """NCT04042844 is in the corpus as a classic-API record and as an API v2 record, whose
    primary outcomes differ (read from both files below). In the union of the two graphs
    each outcome node still has one measure, and the outcomes are the two records'."""
    store, _ = corpus_store
    classic = json.loads((corpus_dir / "ctgov-classic-json" / "NCT04042844.json").read_text(encoding="utf-8"))
    v2 = json.loads((corpus_dir / "ctgov-v2-json" / "NCT04042844.json").read_text(encoding="utf-8"))
    old = classic["ProtocolSection"]["OutcomesModule"]["PrimaryOutcomeList"]["PrimaryOutcome"]
    new = v2["protocolSection"]["outcomesModule"]["primaryOutcomes"]
    expected = {o["PrimaryOutcomeMeasure"] for o in old} | {o["measure"] for o in new}
    assert len(expected) > max(len(old), len(new)), "the records state different outcomes"
    rows = store.store.query(
        "SELECT ?o ?m WHERE { <https://w3id.org/trialkg/trial/NCT04042844> "
        "<https://w3id.org/trialkg/ontology#primaryOutcome> ?o . ?o <https://w3id.org/trialkg/ontology#measure> ?m }",
        use_default_graph_as_union=True,
    )
    measures: dict[str, set[str]] = {}
    for row in rows:  # type: ignore[union-attr]
        measures.setdefault(row["o"].value, set()).add(row["m"].value)
    assert all(len(m) == 1 for m in measures.values()), measures
    assert {m for ms in measures.values() for m in ms} == expected
