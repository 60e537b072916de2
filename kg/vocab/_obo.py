"""OBO identifier conventions shared by the OBO, OBO-JSON and cellxgene loaders."""

from __future__ import annotations

import re

from kg import terms as T

_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*):([A-Za-z0-9_]+)$")
_OBO_IRI = re.compile(r"^" + re.escape(T.OBO_NS) + r"([A-Za-z][A-Za-z0-9]*)_([A-Za-z0-9_]+)$")


def curie_of(identifier: str) -> str | None:
    """``CL:0000134`` or ``http://purl.obolibrary.org/obo/CL_0000134`` -> ``CL:0000134``."""
    if m := _CURIE.match(identifier):
        return f"{m.group(1)}:{m.group(2)}"
    if m := _OBO_IRI.match(identifier):
        return f"{m.group(1)}:{m.group(2)}"
    return None


def prefix_of(curie: str) -> str:
    return curie.split(":", 1)[0]


def iri(curie: str) -> str:
    return T.obo_iri(curie).value


def vocabulary_of(prefix: str) -> str:
    """The graph name for an OBO prefix: ``CL`` -> ``cl``, ``UBERON`` -> ``uberon``."""
    return prefix.lower()
