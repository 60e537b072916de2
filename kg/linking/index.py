"""The in-memory label index the linker matches against.

Built from the vocabulary graphs in a store (``skos:prefLabel`` and ``skos:altLabel``
of every concept, MeSH tree numbers from ``skos:notation``, ``skos:broader`` and
``skos:exactMatch``), plus the curated vocabulary shipped with trialkg. Every label is
indexed under two keys: its normalised words in order, and as a sorted set (so that
"Spondylitis, Ankylosing" finds "Ankylosing Spondylitis"); MeSH headings are also
indexed in natural order ("Acute Myeloid Leukemia" for "Leukemia, Myeloid, Acute")
for matching inside longer texts.

Each concept belongs to domains that say what it can be linked from: MeSH diseases
and mental disorders (tree numbers C and F03, disease supplementary records) for
conditions; MeSH chemicals and drugs (tree D, chemical supplementary records), ChEBI
and DrugBank for interventions; Cell Ontology for cell types; UBERON for tissues.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntFlag

import orjson
import pyoxigraph as ox

from kg import terms as T
from kg.linking.normalise import fold, ordered_key, uninverted, unordered_key, words, words_uncached
from kg.vocab.curated import Curated, curie_iri
from kg.vocab.skos import value as _value

log = logging.getLogger(__name__)

#: Bump when the index layout or the rules that build it change (invalidates caches).
INDEX_VERSION = "3"


class Domain(IntFlag):
    """What a concept can be linked from (bit flags; stored as plain ints in the index)."""

    NONE = 0
    DISEASE = 1
    CHEMICAL = 2
    CELL = 4
    TISSUE = 8
    OTHER = 16


#: Vocabulary code (``Link.vocabulary``) of a concept IRI, by namespace.
def vocabulary_code(iri: str) -> str | None:
    if iri.startswith(T.MESH_NS) and not iri.startswith(T.MESHV_NS):
        return "MESH"
    if iri.startswith(T.DRUGBANK_NS):
        return "DRUGBANK"
    if iri.startswith(T.OBO_NS):
        local = iri[len(T.OBO_NS) :]
        prefix = local.split("_", 1)[0]
        return prefix if prefix in ("CL", "UBERON", "CHEBI") else None
    return None


_DISEASE, _CHEMICAL, _CELL, _TISSUE, _OTHER = 1, 2, 4, 8, 16


def mesh_domains(ui: str, trees: Iterable[str], types: Iterable[str]) -> int:
    d = 0
    for tn in trees:
        if tn.startswith(("C", "F03")):
            d |= _DISEASE
        elif tn.startswith("D"):
            d |= _CHEMICAL
        elif tn.startswith("A11"):
            d |= _CELL
        else:
            d |= _OTHER
    if ui.startswith("C"):  # supplementary concept record
        kinds = {t.rsplit("#", 1)[-1] for t in types}
        if "SCR_Disease" in kinds:
            d |= _DISEASE
        elif kinds & {"SCR_Protocol", "SCR_Organism", "SCR_Anatomy", "SCR_Population"}:
            d |= _OTHER
        else:  # SCR_Chemical, or a record known only from the pharmacological-action table
            d |= _CHEMICAL
    return d or _OTHER


_VOCAB_DOMAIN = {"CL": _CELL, "UBERON": _TISSUE, "CHEBI": _CHEMICAL, "DRUGBANK": _CHEMICAL}


@dataclass(slots=True)
class Concept:
    iri: str
    vocabulary: str  # MESH, CL, UBERON, CHEBI, DRUGBANK
    label: str | None
    domains: int  # Domain bits
    trees: tuple[str, ...] = ()
    broader: tuple[str, ...] = ()
    matches: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class Hit:
    """A vocabulary term that matched: the concept, the term as the vocabulary spells
    it, whether it is the preferred label, and whether it comes from the curated
    vocabulary."""

    concept: Concept
    term: str
    preferred: bool
    curated: bool = False


@dataclass
class _Raw:
    label: str | None = None
    alts: list[str] = field(default_factory=list)
    trees: list[str] = field(default_factory=list)
    broader: list[str] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)


Entry = tuple[int, str, bool, bool]  # (concept number, term, preferred, curated); a list when read from a cache


class LinkIndex:
    """Labels of all vocabulary concepts, keyed for matching."""

    def __init__(self) -> None:
        self.concepts: list[Concept] = []
        self.by_iri: dict[str, int] = {}
        self.ordered: dict[str, list[Entry]] = defaultdict(list)
        self.unordered: dict[str, list[Entry]] = defaultdict(list)
        # natural-order keys of condition-domain labels, for matching inside longer texts
        self.spans: dict[str, list[Entry]] = defaultdict(list)
        self.max_span = 1
        self.tree_owner: dict[str, str] = {}  # MeSH tree number -> descriptor IRI
        self.vocabularies: dict[str, int] = {}  # graph name -> concepts with a label read from it
        self._ancestors: dict[str, frozenset[str]] = {}

    # -- building --------------------------------------------------------------

    @classmethod
    def from_store(cls, store: ox.Store, curated: Curated) -> LinkIndex:
        index = cls()
        raw: dict[str, _Raw] = defaultdict(_Raw)
        for name, graph in vocabulary_graphs(store):
            if name == "curated":
                continue  # the package's own copy is used, whatever version the store holds
            n = 0
            for q in store.quads_for_pattern(None, T.SKOS_PREF_LABEL, None, graph):
                r = raw[_value(q.subject)]
                if r.label is None:
                    r.label = _value(q.object)
                    n += 1
                else:
                    r.alts.append(_value(q.object))
            for q in store.quads_for_pattern(None, T.SKOS_ALT_LABEL, None, graph):
                raw[_value(q.subject)].alts.append(_value(q.object))
            for q in store.quads_for_pattern(None, T.SKOS_NOTATION, None, graph):
                raw[_value(q.subject)].trees.append(_value(q.object))
            for q in store.quads_for_pattern(None, T.SKOS_BROADER, None, graph):
                raw[_value(q.subject)].broader.append(_value(q.object))
            for q in store.quads_for_pattern(None, T.SKOS_EXACT_MATCH, None, graph):
                raw[_value(q.subject)].matches.append(_value(q.object))
                raw[_value(q.object)].matches.append(_value(q.subject))
            for q in store.quads_for_pattern(None, T.RDF_TYPE, None, graph):
                if _value(q.object).startswith(T.MESHV_NS):
                    raw[_value(q.subject)].types.append(_value(q.object))
            index.vocabularies[name] = n
        index._add_curated(raw, curated)
        index._build(raw, curated)
        return index

    @classmethod
    def curated_only(cls, curated: Curated) -> LinkIndex:
        index = cls()
        raw: dict[str, _Raw] = defaultdict(_Raw)
        index._add_curated(raw, curated)
        index._build(raw, curated)
        return index

    def _add_curated(self, raw: dict[str, _Raw], curated: Curated) -> None:
        for curie, label in curated.labels.items():
            r = raw[curie_iri(curie)]
            if r.label is None:
                r.label = label
        for row in curated.of_kind("xref"):
            a, b = curie_iri(row.id), curie_iri(row.refs[0])
            raw[a].matches.append(b)
            raw[b].matches.append(a)
            if row.label and raw[a].label is None:
                raw[a].label = row.label

    def _build(self, raw: dict[str, _Raw], curated: Curated) -> None:
        for iri in sorted(raw):
            r = raw[iri]
            vocab = vocabulary_code(iri)
            if vocab is None:
                continue
            is_mesh = vocab == "MESH"
            domains = mesh_domains(iri[len(T.MESH_NS) :], r.trees, r.types) if is_mesh else _VOCAB_DOMAIN[vocab]
            trees = tuple(sorted(set(r.trees))) if is_mesh else ()
            ci = len(self.concepts)
            self.by_iri[iri] = ci
            self.concepts.append(
                Concept(
                    iri,
                    vocab,
                    r.label,
                    domains,
                    trees,
                    tuple(dict.fromkeys(r.broader)),
                    tuple(m for m in dict.fromkeys(r.matches) if m != iri),
                )
            )
            for tn in trees:
                self.tree_owner.setdefault(tn, iri)
            if vocab == "UBERON":
                continue  # tissues are found by the curated phrases only; their labels serve display
            if r.label is not None:
                self._add_term(ci, r.label, preferred=True, curated=False, domains=domains)
            for alt in dict.fromkeys(r.alts):
                if alt != r.label:
                    self._add_term(ci, alt, preferred=False, curated=False, domains=domains)
        for row in curated.of_kind("cell_type") + curated.of_kind("abbreviation"):
            known = self.by_iri.get(curie_iri(row.id))
            if known is not None:
                for term in row.terms:
                    self._add_term(known, term, preferred=False, curated=True, domains=_CELL)

    def _add_term(self, ci: int, term: str, *, preferred: bool, curated: bool, domains: int) -> None:
        ws = words_uncached(term)
        if not ws:
            return
        entry = (ci, term, preferred, curated)
        self.ordered[ordered_key(ws)].append(entry)
        self.unordered[unordered_key(ws)].append(entry)
        if domains & (_DISEASE | _CELL):
            self._add_span(ws, entry)
            natural = uninverted(term)
            if natural is not None:
                self._add_span(words_uncached(natural), entry)

    def _add_span(self, ws: tuple[str, ...], entry: Entry) -> None:
        bucket = self.spans[ordered_key(ws)]
        if entry not in bucket:
            bucket.append(entry)
        self.max_span = max(self.max_span, len(ws))

    # -- cache -----------------------------------------------------------------

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "version": INDEX_VERSION,
                "concepts": [
                    [c.iri, c.vocabulary, c.label, c.domains, c.trees, c.broader, c.matches] for c in self.concepts
                ],
                "ordered": self.ordered,
                "unordered": self.unordered,
                "spans": self.spans,
                "max_span": self.max_span,
                "vocabularies": self.vocabularies,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> LinkIndex:
        doc = orjson.loads(data)
        if doc.get("version") != INDEX_VERSION:
            raise ValueError("index cache of another version")
        index = cls()
        for i, (iri, vocab, label, domains, trees, broader, matches) in enumerate(doc["concepts"]):
            index.by_iri[iri] = i
            index.concepts.append(Concept(iri, vocab, label, domains, tuple(trees), tuple(broader), tuple(matches)))
            for tn in trees:
                index.tree_owner.setdefault(tn, iri)
        # entries stay JSON lists: they unpack like the tuples a fresh build makes
        index.ordered, index.unordered, index.spans = doc["ordered"], doc["unordered"], doc["spans"]
        index.max_span = doc["max_span"]
        index.vocabularies = doc["vocabularies"]
        return index

    # -- lookups ---------------------------------------------------------------

    def concept(self, iri: str) -> Concept | None:
        ci = self.by_iri.get(iri)
        return None if ci is None else self.concepts[ci]

    def _hits(self, entries: list[Entry] | None, domains: int) -> list[Hit]:
        out: list[Hit] = []
        for ci, term, preferred, curated in entries or ():
            c = self.concepts[ci]
            if c.domains & domains:
                out.append(Hit(c, term, preferred, curated))
        return out

    def match_whole(self, text: str, domains: int) -> dict[str, Hit]:
        """The concept per vocabulary whose label or synonym equals the whole ``text``,
        normalised (with and then without parenthesised parts).

        Within a vocabulary, words in the text's order decide first; when they name no
        concept or several, the words as a set decide ("Spondylitis, Ankylosing"). When
        several concepts still match, the one whose preferred label matched wins; if
        that does not single one out, the vocabulary gives no hit (ambiguous). The hit
        reports the preferred label when it matched in either order, else the synonym.
        """
        out: dict[str, Hit] = {}
        folded = fold(text)
        for drop in (False, True):
            ws = words(text, drop_parentheses=drop)
            if not ws:
                continue
            ordered = self._hits(self.ordered.get(ordered_key(ws)), domains)
            unordered = self._hits(self.unordered.get(unordered_key(ws)), domains)
            for vocab in dict.fromkeys(h.concept.vocabulary for h in ordered + unordered):
                if vocab in out:
                    continue
                o = [h for h in ordered if h.concept.vocabulary == vocab]
                u = [h for h in unordered if h.concept.vocabulary == vocab]
                iri = _single(o) or _single(u)
                if iri is not None:
                    out[vocab] = _best([h for h in o + u if h.concept.iri == iri], folded)
            if out:
                break
        return out

    def match_span(self, ws: tuple[str, ...], domains: int) -> Hit | None:
        """The concept (in ``domains``; MeSH first) whose natural-order label is ``ws``."""
        hits = self._hits(self.spans.get(ordered_key(ws)), domains)
        for vocab in ("MESH", *sorted({h.concept.vocabulary for h in hits} - {"MESH"})):
            mine = [h for h in hits if h.concept.vocabulary == vocab]
            iri = _single(mine)
            if iri is not None:
                return _best([h for h in mine if h.concept.iri == iri], " ".join(ws))
        return None

    def ancestors(self, iri: str) -> frozenset[str]:
        """All broader concepts, transitively: MeSH through its tree numbers, every
        vocabulary through ``skos:broader``."""
        got = self._ancestors.get(iri)
        if got is not None:
            return got
        self._ancestors[iri] = frozenset()  # guards against cycles
        out: set[str] = set()
        c = self.concept(iri)
        if c is not None:
            for tn in c.trees:
                parts = tn.split(".")
                for i in range(1, len(parts)):
                    owner = self.tree_owner.get(".".join(parts[:i]))
                    if owner is not None and owner != iri:
                        out.add(owner)
            for b in c.broader:
                if b != iri:
                    out.add(b)
                    out |= self.ancestors(b)
        result = frozenset(out)
        self._ancestors[iri] = result
        return result


def _single(hits: list[Hit]) -> str | None:
    """The one concept ``hits`` name, or the one whose preferred label is among them."""
    iris = {h.concept.iri for h in hits}
    if len(iris) == 1:
        return next(iter(iris))
    preferred = {h.concept.iri for h in hits if h.preferred}
    return next(iter(preferred)) if len(preferred) == 1 else None


def _best(hits: list[Hit], folded_text: str) -> Hit:
    """Among hits on one concept: the preferred label, then a vocabulary term, then the
    spelling closest to the text."""
    return min(hits, key=lambda h: (not h.preferred, h.curated, fold(h.term) != folded_text, h.term))


def vocabulary_graphs(store: ox.Store) -> list[tuple[str, ox.NamedNode]]:
    """``(vocabulary name, graph)`` for every vocabulary graph in the store, sorted."""
    names = sorted(g.value for g in store.named_graphs() if g.value.startswith(T.VOCAB_GRAPH_PREFIX))
    return [(g[len(T.VOCAB_GRAPH_PREFIX) :], ox.NamedNode(g)) for g in names]
