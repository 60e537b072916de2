"""Cell Ontology, UBERON (or any OBO Foundry ontology) from OBO Graphs JSON
(``cl.json``: ``{"graphs": [{"id": ..., "nodes": [...], "edges": [...]}]}``).

Nodes of type ``CLASS`` in the ontology's own namespace become concepts: ``lbl`` is the
preferred label, ``meta.synonyms`` keep their scope (``hasExactSynonym`` ->
``skos:altLabel``, the others as oboInOwl synonyms). ``is_a`` and ``part_of``
(``BFO_0000050``) edges within the ontology become ``skos:broader``. Deprecated nodes,
nodes of other ontologies, properties and individuals are counted and left out. The
ontology is named by the graph ``id`` (``.../obo/cl.owl`` -> ``cl``), else by the prefix
of its nodes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson

from kg.vocab import _obo
from kg.vocab._io import open_binary
from kg.vocab.records import ConceptRecord, LoadStats, Synonym, SynonymScope, VocabularyFileError

FORMAT = "obographs-json"
DESCRIPTION = "OBO Graphs JSON ({'graphs': [{'nodes': [...], 'edges': [...]}]})"
VOCABULARY = None  # named by the file

_SCOPES = {
    "hasExactSynonym": SynonymScope.EXACT,
    "hasRelatedSynonym": SynonymScope.RELATED,
    "hasNarrowSynonym": SynonymScope.NARROW,
    "hasBroadSynonym": SynonymScope.BROAD,
}
_BROADER = {"is_a", "part_of", "BFO:0000050", "http://purl.obolibrary.org/obo/BFO_0000050"}
_GRAPH_ID = re.compile(r"/obo/([a-z][a-z0-9_]*)(?:/[^/]*)?\.(?:owl|json|obo)$")


def sniff(head: bytes) -> bool:
    return re.match(rb'^\s*\{\s*"graphs"\s*:', head) is not None


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    name = str(path)
    try:
        with open_binary(path) as f:
            doc = orjson.loads(f.read())
    except orjson.JSONDecodeError as exc:
        raise VocabularyFileError(name, f"invalid JSON: {exc}") from exc
    graphs = doc.get("graphs") if isinstance(doc, dict) else None
    if not isinstance(graphs, list):
        raise VocabularyFileError(name, "no 'graphs' list at $.graphs")
    for gi, graph in enumerate(graphs):
        nodes = graph.get("nodes") or []
        prefix = _graph_prefix(graph, nodes)
        if prefix is None:
            stats.skip("graph without classes")
            continue
        records: dict[str, ConceptRecord] = {}
        for ni, node in enumerate(nodes):
            where = f"$.graphs[{gi}].nodes[{ni}]"
            if not isinstance(node, dict) or "id" not in node:
                raise VocabularyFileError(name, f"node without an id at {where}")
            if node.get("type") != "CLASS":
                stats.skip(f"{str(node.get('type', 'untyped')).lower()} node")
                continue
            curie = _obo.curie_of(str(node["id"]))
            if curie is None or _obo.prefix_of(curie) != prefix:
                stats.skip("class of another ontology")
                continue
            meta = node.get("meta") or {}
            if meta.get("deprecated"):
                stats.skip("deprecated class")
                continue
            stats.rows += 1
            label = node.get("lbl")
            if not label:
                stats.skip("class without a label")
                continue
            rec = ConceptRecord(_obo.iri(curie), _obo.vocabulary_of(prefix), label=str(label))
            for syn in meta.get("synonyms") or []:
                scope = _SCOPES.get(syn.get("pred", ""), SynonymScope.RELATED)
                text = str(syn.get("val", "")).strip()
                s = Synonym(text, scope)
                if text and text != rec.label and s not in rec.synonyms:
                    rec.synonyms.append(s)
            records[rec.iri] = rec
        for edge in graph.get("edges") or []:
            if edge.get("pred") not in _BROADER:
                stats.skip(f"edge {edge.get('pred')}")
                continue
            sub, obj = _obo.curie_of(str(edge.get("sub", ""))), _obo.curie_of(str(edge.get("obj", "")))
            if sub is None or obj is None:
                stats.skip("edge between non-OBO nodes")
                continue
            child = records.get(_obo.iri(sub))
            if child is None or _obo.prefix_of(obj) != prefix:
                stats.skip("edge outside the ontology's live classes")
                continue
            parent = _obo.iri(obj)
            if parent not in child.broader:
                child.broader.append(parent)
        yield from records.values()


def _graph_prefix(graph: dict, nodes: list) -> str | None:
    m = _GRAPH_ID.search(str(graph.get("id", "")))
    if m:
        return m.group(1).upper()
    counts: Counter[str] = Counter()
    for node in nodes:
        if isinstance(node, dict) and node.get("type") == "CLASS":
            curie = _obo.curie_of(str(node.get("id", "")))
            if curie:
                counts[_obo.prefix_of(curie)] += 1
    return counts.most_common(1)[0][0] if counts else None
