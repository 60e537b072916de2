"""File access shared by the vocabulary loaders: gzip by content, heads, TSV rows."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from kg.vocab.records import VocabularyFileError

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 65536


def is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when the content is gzip (whatever the name)."""
    if is_gzip(path):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def head(path: Path, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` (decompressed) bytes of a file."""
    try:
        with open_binary(path) as f:
            return f.read(n)
    except (OSError, EOFError) as exc:
        raise VocabularyFileError(str(path), f"cannot read: {exc}") from exc


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, line without its newline)``, UTF-8, for a plain or gzip file."""
    try:
        with open_binary(path) as raw:
            stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            for number, line in enumerate(stream, start=1):
                yield number, line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise VocabularyFileError(str(path), f"not UTF-8 text: {exc}") from exc
    except (OSError, EOFError) as exc:
        raise VocabularyFileError(str(path), f"cannot read: {exc}") from exc


def tsv_rows(
    path: Path, *, columns: int, header: tuple[str, ...] | None = None, min_columns: int | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Tab-separated rows as ``(line number, cells)``. With ``header``, the first line
    must start with those column names and is not yielded. A row with too few cells
    is an error naming the line; empty lines are skipped."""
    lines = text_lines(path)
    if header is not None:
        first = next(lines, None)
        if first is None:
            raise VocabularyFileError(str(path), "empty file", line=1)
        cells = first[1].split("\t")
        if tuple(cells[: len(header)]) != header:
            raise VocabularyFileError(str(path), f"unexpected header {cells!r}, expected {list(header)!r}", line=1)
    need = min_columns if min_columns is not None else columns
    for number, line in lines:
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) < need:
            reason = f"expected {columns} tab-separated columns, got {len(cells)}"
            raise VocabularyFileError(str(path), reason, line=number)
        yield number, cells


def head_lines(head_bytes: bytes, n: int = 5) -> list[str]:
    """The first ``n`` complete lines of a head, decoded leniently (for sniffing)."""
    text = head_bytes.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if len(lines) > 1 and not head_bytes.endswith(b"\n"):
        lines = lines[:-1]  # the last line may be cut
    return [ln.rstrip("\r") for ln in lines if ln.strip()][:n]
