"""MeSH conventions shared by the MeSH loaders (XML, N-Triples, TSV tables)."""

from __future__ import annotations

import re

from kg import terms as T

VOCABULARY = "mesh"

_UI = re.compile(r"^[CDQ]\d{6}(?:\d{3})?$")
_TREE = re.compile(r"^[A-Z]\d{2}(?:\.\d{3})*$")

#: rdf:type for each kind of record (NLM's MeSH RDF classes).
DESCRIPTOR_TYPES = {
    "1": "TopicalDescriptor",
    "2": "PublicationType",
    "3": "CheckTag",
    "4": "GeographicalDescriptor",
}
SCR_TYPES = {"1": "SCR_Chemical", "2": "SCR_Protocol", "3": "SCR_Disease", "4": "SCR_Organism"}


def is_ui(text: str) -> bool:
    return bool(_UI.match(text))


def is_tree_number(text: str) -> bool:
    return bool(_TREE.match(text))


def iri(ui: str) -> str:
    return T.mesh_iri(ui).value


def type_iri(local: str) -> str:
    return T.meshv(local).value


def parent_tree_number(tree_number: str) -> str | None:
    """``C17.800.859.675`` -> ``C17.800.859``; a top-level number has no parent."""
    head, dot, _ = tree_number.rpartition(".")
    return head if dot else None
