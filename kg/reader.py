"""Walks files, directories and zip archives and hands each file to the source
module that recognises its content."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from kg.errors import ParseError, UnknownFormat
from kg.model import Trial
from kg.sources import REGISTRY, SNIFF_BYTES, detect

log = logging.getLogger(__name__)

#: Files that are never trial records (checksums, notes next to downloads).
_IGNORED_SUFFIXES = {".md", ".sha256", ".md5", ".gitkeep", ".ds_store"}
MAX_MEMBER_BYTES = 512 * 1024 * 1024


@dataclass(slots=True)
class SourceFile:
    name: str  # file name, "archive.zip!member" for zip members
    data: bytes


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
        yield SourceFile(path.name, path.read_bytes())
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
                    yield SourceFile(name, zf.read(info))
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    yield ParseError(name, f"cannot read zip member: {exc}")
    except zipfile.BadZipFile as exc:
        yield ParseError(path.name, f"broken zip archive: {exc}")


def module_for(sf: SourceFile) -> ModuleType:
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
