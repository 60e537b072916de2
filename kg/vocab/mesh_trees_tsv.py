"""MeSH tree numbers from a tab-separated tree table.

Columns (header required): ``DescriptorUI``, ``DescriptorName``, ``tree_location``
(a tree number), ``code``, ``cats``, ``mesh1``, ``mesh2``, ``tree1``, ``tree2`` (the
``mesh2024_tree_numbers`` table built from NLM's mtrees20XX). Each tree number
becomes a ``skos:notation`` of its descriptor; broader descriptors follow from the
tree numbers when the graph is built.

The table has no rows for the level-1 descriptors (``C04`` Neoplasms, ``C20``
Immune System Diseases, ...): it names them only in the ``mesh1``/``tree1`` columns
of their descendants. Those become records known by label (``label_ref``), which the
import resolves against the descriptor names of the same import.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kg.vocab import _mesh
from kg.vocab._io import head_lines, tsv_rows
from kg.vocab.records import ConceptRecord, LoadStats, VocabularyFileError

FORMAT = "mesh-trees-tsv"
DESCRIPTION = "MeSH tree-number table (DescriptorUI, DescriptorName, tree_location, ..., tree1, tree2)"
VOCABULARY = _mesh.VOCABULARY

HEADER = ("DescriptorUI", "DescriptorName", "tree_location")
_FULL = ("DescriptorUI", "DescriptorName", "tree_location", "code", "cats", "mesh1", "mesh2", "tree1", "tree2")


def sniff(head: bytes) -> bool:
    lines = head_lines(head, 1)
    return bool(lines) and tuple(lines[0].split("\t")[: len(HEADER)]) == HEADER


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    records: dict[str, ConceptRecord] = {}
    level1: dict[str, set[str]] = {}  # name -> tree numbers
    for line, cells in tsv_rows(path, columns=len(_FULL), header=HEADER, min_columns=3):
        stats.rows += 1
        ui, tree = cells[0].strip(), cells[2].strip()
        if not _mesh.is_ui(ui) or not _mesh.is_tree_number(tree):
            raise VocabularyFileError(str(path), f"not a descriptor/tree-number row: {cells[:3]!r}", line=line)
        rec = records.get(ui)
        if rec is None:
            name = cells[1].strip() or None
            rec = records[ui] = ConceptRecord(_mesh.iri(ui), _mesh.VOCABULARY, label=name)
        if tree not in rec.notations:
            rec.notations.append(tree)
        if len(cells) >= len(_FULL):
            name1, tree1 = cells[5].strip(), cells[7].strip()
            if name1 and _mesh.is_tree_number(tree1) and "." not in tree1:
                level1.setdefault(name1, set()).add(tree1)
    yield from records.values()
    for name, trees in sorted(level1.items()):
        yield ConceptRecord("", _mesh.VOCABULARY, notations=sorted(trees), label_ref=name)
