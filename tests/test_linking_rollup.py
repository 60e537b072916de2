"""Roll-up through the vocabulary hierarchy: the corpus trials under a broad MeSH
descriptor, found by SPARQL over the trials' condition links and ``skos:broader*`` in
the MeSH graph, are the trials whose own records list that descriptor among their
condition MeSH terms or ancestors (read straight from the JSON here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import terms as T
from kg.sources import SNIFF_BYTES, detect
from tests.vocab_support import shared_linker, shared_store

pytestmark = pytest.mark.slow

AUTOIMMUNE = "D001327"
LUPUS = "D008180"
SKIN = "D012871"
PSORIASIS = "D011565"
LINKS = ox.NamedNode("urn:test:links")


def _ui(raw: str) -> str:
    """A record's MeSH ID as NLM writes it (the classic API pads to 9 digits)."""
    n = int(raw[1:])
    return f"{raw[0]}{n:06d}" if n <= 66331 else f"{raw[0]}{n:09d}"


def _record_terms(path: Path) -> tuple[str, set[str], set[str]]:
    """(NCT ID, condition MeSH IDs, condition MeSH ancestor IDs) from a v2 or classic record."""
    doc = json.loads(path.read_bytes())
    if "protocolSection" in doc:
        browse = doc.get("derivedSection", {}).get("conditionBrowseModule", {})
        nct = doc["protocolSection"]["identificationModule"]["nctId"]
        meshes = {m["id"] for m in browse.get("meshes", [])}
        ancestors = {m["id"] for m in browse.get("ancestors", [])}
    else:
        study = doc.get("FullStudy", {}).get("Study", doc)
        browse = study.get("DerivedSection", {}).get("ConditionBrowseModule", {})
        nct = study["ProtocolSection"]["IdentificationModule"]["NCTId"]
        meshes = {m["ConditionMeshId"] for m in browse.get("ConditionMeshList", {}).get("ConditionMesh", [])}
        ancestors = {
            m["ConditionAncestorId"] for m in browse.get("ConditionAncestorList", {}).get("ConditionAncestor", [])
        }
    return nct, {_ui(m) for m in meshes}, {_ui(a) for a in ancestors}


@pytest.fixture(scope="module")
def corpus_links(corpus_dir: Path, vocab_dir: Path) -> Iterator[tuple[ox.Store, dict[str, tuple[set[str], set[str]]]]]:
    """The shared vocabulary store with every JSON corpus trial's condition links added
    (``trial tkg:linkedConcept concept`` in a test graph), and each record's own terms."""
    store, _ = shared_store(vocab_dir)
    linker = shared_linker(vocab_dir)
    records: dict[str, tuple[set[str], set[str]]] = {}
    quads = []
    for folder in ("ctgov-v2-json", "ctgov-classic-json"):
        for path in sorted((corpus_dir / folder).glob("*.json")):
            nct, meshes, ancestors = _record_terms(path)
            records[nct] = (meshes, ancestors)
            module = detect(path.read_bytes()[:SNIFF_BYTES])
            assert module is not None
            for trial in module.parse(path):
                linker.link(trial)
                for c in trial.conditions:
                    for link in c.links:
                        quads.append(ox.Quad(T.trial_iri(trial.nct_id), T.linkedConcept, ox.NamedNode(link.iri), LINKS))
    store.extend(quads)
    yield store, records
    store.remove_graph(LINKS)  # the store is shared by the session's other tests


def _under(store: ox.Store, ui: str) -> set[str]:
    query = f"""
        PREFIX skos: <{T.SKOS_NS}>
        PREFIX tkg: <{T.TKG_NS}>
        SELECT DISTINCT ?trial WHERE {{
            GRAPH <{LINKS.value}> {{ ?trial tkg:linkedConcept ?concept }}
            ?concept skos:broader* <{T.mesh_iri(ui).value}> .
        }}"""
    return {row["trial"].value.rsplit("/", 1)[-1] for row in store.query(query, use_default_graph_as_union=True)}


def test_trials_under_autoimmune_diseases(corpus_links: tuple[ox.Store, dict]) -> None:
    store, records = corpus_links
    expected = {nct for nct, (meshes, ancestors) in records.items() if AUTOIMMUNE in meshes | ancestors}
    got = _under(store, AUTOIMMUNE)
    assert len(got) == len(expected)
    assert got == expected
    lupus = {nct for nct, (meshes, _) in records.items() if LUPUS in meshes}
    assert lupus and lupus <= got


def test_psoriasis_trials_are_under_skin_diseases(corpus_links: tuple[ox.Store, dict]) -> None:
    store, records = corpus_links
    psoriasis = {nct for nct, (meshes, _) in records.items() if PSORIASIS in meshes}
    assert {"NCT03392311", "NCT03745417", "NCT03765957"} <= psoriasis  # the psoriasis seeds
    assert psoriasis <= _under(store, SKIN)
