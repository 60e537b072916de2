"""The source-neutral concept record every vocabulary loader yields.

A loader reads one file format and yields :class:`ConceptRecord` objects; it never
builds RDF. :func:`kg.vocab.skos.concept_quads` turns the records of one vocabulary
into SKOS quads, so every input format of a vocabulary gives the same graph shape.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from kg.errors import VocabularyError


class SynonymScope(StrEnum):
    """OBO synonym scopes. MeSH entry terms and cellxgene synonyms are EXACT."""

    EXACT = "EXACT"
    RELATED = "RELATED"
    NARROW = "NARROW"
    BROAD = "BROAD"


@dataclass(slots=True, frozen=True)
class Synonym:
    text: str
    scope: SynonymScope = SynonymScope.EXACT


@dataclass(slots=True)
class ConceptRecord:
    """One concept as read from a vocabulary file.

    ``iri`` is the concept's IRI (``http://id.nlm.nih.gov/mesh/D011565``,
    ``http://purl.obolibrary.org/obo/CL_0000134``). ``vocabulary`` names the named
    graph the record goes to (``mesh``, ``cl``, ``uberon``, ``chebi``, ``drugbank``,
    ``mesh-mappings``, ``curated``). A record with ``describes=False`` only adds
    statements (mappings) about a concept that another vocabulary describes, so it
    gets no ``skos:Concept`` type or ``skos:inScheme``.

    ``label_ref`` is for a loader that knows a concept only by its preferred label
    (the MeSH tree table names the level-1 ancestors of each tree number but not
    their IDs): the import resolves it to the concept of the same vocabulary with
    that preferred label, and leaves ``iri`` empty until then.
    """

    iri: str
    vocabulary: str
    label: str | None = None
    synonyms: list[Synonym] = field(default_factory=list)
    broader: list[str] = field(default_factory=list)
    notations: list[str] = field(default_factory=list)
    exact_matches: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)  # extra rdf:type IRIs (meshv:TopicalDescriptor)
    pharmacological_actions: list[str] = field(default_factory=list)  # MeSH descriptor IRIs
    describes: bool = True
    label_ref: str | None = None

    def merge(self, other: ConceptRecord) -> None:
        """Add ``other``'s statements (same IRI, another file or row) to this record."""
        if self.label is None:
            self.label = other.label
        elif other.label is not None and other.label != self.label:
            # Two files disagree on the preferred label: keep ours, the other becomes a synonym.
            other_syn = Synonym(other.label)
            if other_syn not in self.synonyms:
                self.synonyms.append(other_syn)
        self.describes = self.describes or other.describes
        for mine, theirs in (
            (self.synonyms, other.synonyms),
            (self.broader, other.broader),
            (self.notations, other.notations),
            (self.exact_matches, other.exact_matches),
            (self.types, other.types),
            (self.pharmacological_actions, other.pharmacological_actions),
        ):
            seen = set(mine)
            for x in theirs:
                if x not in seen:
                    mine.append(x)  # type: ignore[arg-type]
                    seen.add(x)


class VocabularyFileError(VocabularyError):
    """A vocabulary file could not be read: names the file and, where known, the line."""

    def __init__(self, file: str, reason: str, *, line: int | None = None) -> None:
        self.file = file
        self.reason = reason
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


@dataclass
class LoadStats:
    """What a loader read and what it left out, and why (nothing is dropped silently)."""

    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] += n
