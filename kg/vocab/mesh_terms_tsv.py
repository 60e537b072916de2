"""MeSH descriptor names and entry terms from a tab-separated term table.

Columns (header required): ``DescriptorUI``, ``DescriptorName``, ``ConceptUI``,
``TermUI``, ``TermName``, ``ConceptPreferredTermYN``, ``IsPermutedTermYN``,
``LexicalTag``, ``RecordPreferredTermYN`` — one row per term of each descriptor
(the ``mesh2024_descriptor_terms`` table built from NLM's desc20XX.xml). The
descriptor name is the preferred label; every other term name is an entry term.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kg.vocab import _mesh
from kg.vocab._io import head_lines, tsv_rows
from kg.vocab.records import ConceptRecord, LoadStats, Synonym, VocabularyFileError

FORMAT = "mesh-terms-tsv"
DESCRIPTION = "MeSH descriptor term table (DescriptorUI, DescriptorName, ..., TermName, ...)"
VOCABULARY = _mesh.VOCABULARY

HEADER = ("DescriptorUI", "DescriptorName", "ConceptUI", "TermUI", "TermName")


def sniff(head: bytes) -> bool:
    lines = head_lines(head, 1)
    return bool(lines) and tuple(lines[0].split("\t")[: len(HEADER)]) == HEADER


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    records: dict[str, ConceptRecord] = {}
    seen: dict[str, set[str]] = {}
    for line, cells in tsv_rows(path, columns=9, header=HEADER, min_columns=5):
        stats.rows += 1
        ui, name, term = cells[0].strip(), cells[1].strip(), cells[4].strip()
        if not _mesh.is_ui(ui) or not name:
            raise VocabularyFileError(str(path), f"not a descriptor row: {cells[:2]!r}", line=line)
        rec = records.get(ui)
        if rec is None:
            rec = records[ui] = ConceptRecord(
                _mesh.iri(ui), _mesh.VOCABULARY, label=name, types=[_mesh.type_iri("Descriptor")]
            )
            seen[ui] = {name}
        if term and term not in seen[ui]:
            seen[ui].add(term)
            rec.synonyms.append(Synonym(term))
    yield from records.values()
