"""The N-Quads cache: each trial graph's N-Quads as ingest wrote them, compressed, beside
the store, so that an N-Quads export copies bytes instead of reading every quad back.

Reading a quad back from the on-disk store costs a few RocksDB lookups (one per IRI or
literal longer than 16 bytes), which bounds an export at about 100,000 quads/s per core
(benchmarks/RESULTS-ingest.md). Ingest has each graph's N-Quads in hand anyway, so it
keeps them, zstd-compressed (about 11x), in ``<store>/nquads-cache.sqlite``, one row per
graph with its *stamp*: the graph's source checksum, tool version and ingest time, as its
provenance states them in the store.

The store stays the authority. Export reads every graph's stamp from the store and takes
a cached row only when its stamp is the same; any other graph (no row, a different
stamp, a write cut short between the store and the cache) is read from the store. Rows
are written after their graphs are stored, so a crash leaves at worst a row that is
stale or missing, which export does not use. trialkg writes trial graphs only through
ingest, which keeps the rows; a program that changes a trial graph in the store by
other means, keeping its provenance, would not be seen: ``trialkg export --no-cache``
reads the store only.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pyoxigraph as ox
import zstandard

from kg import terms as T
from kg.errors import StoreError

log = logging.getLogger(__name__)

FILE_NAME = "nquads-cache.sqlite"
_LEVEL = 3  # zstd level: 11.6x on trial graphs, about 1 GB/s to pack, 2.4 GB/s to unpack

_SCHEMA = """
CREATE TABLE IF NOT EXISTS graphs (
    graph TEXT PRIMARY KEY,
    stamp TEXT NOT NULL,
    quads INTEGER NOT NULL,
    data BLOB NOT NULL
) WITHOUT ROWID
"""


def stamp(checksum: str, tool_version: str, ingest_time: str | None) -> str:
    """What identifies one write of a trial graph: the values of its ``tkg:checksum``,
    ``tkg:toolVersion`` and ``prov:generatedAtTime``."""
    return f"{checksum}|{tool_version}|{ingest_time or ''}"


@dataclass(slots=True, frozen=True)
class Row:
    graph: str
    stamp: str
    quads: int
    data: bytes  # zstd-compressed N-Quads


class Packer:
    """Compresses graphs for the cache (one per process: a compressor is not thread-safe)."""

    def __init__(self) -> None:
        self._c = zstandard.ZstdCompressor(level=_LEVEL)

    def pack(self, nquads: bytes) -> bytes:
        return self._c.compress(nquads)


class Unpacker:
    def __init__(self) -> None:
        self._d = zstandard.ZstdDecompressor()

    def unpack(self, data: bytes) -> bytes:
        return self._d.decompress(data)


class NQuadsCache:
    """The cache file of one store directory."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._unpacker = Unpacker()
        self._failed = False

    @classmethod
    def for_writing(cls, store_dir: Path) -> NQuadsCache:
        path = store_dir / FILE_NAME
        try:
            # written by ingest's loader thread and its main thread, never both at once
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the N-Quads cache {path}: {exc}") from exc
        return cls(conn, path)

    @classmethod
    def for_reading(cls, store_dir: Path) -> NQuadsCache | None:
        """The cache, or None when the store has none (or it cannot be read)."""
        path = store_dir / FILE_NAME
        if not path.is_file():
            return None
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            conn.execute("SELECT 1 FROM graphs LIMIT 1").fetchall()
        except sqlite3.Error:
            return None
        return cls(conn, path)

    def put(self, rows: Iterable[Row]) -> None:
        """Add or replace rows, in one transaction. The cache only saves time: when it
        cannot be written (a full disk, a locked file), a warning says so and the cache
        is not written again in this run; export reads those graphs from the store."""
        if self._failed:
            return
        try:
            self._insert(rows)
        except sqlite3.Error as exc:
            self._failed = True
            log.warning(
                "cannot write the N-Quads cache %s (%s): export will read these graphs from the store", self.path, exc
            )

    def _insert(self, rows: Iterable[Row]) -> None:
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT OR REPLACE INTO graphs (graph, stamp, quads, data) VALUES (?, ?, ?, ?)",
                ((r.graph, r.stamp, r.quads, r.data) for r in rows),
            )

    def get(self, graph: str) -> Row | None:
        try:
            got = self._conn.execute("SELECT stamp, quads, data FROM graphs WHERE graph = ?", (graph,)).fetchone()
        except sqlite3.Error:
            return None
        return None if got is None else Row(graph, got[0], got[1], got[2])

    def unpack(self, row: Row) -> bytes:
        return self._unpacker.unpack(row.data)

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM graphs").fetchone()[0])

    def close(self) -> None:
        self._conn.close()


def store_stamps(store: ox.Store, graphs: list[str]) -> dict[str, str]:
    """The stamp of each of ``graphs`` as the store states it (graphs lacking a checksum,
    an interrupted write, have none). Few graphs are looked up one by one; many are read
    with one scan of each of the three properties."""
    values: dict[ox.NamedNode, dict[str, str]] = {T.checksum: {}, T.toolVersion: {}, T.PROV_GENERATED_AT_TIME: {}}
    if len(graphs) < 1000:
        for g in graphs:
            node = ox.NamedNode(g)
            for p, out in values.items():
                for q in store.quads_for_pattern(node, p, None, node):
                    out[g] = cast(ox.Literal, q.object).value
    else:
        for p, out in values.items():
            for q in store.quads_for_pattern(None, p, None, None):
                if isinstance(q.graph_name, ox.NamedNode) and q.subject == q.graph_name:
                    out[q.graph_name.value] = cast(ox.Literal, q.object).value
    checksums, versions, times = values.values()
    return {g: stamp(checksums[g], versions.get(g, ""), times.get(g)) for g in graphs if g in checksums}


def cached_rows(cache: NQuadsCache, store: ox.Store, graphs: list[str]) -> Iterator[tuple[str, Row | None]]:
    """Each graph with its cached row when the row is current, else None."""
    stamps = store_stamps(store, graphs)
    for g in graphs:
        row = cache.get(g)
        yield g, (row if row is not None and stamps.get(g) == row.stamp else None)
