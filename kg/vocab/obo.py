"""Cell Ontology, UBERON (or any OBO Foundry ontology) from an OBO 1.2/1.4 flat file
(``cl-basic.obo``).

Per ``[Term]`` stanza: ``id``, ``name``, ``synonym`` lines (EXACT synonyms become
``skos:altLabel``; RELATED, NARROW and BROAD ones keep their scope as oboInOwl
synonyms), ``is_a`` and ``relationship: part_of`` parents in the same ontology as
``skos:broader``. Obsolete terms, terms of other ontologies (imported classes), parents
in other ontologies, xrefs and the other tags are counted and left out. The ontology
is named by the header's ``ontology:`` tag, else by the prefix of the first term.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kg.vocab import _obo
from kg.vocab._io import head_lines, text_lines
from kg.vocab.records import ConceptRecord, LoadStats, Synonym, SynonymScope, VocabularyFileError

FORMAT = "obo"
DESCRIPTION = "OBO flat file (cl-basic.obo, uberon-basic.obo)"
VOCABULARY = None  # named by the file

_SYNONYM = re.compile(r'^"((?:[^"\\]|\\.)*)"\s*(EXACT|RELATED|NARROW|BROAD)?\b')
_UNESCAPE = re.compile(r"\\(.)")
_PART_OF = {"part_of", "BFO:0000050"}


def sniff(head: bytes) -> bool:
    lines = head_lines(head, 3)
    return bool(lines) and (lines[0].startswith("format-version:") or b"\n[Term]\n" in head)


def _value(raw: str) -> str:
    """A tag value without its trailing modifiers ``{...}`` and ``! comment``."""
    value = raw.split(" ! ", 1)[0]
    value = re.sub(r"\s*\{[^}]*\}\s*$", "", value)
    return value.strip()


def load(path: Path, stats: LoadStats) -> Iterator[ConceptRecord]:
    name = str(path)
    prefix: str | None = None
    stanza: str | None = None
    tags: list[tuple[int, str, str]] = []
    start = 0

    def finish() -> ConceptRecord | None:
        nonlocal prefix
        if stanza != "Term":
            if stanza is not None:
                stats.skip(f"[{stanza}] stanza")
            return None
        stats.rows += 1
        ident = next((v for _, t, v in tags if t == "id"), None)
        curie = _obo.curie_of(_value(ident)) if ident else None
        if curie is None:
            raise VocabularyFileError(name, f"[Term] without a valid id ({ident!r})", line=start)
        if prefix is None:
            prefix = _obo.prefix_of(curie)
        if _obo.prefix_of(curie) != prefix:
            stats.skip("term of another ontology")
            return None
        if any(t == "is_obsolete" and v.strip() == "true" for _, t, v in tags):
            stats.skip("obsolete term")
            return None
        rec = ConceptRecord(_obo.iri(curie), _obo.vocabulary_of(prefix))
        for line, tag, value in tags:
            if tag == "name":
                rec.label = value.strip()
            elif tag == "synonym":
                m = _SYNONYM.match(value.strip())
                if not m:
                    raise VocabularyFileError(name, f"malformed synonym {value!r}", line=line)
                text = _UNESCAPE.sub(r"\1", m.group(1)).strip()
                scope = SynonymScope(m.group(2) or "RELATED")
                syn = Synonym(text, scope)
                if text and text != rec.label and syn not in rec.synonyms:
                    rec.synonyms.append(syn)
            elif tag in ("is_a", "relationship"):
                target = _value(value)
                if tag == "relationship":
                    rel, _, target = target.partition(" ")
                    if rel not in _PART_OF:
                        stats.skip(f"relationship {rel}")
                        continue
                parent = _obo.curie_of(target.split()[0]) if target else None
                if parent is None:
                    raise VocabularyFileError(name, f"malformed {tag} {value!r}", line=line)
                if _obo.prefix_of(parent) != prefix:
                    stats.skip("parent in another ontology")
                    continue
                parent_iri = _obo.iri(parent)
                if parent_iri not in rec.broader:
                    rec.broader.append(parent_iri)
            elif tag not in ("id",):
                stats.skip(f"{tag} line")
        if rec.label is None:
            raise VocabularyFileError(name, f"{curie} has no name", line=start)
        return rec

    for number, line in text_lines(path):
        if line.startswith("[") and line.rstrip().endswith("]"):
            rec = finish()
            if rec is not None:
                yield rec
            stanza, tags, start = line.strip()[1:-1], [], number
            continue
        if not line.strip() or line.startswith("!"):
            continue
        tag, sep, value = line.partition(":")
        if not sep:
            raise VocabularyFileError(name, f"not a tag-value line: {line[:80]!r}", line=number)
        if stanza is None:
            if tag == "ontology" and prefix is None:
                prefix = value.strip().split("/", 1)[0].upper()
            continue
        tags.append((number, tag.strip(), value.strip()))
    rec = finish()
    if rec is not None:
        yield rec
