"""trialkg's own curated vocabulary (``curated.tsv``, shipped in the package).

It holds what the public vocabularies lack for typing cell therapies: the phrases and
abbreviations trial records use for cell types and cell sources ("AD-MSCs",
"UC-MSCs", "Wharton's jelly"), which tissue-specific Cell Ontology term a cell type
from a given tissue is, autologous/allogeneic cues, and a few cross-references. The
linker reads it from the package, so cell therapies are typed with no vocabulary
imported; ``trialkg vocab import`` also writes it to the ``curated`` graph so that the
concepts it names have labels in the store.

The file format is described in its header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from kg import terms as T
from kg.enums import CellOrigin
from kg.vocab import _obo
from kg.vocab._io import head_lines, text_lines
from kg.vocab.records import ConceptRecord, LoadStats, Synonym, VocabularyFileError

FORMAT = "trialkg-curated-tsv"
DESCRIPTION = "trialkg curated vocabulary (kind, id, label, terms, refs, note)"
VOCABULARY = "curated"

MAGIC = "# trialkg curated vocabulary"
HEADER = ("kind", "id", "label", "terms", "refs", "note")
KINDS = ("cell_type", "tissue", "refine", "abbreviation", "msc_prefix", "origin", "origin_prefix", "product", "xref")


@dataclass(frozen=True, slots=True)
class CuratedRow:
    line: int
    kind: str
    id: str
    label: str
    terms: tuple[str, ...]
    refs: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Curated:
    """The curated vocabulary, parsed. IDs are CURIEs (``CL:0000134``)."""

    rows: tuple[CuratedRow, ...]
    checksum: str
    labels: dict[str, str] = field(default_factory=dict)  # CURIE -> label

    def of_kind(self, kind: str) -> list[CuratedRow]:
        return [r for r in self.rows if r.kind == kind]

    def refinements(self) -> dict[tuple[str, str], str]:
        """``(general CL, UBERON tissue)`` -> tissue-specific CL term."""
        return {(r.refs[0], r.refs[1]): r.id for r in self.of_kind("refine")}

    def broader_cell_types(self) -> dict[str, set[str]]:
        """Curated cell type -> the curated cell types it is a kind of (transitively,
        through the refine rows too)."""
        direct: dict[str, set[str]] = {}
        for r in self.of_kind("cell_type"):
            direct.setdefault(r.id, set()).update(r.refs)
        for r in self.of_kind("refine"):
            if r.refs[0].startswith("CL:"):
                direct.setdefault(r.id, set()).add(r.refs[0])
        closed: dict[str, set[str]] = {}
        for cl, parents in direct.items():
            seen: set[str] = set()
            stack = list(parents)
            while stack:
                b = stack.pop()
                if b not in seen and b != cl:
                    seen.add(b)
                    stack.extend(direct.get(b, ()))
            closed[cl] = seen
        return closed

    def generalisations(self) -> dict[str, tuple[str, str]]:
        """Tissue-specific CL term -> ``(general CL, UBERON tissue)``."""
        return {r.id: (r.refs[0], r.refs[1]) for r in self.of_kind("refine")}


def sniff(head: bytes) -> bool:
    lines = head_lines(head, 1)
    return bool(lines) and lines[0].strip() == MAGIC


def _split(cell: str, sep: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in cell.split(sep) if t.strip())


def parse(path: Path) -> Curated:
    name = str(path)
    data = path.read_bytes()
    if not sniff(data[:4096]):
        raise VocabularyFileError(name, f"not a trialkg curated vocabulary (first line must be {MAGIC!r})", line=1)
    rows: list[CuratedRow] = []
    labels: dict[str, str] = {}
    seen_header = False
    for line, text in text_lines(path):
        if not text.strip() or text.startswith("#"):
            continue
        cells = text.split("\t")
        if tuple(c.strip() for c in cells[: len(HEADER)]) == HEADER:
            seen_header = True
            continue
        if not seen_header:
            raise VocabularyFileError(name, f"rows before the header line {list(HEADER)!r}", line=line)
        kind, ident, label, terms, refs, note = (c.strip() for c in [*cells, "", "", "", "", ""][:6])
        if kind not in KINDS:
            raise VocabularyFileError(name, f"unknown kind {kind!r}", line=line)
        row = CuratedRow(line, kind, ident, label, _split(terms, "|"), _split(refs, " "), note)
        _check(row, name)
        rows.append(row)
        labelled = kind in ("cell_type", "tissue", "refine", "abbreviation", "msc_prefix", "xref")
        if label and ident and labelled and labels.setdefault(ident, label) != label:
            reason = f"{ident} labelled {label!r} here and {labels[ident]!r} before"
            raise VocabularyFileError(name, reason, line=line)
    return Curated(tuple(rows), hashlib.sha256(data).hexdigest(), labels)


def _check(row: CuratedRow, file: str) -> None:
    def fail(reason: str) -> None:
        raise VocabularyFileError(file, f"{row.kind} row: {reason}", line=row.line)

    def need_prefix(curie: str, *prefixes: str) -> None:
        c = _obo.curie_of(curie)
        if c is None or _obo.prefix_of(c) not in prefixes:
            fail(f"{curie!r} is not a {'/'.join(prefixes)} ID")

    if row.kind in ("cell_type", "refine", "abbreviation"):
        need_prefix(row.id, "CL")
    if row.kind in ("tissue", "msc_prefix"):
        need_prefix(row.id, "UBERON")
    needs_terms = ("cell_type", "tissue", "abbreviation", "msc_prefix", "origin", "origin_prefix", "product")
    if row.kind in needs_terms and not row.terms:
        fail("no terms")
    if row.kind in ("origin", "origin_prefix") and row.id not in CellOrigin.__members__:
        fail(f"{row.id!r} is not a CellOrigin")
    if row.kind == "refine":
        if len(row.refs) != 2:
            fail("refs must be '<general CL term> <UBERON tissue>'")
        need_prefix(row.refs[0], "CL")
        need_prefix(row.refs[1], "UBERON")
    if row.kind == "abbreviation":
        for ref in row.refs:
            need_prefix(ref, "UBERON")
    if row.kind == "cell_type":
        for ref in row.refs:
            need_prefix(ref, "CL")
    if row.kind == "xref" and (len(row.refs) != 1 or not row.id):
        fail("an xref needs an id and one ref")


def curie_iri(curie: str) -> str:
    """IRI of a curated CURIE: ``MESH:C055085`` -> MeSH IRI, OBO CURIEs -> OBO PURLs."""
    prefix, _, local = curie.partition(":")
    if prefix == "MESH":
        return T.mesh_iri(local).value
    if prefix == "DRUGBANK":
        return T.drugbank_iri(local).value
    return _obo.iri(curie)


@lru_cache(maxsize=1)
def bundled() -> Curated:
    """The curated vocabulary shipped in the package."""
    with resources.as_file(resources.files("kg.vocab").joinpath("curated.tsv")) as path:
        return parse(path)


def bundled_path() -> Path:
    return Path(str(resources.files("kg.vocab").joinpath("curated.tsv")))


def records(curated: Curated) -> Iterator[ConceptRecord]:
    """Concept records for the ``curated`` graph: cell types, tissues and tissue-specific
    cell types with the labels and phrases used to find them, and the cross-references.
    Abbreviation leads, origin cues and product words are matching data, not concepts."""
    by_iri: dict[str, ConceptRecord] = {}
    for row in curated.rows:
        if row.kind in ("cell_type", "tissue", "refine", "abbreviation"):
            iri = curie_iri(row.id)
            rec = by_iri.get(iri)
            if rec is None:
                rec = by_iri[iri] = ConceptRecord(iri, VOCABULARY, label=curated.labels.get(row.id) or None)
            for term in row.terms:
                syn = Synonym(term)
                if term != rec.label and syn not in rec.synonyms:
                    rec.synonyms.append(syn)
        elif row.kind == "xref":
            iri = curie_iri(row.id)
            rec = by_iri.get(iri)
            if rec is None:
                rec = by_iri[iri] = ConceptRecord(iri, VOCABULARY, describes=False)
            target = curie_iri(row.refs[0])
            if target not in rec.exact_matches:
                rec.exact_matches.append(target)
    yield from by_iri.values()


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    curated = parse(path)
    stats.rows = len(curated.rows)
    for row in curated.rows:
        if row.kind in ("msc_prefix", "origin", "origin_prefix", "product"):
            stats.skip(f"{row.kind} row (matching data, not a concept)")
    yield from records(curated)
