"""Shared test fixtures.

Tests that need the shared corpus or vocabularies read them from ``../shared``
beside the repository, or from the directory named by ``TRIALKG_SHARED``; they skip
with a clear reason when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kg.ingest import ingest
from kg.mapping import MappingOptions
from kg.store import TrialStore

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(os.environ.get("TRIALKG_SHARED", ROOT.parent / "shared")).resolve()
CORPUS = SHARED / "corpus"
VOCAB = SHARED / "vocab"
EXAMPLES = ROOT / "examples"


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.skip(f"{what} not found at {path}: set TRIALKG_SHARED to the shared material directory")
    return path


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return _need(CORPUS, "the shared ClinicalTrials.gov corpus")


@pytest.fixture(scope="session")
def vocab_dir() -> Path:
    return _need(VOCAB, "the shared vocabulary tables")


@pytest.fixture(scope="session")
def corpus_store(corpus_dir: Path):  # type: ignore[no-untyped-def]
    """An in-memory store holding the whole shared corpus (no vocabulary linking),
    built once per test process, with its ingest report."""
    store = TrialStore(None)
    report = ingest(store, [corpus_dir], options=MappingOptions(ingest_time="2024-01-01T00:00:00Z"))
    return store, report
