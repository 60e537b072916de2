"""Cell Ontology and UBERON from the CZ cellxgene ontology-guide JSON
(``CL-ontology-v2026-03-26.json``): one object keyed by term ID, each value with
``label``, ``deprecated``, ``ancestors`` (ancestor ID -> distance over is_a and part_of,
restricted to the ontology) and optionally ``synonyms``, ``description``, ...

The label is the preferred label; synonyms are taken as EXACT (the guide lists them
without a scope); ancestors at distance 1 are the direct parents (``skos:broader``).
Deprecated terms are counted and left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson

from kg.vocab import _obo
from kg.vocab._io import open_binary
from kg.vocab.records import ConceptRecord, LoadStats, Synonym, VocabularyFileError

FORMAT = "cellxgene-json"
DESCRIPTION = "cellxgene ontology-guide JSON ({'CL:0000000': {'label': ..., 'ancestors': {...}}})"
VOCABULARY = None  # named by the term IDs

_HEAD = re.compile(rb'^\s*\{\s*"[A-Za-z][A-Za-z0-9_]*:[A-Za-z0-9_]+"\s*:\s*\{')


def sniff(head: bytes) -> bool:
    return _HEAD.match(head) is not None and b'"ancestors"' in head


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    name = str(path)
    try:
        with open_binary(path) as f:
            doc = orjson.loads(f.read())
    except orjson.JSONDecodeError as exc:
        raise VocabularyFileError(name, f"invalid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise VocabularyFileError(name, "expected one JSON object keyed by term ID at $")
    prefix: str | None = None
    for key, value in doc.items():
        where = f"$['{key}']"
        curie = _obo.curie_of(key)
        if curie is None or not isinstance(value, dict):
            raise VocabularyFileError(name, f"not a term entry at {where}")
        if prefix is None:
            prefix = _obo.prefix_of(curie)
        if _obo.prefix_of(curie) != prefix:
            stats.skip("term of another ontology")
            continue
        stats.rows += 1
        if value.get("deprecated"):
            stats.skip("deprecated term")
            continue
        label = value.get("label")
        if not isinstance(label, str) or not label.strip():
            raise VocabularyFileError(name, f"term without a label at {where}")
        rec = ConceptRecord(_obo.iri(curie), _obo.vocabulary_of(prefix), label=label.strip())
        for raw in value.get("synonyms") or []:
            text = str(raw).strip()
            if text and text != rec.label and Synonym(text) not in rec.synonyms:
                rec.synonyms.append(Synonym(text))
        ancestors = value.get("ancestors") or {}
        if not isinstance(ancestors, dict):
            raise VocabularyFileError(name, f"'ancestors' is not an object at {where}.ancestors")
        for ancestor, distance in ancestors.items():
            parent = _obo.curie_of(ancestor)
            if distance == 1 and parent is not None and _obo.prefix_of(parent) == prefix:
                rec.broader.append(_obo.iri(parent))
        yield rec
