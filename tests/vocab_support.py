"""Helpers for the vocabulary and linking tests: read a vocabulary graph back as plain
data, and build the full shared vocabulary (store and linker) once per session."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg import terms as T
from kg.linking import Linker
from kg.vocab import ImportReport, import_paths

VOCAB_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vocab"


@dataclass
class ConceptView:
    label: str | None = None
    alt: set[str] = field(default_factory=set)
    related: set[str] = field(default_factory=set)  # oboInOwl related/narrow/broad synonyms
    broader: set[str] = field(default_factory=set)
    notations: set[str] = field(default_factory=set)
    matches: set[str] = field(default_factory=set)
    actions: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)


def short(iri: str) -> str:
    """``http://id.nlm.nih.gov/mesh/D011565`` -> ``D011565``; OBO -> ``CL:0000134``."""
    if iri.startswith(T.MESHV_NS):
        return "meshv:" + iri[len(T.MESHV_NS) :]
    if iri.startswith(T.MESH_NS):
        return iri[len(T.MESH_NS) :]
    if iri.startswith(T.DRUGBANK_NS):
        return iri[len(T.DRUGBANK_NS) :]
    if iri.startswith(T.OBO_NS):
        return iri[len(T.OBO_NS) :].replace("_", ":", 1)
    if iri.startswith(T.CHEMBL_NS):
        return iri[len(T.CHEMBL_NS) :]
    return iri


def graph_view(store: ox.Store, vocabulary: str) -> dict[str, ConceptView]:
    """Every subject of the vocabulary's graph (except the scheme) as a ConceptView."""
    g = T.vocab_graph_iri(vocabulary)
    out: dict[str, ConceptView] = {}
    keys: dict[str, set[str]] = {}  # tkg:labelKey per concept, checked below
    related = {
        T.OBOINOWL_HAS_RELATED_SYNONYM.value,
        T.OBOINOWL_HAS_NARROW_SYNONYM.value,
        T.OBOINOWL_HAS_BROAD_SYNONYM.value,
    }
    for q in store.quads_for_pattern(None, None, None, g):
        if q.subject == g:
            continue
        v = out.setdefault(short(q.subject.value), ConceptView())
        p, o = q.predicate.value, q.object.value
        if p == T.SKOS_PREF_LABEL.value:
            assert v.label is None, f"two preferred labels for {q.subject}"
            v.label = o
        elif p == T.SKOS_ALT_LABEL.value:
            v.alt.add(o)
        elif p in related:
            v.related.add(o)
        elif p == T.SKOS_BROADER.value:
            v.broader.add(short(o))
        elif p == T.SKOS_NOTATION.value:
            v.notations.add(o)
        elif p == T.SKOS_EXACT_MATCH.value:
            v.matches.add(short(o))
        elif p == T.MESHV_PHARMACOLOGICAL_ACTION.value:
            v.actions.add(short(o))
        elif p == T.RDF_TYPE.value:
            v.types.add(short(o) if o != T.SKOS_CONCEPT.value else "skos:Concept")
        elif p == T.SKOS_IN_SCHEME.value:
            assert o == g.value
        elif p == T.labelKey.value:
            keys.setdefault(short(q.subject.value), set()).add(o)
        else:
            raise AssertionError(f"unexpected predicate {p} in the {vocabulary} graph")
    for iri, v in out.items():
        # the lookup keys are the lower-cased preferred label and exact synonyms, no more
        expected = {x.lower() for x in v.alt | ({v.label} if v.label is not None else set())}
        assert keys.get(iri, set()) == expected, f"label keys of {iri}: {keys.get(iri)} != {expected}"
    return out


def load(*names: str, store: ox.Store | None = None) -> tuple[ox.Store, ImportReport]:
    store = store if store is not None else ox.Store()
    report = import_paths(store, [VOCAB_FIXTURES / n for n in names], curated_vocabulary=False)
    return store, report


@functools.cache
def shared_store(vocab_dir: Path) -> tuple[ox.Store, ImportReport]:
    """The full shared vocabulary in an in-memory store, built once per test session."""
    store = ox.Store()
    return store, import_paths(store, [vocab_dir])


@functools.cache
def shared_linker(vocab_dir: Path) -> Linker:
    store, _ = shared_store(vocab_dir)
    return Linker.from_store(store)
