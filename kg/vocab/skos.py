"""Concept records -> SKOS quads, one named graph per vocabulary.

Every concept that a vocabulary describes is a ``skos:Concept`` ``skos:inScheme`` the
vocabulary's scheme (the graph IRI itself, typed ``skos:ConceptScheme``), with its
``skos:prefLabel``, EXACT synonyms as ``skos:altLabel``, other synonym scopes as
``oboInOwl:has{Related,Narrow,Broad}Synonym``, ``skos:notation`` (MeSH tree numbers),
``skos:broader``, ``skos:exactMatch`` and, for MeSH, ``meshv:pharmacologicalAction``.

MeSH broader descriptors come from the tree numbers: the parent of ``C17.800.859.675``
is ``C17.800.859``, and the descriptor holding that tree number is broader. Explicit
broader links of a record (OBO parents, SCR headings, ``meshv:broaderDescriptor``) are
kept as well. Output is sorted, so the same records give the same quads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from kg import terms as T
from kg.vocab import _mesh
from kg.vocab.records import ConceptRecord, SynonymScope

_SYNONYM_PREDICATES = {
    SynonymScope.EXACT: T.SKOS_ALT_LABEL,
    SynonymScope.RELATED: T.OBOINOWL_HAS_RELATED_SYNONYM,
    SynonymScope.NARROW: T.OBOINOWL_HAS_NARROW_SYNONYM,
    SynonymScope.BROAD: T.OBOINOWL_HAS_BROAD_SYNONYM,
}

#: Display names of the vocabularies trialkg knows (``rdfs:label`` of the scheme).
TITLES = {
    "mesh": "Medical Subject Headings (MeSH)",
    "mesh-mappings": "MeSH cross-references to ChEBI, Cell Ontology and UBERON",
    "cl": "Cell Ontology (CL)",
    "uberon": "Uberon multi-species anatomy ontology (UBERON)",
    "chebi": "Chemical Entities of Biological Interest (ChEBI)",
    "drugbank": "DrugBank",
    "curated": "trialkg curated vocabulary",
}


def value(term: NamedNode | BlankNode | Literal | Triple) -> str:
    """The IRI, identifier or lexical form of a term read back from the store."""
    return str(term) if isinstance(term, Triple) else term.value


def tree_index(records: Iterable[ConceptRecord]) -> dict[str, str]:
    """Tree number -> IRI of the MeSH descriptor holding it."""
    index: dict[str, str] = {}
    for rec in records:
        if rec.vocabulary == _mesh.VOCABULARY:
            for tn in rec.notations:
                index.setdefault(tn, rec.iri)
    return index


def broader_of(rec: ConceptRecord, trees: dict[str, str]) -> list[str]:
    """A record's broader concepts: explicit ones, then those implied by tree numbers."""
    out = list(dict.fromkeys(rec.broader))
    if rec.vocabulary == _mesh.VOCABULARY:
        for tn in rec.notations:
            parent = _mesh.parent_tree_number(tn)
            if parent is not None and (b := trees.get(parent)) is not None and b != rec.iri and b not in out:
                out.append(b)
    return out


def _label_keys(rec: ConceptRecord) -> set[str]:
    """The lower-cased preferred label and exact synonyms (``skos:prefLabel`` and
    ``skos:altLabel``): what a label parameter of a saved query is matched against."""
    labels = [rec.label] if rec.label is not None else []
    labels += [x.text for x in rec.synonyms if x.scope is SynonymScope.EXACT]
    return {T.lookup_key(x) for x in labels}


def concept_quads(records: list[ConceptRecord], vocabulary: str, trees: dict[str, str] | None = None) -> Iterator[Quad]:
    """Quads for ``records`` (all of one vocabulary) in the vocabulary's graph."""
    graph = T.vocab_graph_iri(vocabulary)
    if trees is None:
        trees = tree_index(records)
    for rec in sorted(records, key=lambda r: r.iri):
        s = NamedNode(rec.iri)
        if rec.describes:
            yield Quad(s, T.RDF_TYPE, T.SKOS_CONCEPT, graph)
            for t in sorted(set(rec.types)):
                yield Quad(s, T.RDF_TYPE, NamedNode(t), graph)
            yield Quad(s, T.SKOS_IN_SCHEME, graph, graph)
        if rec.label is not None:
            yield Quad(s, T.SKOS_PREF_LABEL, Literal(rec.label), graph)
        seen = {(SynonymScope.EXACT, rec.label)}
        for syn in sorted(rec.synonyms, key=lambda x: (x.scope.value, x.text)):
            if (syn.scope, syn.text) not in seen:
                seen.add((syn.scope, syn.text))
                yield Quad(s, _SYNONYM_PREDICATES[syn.scope], Literal(syn.text), graph)
        for key in sorted(_label_keys(rec)):
            yield Quad(s, T.labelKey, Literal(key), graph)
        for tn in sorted(set(rec.notations)):
            yield Quad(s, T.SKOS_NOTATION, Literal(tn), graph)
        for b in sorted(set(broader_of(rec, trees))):
            yield Quad(s, T.SKOS_BROADER, NamedNode(b), graph)
        for m in sorted(set(rec.exact_matches)):
            yield Quad(s, T.SKOS_EXACT_MATCH, NamedNode(m), graph)
        for a in sorted(set(rec.pharmacological_actions)):
            yield Quad(s, T.MESHV_PHARMACOLOGICAL_ACTION, NamedNode(a), graph)


def scheme_quads(vocabulary: str, sources: list[str], checksum: str | None = None) -> list[Quad]:
    """The scheme's description: type, title and the files it was read from.
    The checksum (``tkg:checksum``) is written last, separately, by the import."""
    graph = T.vocab_graph_iri(vocabulary)
    quads = [
        Quad(graph, T.RDF_TYPE, T.SKOS_CONCEPT_SCHEME, graph),
        Quad(graph, T.RDFS_LABEL, Literal(TITLES.get(vocabulary, vocabulary)), graph),
    ]
    quads.extend(Quad(graph, T.sourceFile, Literal(src), graph) for src in sorted(set(sources)))
    if checksum is not None:
        quads.append(Quad(graph, T.checksum, Literal(checksum), graph))
    return quads


class Digest:
    """sha256 over quads in their (deterministic) order, computed while they stream
    to the store: the vocabulary graph's content key, recorded as ``tkg:checksum``
    and used to key the linker's index cache."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self.count = 0

    def feed(self, quads: Iterable[Quad]) -> Iterator[Quad]:
        for q in quads:
            self._h.update(str(q).encode("utf-8"))
            self._h.update(b"\n")
            self.count += 1
            yield q

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def count_quads(records: list[ConceptRecord], vocabulary: str, trees: dict[str, str]) -> int:
    """How many quads :func:`concept_quads` makes for ``records``, without making them."""
    n = 0
    for rec in records:
        if rec.describes:
            n += 2 + len(set(rec.types))
        n += rec.label is not None
        n += len(_label_keys(rec))
        n += len({(s.scope, s.text) for s in rec.synonyms} - {(SynonymScope.EXACT, rec.label)})
        n += len(set(rec.notations)) + len(set(broader_of(rec, trees)))
        n += len(set(rec.exact_matches)) + len(set(rec.pharmacological_actions))
    return n
