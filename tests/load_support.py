"""Hand-written trial records and a view of the embedded store, for the load tests.

The records are API v2 JSON with the characters that break naive escaping (quotes,
backslashes, tabs, newlines, accents, CJK); they go through the real parser and mapping.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox

from kg.ingest import ingest
from kg.mapping import MappingOptions
from kg.store import TrialStore

OPTIONS = MappingOptions(ingest_time="2025-01-01T00:00:00Z")

# --------------------------------------------------------------------------
# Hand-written records (API v2 JSON) with the characters that break naive escaping


def record(nct: str, n: int, *, title: str | None = None, with_age: bool = True) -> dict:
    elig: dict = {
        "eligibilityCriteria": "Inclusion Criteria:\n\n* adults\n\nExclusion Criteria:\n\n* pregnancy",
        "sex": "ALL",
        "healthyVolunteers": False,
    }
    if with_age:
        elig["minimumAge"] = f"{18 + n % 5} Years"
    return {
        "protocolSection": {
            "identificationModule": {
                "nctId": nct,
                "orgStudyIdInfo": {"id": f"ORG-{n}"},
                "briefTitle": title or f"Trial {n} of drug X in Sjögren's syndrome",
                "officialTitle": f'A "quoted" trial: café, 日本語, back\\slash and a tab\there ({n})',
            },
            "statusModule": {
                "overallStatus": "RECRUITING",
                "startDateStruct": {"date": "2021-03"},
                "lastUpdatePostDateStruct": {"date": "2024-01-15", "type": "ACTUAL"},
            },
            "sponsorCollaboratorsModule": {"leadSponsor": {"name": f"Université Test {n % 3}", "class": "OTHER"}},
            "descriptionModule": {"briefSummary": f"Line one of {n}.\nLine two.\r\nLine three ✓."},
            "conditionsModule": {"conditions": ["Sjögren's Syndrome", f"Condition {n}"]},
            "designModule": {
                "studyType": "INTERVENTIONAL",
                "phases": ["PHASE2"],
                "enrollmentInfo": {"count": 10 + n, "type": "ESTIMATED"},
            },
            "armsInterventionsModule": {
                "armGroups": [{"label": "Arm A", "type": "EXPERIMENTAL", "interventionNames": ["Drug: X"]}],
                "interventions": [{"type": "DRUG", "name": "X", "description": f"drug x, dose {n} mg"}],
            },
            "eligibilityModule": elig,
            "contactsLocationsModule": {"locations": [{"facility": "Hôpital Saint-Louis", "city": "Paris"}]},
        }
    }


def nct(i: int) -> str:
    """Made-up NCT IDs, NCT90000000 upwards (no real trial has them)."""
    return f"NCT{90000000 + i:08d}"


def write_records(directory: Path, count: int, *, first: int = 0, **kwargs: object) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(first, first + count):
        p = directory / f"{nct(i)}.json"
        p.write_text(json.dumps(record(nct(i), i, **kwargs), ensure_ascii=False), encoding="utf-8")  # type: ignore[arg-type]
        paths.append(p)
    return paths


def make_store(tmp_path: Path, count: int = 8, *, first: int = 0, **kwargs: object) -> TrialStore:
    src = tmp_path / "records"
    write_records(src, count, first=first, **kwargs)
    ts = TrialStore(tmp_path / "store")
    report = ingest(ts, [src], options=OPTIONS)
    assert not report.errors and report.trials_added == count
    return ts


# --------------------------------------------------------------------------
# Independent views of both sides


def store_dataset(ts: TrialStore, graphs: list[str] | None = None) -> dict[str, set[str]]:
    """Per graph, its triples in N-Triples form, read straight from the embedded store."""
    out: dict[str, set[str]] = {}
    for g in graphs if graphs is not None else [g for _, g in ts.trial_graphs()]:
        out[g] = {str(ox.Triple(q.subject, q.predicate, q.object)) for q in ts.graph_quads(g)}
    return out
