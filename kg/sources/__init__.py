"""Source formats: one module per format, and the registry that maps format names to them.

Every module exposes ``FORMAT`` (a :class:`kg.enums.SourceFormat`), ``DESCRIPTION``,
``sniff(head: bytes) -> bool``, ``parse(path) -> Iterator[Trial]`` (raises the first
error) and ``records(data: bytes, name: str) -> Iterator[Trial | ParseError]`` (one
bad record does not stop the others). Detection is by content, never by file name.
``tests/test_sources_meta.py`` fails when a module in this package is not registered
or a registered format has no real-record fixture.
"""

from __future__ import annotations

from types import ModuleType

from kg.enums import SourceFormat
from kg.sources import basic_info_page, ctgov_classic_json, ctgov_v2_json, ctgov_xml, ignite_page, veeva_page

#: Order matters: the first module whose ``sniff`` accepts a file's head parses it.
REGISTRY: dict[SourceFormat, ModuleType] = {
    SourceFormat.CTGOV_V2_JSON: ctgov_v2_json,
    SourceFormat.CTGOV_CLASSIC_JSON: ctgov_classic_json,
    SourceFormat.CTGOV_XML: ctgov_xml,
    SourceFormat.VEEVA_PAGE: veeva_page,
    SourceFormat.BASIC_INFO_PAGE: basic_info_page,
    SourceFormat.IGNITE_PAGE: ignite_page,
}

SNIFF_BYTES = 65536


def detect(head: bytes) -> ModuleType | None:
    """The source module that recognises ``head`` (the first bytes of a file), if any."""
    for module in REGISTRY.values():
        if module.sniff(head):
            return module
    return None
