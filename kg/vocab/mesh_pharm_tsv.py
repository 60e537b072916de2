"""MeSH pharmacological actions from a tab-separated table, and the names of the
supplementary concept records (SCRs, ``C######``) listed there.

Columns (header required): ``DescriptorUI`` (a descriptor ``D######`` or an SCR
``C######``), ``DescriptorName``, ``PharmActionUI``, ``PharmActionName``. For SCRs
the name is the preferred label (this table is the only source of SCR names among
the tables); descriptor names come from the term table, so a descriptor row only
adds its pharmacological action (``meshv:pharmacologicalAction``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kg.vocab import _mesh
from kg.vocab._io import head_lines, tsv_rows
from kg.vocab.records import ConceptRecord, LoadStats, VocabularyFileError

FORMAT = "mesh-pharm-tsv"
DESCRIPTION = "MeSH pharmacological-action table (DescriptorUI, DescriptorName, PharmActionUI, PharmActionName)"
VOCABULARY = _mesh.VOCABULARY

HEADER = ("DescriptorUI", "DescriptorName", "PharmActionUI", "PharmActionName")


def sniff(head: bytes) -> bool:
    lines = head_lines(head, 1)
    return bool(lines) and tuple(lines[0].split("\t")[: len(HEADER)]) == HEADER


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    records: dict[str, ConceptRecord] = {}
    for line, cells in tsv_rows(path, columns=4, header=HEADER):
        stats.rows += 1
        ui, name, action = cells[0].strip(), cells[1].strip(), cells[2].strip()
        if not _mesh.is_ui(ui) or not _mesh.is_ui(action):
            raise VocabularyFileError(str(path), f"not a record/action row: {cells!r}", line=line)
        rec = records.get(ui)
        if rec is None:
            if ui.startswith("C"):
                if not name:
                    raise VocabularyFileError(str(path), f"supplementary record {ui} has no name", line=line)
                rec = ConceptRecord(
                    _mesh.iri(ui), _mesh.VOCABULARY, label=name, types=[_mesh.type_iri("SupplementaryConceptRecord")]
                )
            else:
                rec = ConceptRecord(_mesh.iri(ui), _mesh.VOCABULARY, describes=False)
            records[ui] = rec
        action_iri = _mesh.iri(action)
        if action_iri not in rec.pharmacological_actions:
            rec.pharmacological_actions.append(action_iri)
    yield from records.values()
