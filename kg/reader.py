"""Walks files, directories and zip archives and hands each file to the source
module that recognises its content."""

from __future__ import annotations

import codecs
import logging
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from lxml import etree

from kg.errors import ParseError, UnknownFormat
from kg.model import Trial
from kg.sources import REGISTRY, SNIFF_BYTES, detect
from kg.sources._html import html_to_text, looks_like_html

log = logging.getLogger(__name__)

#: Files that are never trial records (checksums, notes next to downloads).
_IGNORED_SUFFIXES = {".md", ".sha256", ".md5", ".gitkeep", ".ds_store"}
MAX_MEMBER_BYTES = 512 * 1024 * 1024


@dataclass(slots=True)
class SourceFile:
    """A file's content as the parsers read it: gzip unpacked, text in UTF-8 without
    a byte-order mark, HTML rendered as text. Its checksum in the graph is of these bytes, so the same record
    gives the same checksum however it was compressed or encoded."""

    name: str  # file name, "archive.zip!member" for zip members
    data: bytes


_GZIP_MAGIC = b"\x1f\x8b"
#: Byte-order marks of the encodings converted to UTF-8 (longest first: UTF-32 LE's
#: mark starts with UTF-16 LE's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_XML_ENCODING = re.compile(rb"""^(<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")


def source_file(name: str, data: bytes) -> SourceFile | ParseError:
    """``data`` read from ``name``, gunzipped (within :data:`MAX_MEMBER_BYTES`) and
    converted to UTF-8 when it starts with a UTF-16 or UTF-32 byte-order mark (an XML
    declaration then says UTF-8 too); a UTF-8 byte-order mark is dropped. An HTML page
    (a mirror page saved from a browser) becomes its visible text."""
    if data.startswith(_GZIP_MAGIC):
        try:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            data = inflater.decompress(data, MAX_MEMBER_BYTES + 1)
        except zlib.error as exc:
            return ParseError(name, f"broken gzip data: {exc}")
        if len(data) > MAX_MEMBER_BYTES:
            return ParseError(name, f"unpacks to over the {MAX_MEMBER_BYTES}-byte limit")
        if not inflater.eof:
            return ParseError(name, "truncated gzip data")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    else:
        for bom, encoding in _BOMS:
            if data.startswith(bom):
                try:
                    text = data.decode(encoding)
                except UnicodeDecodeError as exc:
                    return ParseError(name, f"not valid {encoding.upper()} text at byte {exc.start}: {exc.reason}")
                utf8 = text.lstrip("\ufeff").encode("utf-8")
                data = _XML_ENCODING.sub(rb"\1\2UTF-8\2", utf8, count=1)
                break
    if looks_like_html(data):
        try:
            data = html_to_text(data)
        except (etree.ParserError, ValueError) as exc:
            return ParseError(name, f"unreadable HTML: {exc}")
    return SourceFile(name, data)


def iter_files(paths: Iterable[str | Path]) -> Iterator[SourceFile | ParseError]:
    """Every candidate file under ``paths`` (files, directories, zips), in a stable order."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for child in sorted(x for x in path.rglob("*") if x.is_file()):
                if child.name.startswith(".") or child.suffix.lower() in _IGNORED_SUFFIXES:
                    continue
                yield from _one(child)
        elif path.exists():
            yield from _one(path)
        else:
            yield ParseError(str(path), "no such file or directory")


def _one(path: Path) -> Iterator[SourceFile | ParseError]:
    try:
        if zipfile.is_zipfile(path):
            yield from _zip(path)
            return
        yield source_file(path.name, path.read_bytes())
    except OSError as exc:
        yield ParseError(str(path), f"cannot read: {exc.strerror or exc}")


def _zip(path: Path) -> Iterator[SourceFile | ParseError]:
    try:
        with zipfile.ZipFile(path) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                base = info.filename.rsplit("/", 1)[-1]
                if info.is_dir() or base.startswith(".") or Path(base).suffix.lower() in _IGNORED_SUFFIXES:
                    continue
                name = f"{path.name}!{info.filename}"
                if info.file_size > MAX_MEMBER_BYTES:
                    yield ParseError(name, f"member is {info.file_size} bytes, over the {MAX_MEMBER_BYTES}-byte limit")
                    continue
                try:
                    data = zf.read(info)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    yield ParseError(name, f"cannot read zip member: {exc}")
                    continue
                yield source_file(name, data)
    except zipfile.BadZipFile as exc:
        yield ParseError(path.name, f"broken zip archive: {exc}")


def module_for(sf: SourceFile) -> ModuleType:
    if not sf.data[:SNIFF_BYTES].strip() and not sf.data.strip():
        raise UnknownFormat(sf.name, "empty file")
    module = detect(sf.data[:SNIFF_BYTES])
    if module is None:
        known = ", ".join(m.FORMAT.value for m in REGISTRY.values())
        raise UnknownFormat(sf.name, f"not in any known format (known: {known})")
    return module


def read_trials(paths: Iterable[str | Path], *, strict: bool = False) -> Iterator[Trial | ParseError]:
    """Every trial (or error) from ``paths``; an error never stops the walk."""
    for item in iter_files(paths):
        if isinstance(item, ParseError):
            yield item
            continue
        try:
            module = module_for(item)
        except UnknownFormat as exc:
            yield exc
            continue
        yield from module.records(item.data, item.name, strict=strict)
