"""MeSH from NLM's XML distribution: descriptors (``desc20XX.xml``) and
supplementary concept records (``supp20XX.xml``).

The full descriptor file is about 300 MB, so it is streamed with ``lxml.etree.iterparse``
and each record is cleared once read. The parser never resolves entities, loads the
DTD or touches the network (the files declare NLM's DTD by URL).

Per ``DescriptorRecord``: ``DescriptorUI``, the name (``DescriptorName/String``), every
term of every concept (``ConceptList/Concept/TermList/Term/String``) as an entry term,
the tree numbers, and the pharmacological actions. Per ``SupplementalRecord``: the UI,
the name, the terms, the preferred headings it is mapped to (``HeadingMappedTo`` UIs
starred by NLM) as broader concepts, and the pharmacological actions. Qualifier
records and the qualifier part of a heading are not represented.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from kg.vocab import _mesh
from kg.vocab._io import open_binary
from kg.vocab.records import ConceptRecord, LoadStats, Synonym, VocabularyFileError

FORMAT = "mesh-xml"
DESCRIPTION = "MeSH descriptor or supplementary-concept XML from NLM (desc20XX.xml, supp20XX.xml)"
VOCABULARY = _mesh.VOCABULARY

_RECORDS = ("DescriptorRecord", "SupplementalRecord")


def sniff(head: bytes) -> bool:
    return b"<DescriptorRecordSet" in head or b"<SupplementalRecordSet" in head


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    name = str(path)
    try:
        with open_binary(path) as f:
            for _event, rec in etree.iterparse(
                f,
                events=("end",),
                tag=_RECORDS,
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                dtd_validation=False,
                huge_tree=True,
            ):
                stats.rows += 1
                record = _record(rec, name)
                # free the record and the already-read siblings before it
                rec.clear()
                parent = rec.getparent()
                if parent is not None:
                    while rec.getprevious() is not None:
                        del parent[0]
                yield record
    except etree.XMLSyntaxError as exc:
        raise VocabularyFileError(name, f"XML syntax error: {exc.msg}", line=exc.lineno) from exc


def _text(el: etree._Element, path: str) -> str | None:
    value = el.findtext(path)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _record(rec: etree._Element, file: str) -> ConceptRecord:
    is_descriptor = rec.tag == "DescriptorRecord"
    if is_descriptor:
        ui_tag, name_tag = "DescriptorUI", "DescriptorName"
    else:
        ui_tag, name_tag = "SupplementalRecordUI", "SupplementalRecordName"
    ui = _text(rec, ui_tag)
    if ui is None or not _mesh.is_ui(ui):
        raise VocabularyFileError(file, f"{rec.tag} without a valid {ui_tag} ({ui!r})", line=rec.sourceline)
    label = _text(rec, f"{name_tag}/String")
    if label is None:
        raise VocabularyFileError(file, f"{ui} has no {name_tag}", line=rec.sourceline)
    if is_descriptor:
        kind = _mesh.DESCRIPTOR_TYPES.get(rec.get("DescriptorClass", "1"), "Descriptor")
    else:
        kind = _mesh.SCR_TYPES.get(rec.get("SCRClass", "1"), "SupplementaryConceptRecord")
    record = ConceptRecord(_mesh.iri(ui), _mesh.VOCABULARY, label=label, types=[_mesh.type_iri(kind)])
    seen = {label}
    for term in rec.iterfind("ConceptList/Concept/TermList/Term"):
        text = _text(term, "String")
        if text and text not in seen:
            seen.add(text)
            record.synonyms.append(Synonym(text))
    for tn in rec.iterfind("TreeNumberList/TreeNumber"):
        if tn.text and tn.text.strip():
            record.notations.append(tn.text.strip())
    for pa in rec.iterfind("PharmacologicalActionList/PharmacologicalAction/DescriptorReferredTo/DescriptorUI"):
        pa_ui = (pa.text or "").strip().lstrip("*")
        if _mesh.is_ui(pa_ui):
            record.pharmacological_actions.append(_mesh.iri(pa_ui))
    if not is_descriptor:
        # NLM stars the preferred headings (meshv:preferredMappedTo), on the descriptor
        # or, for a descriptor/qualifier pair, on the qualifier.
        for heading in rec.iterfind("HeadingMappedToList/HeadingMappedTo"):
            desc = (heading.findtext("DescriptorReferredTo/DescriptorUI") or "").strip()
            qual = (heading.findtext("QualifierReferredTo/QualifierUI") or "").strip()
            if (desc.startswith("*") or qual.startswith("*")) and _mesh.is_ui(desc.lstrip("*")):
                record.broader.append(_mesh.iri(desc.lstrip("*")))
    return record
