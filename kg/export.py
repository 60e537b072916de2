"""Streaming export of the store in Turtle, N-Triples, N-Quads or TriG.

Quads are read from the store graph by graph and written as they come, so the
whole graph never sits in Python memory. Triple formats (Turtle, N-Triples)
merge the trial graphs; quad formats keep one named graph per trial and source.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from kg import terms as T
from kg.errors import TrialKGError
from kg.nquads_cache import NQuadsCache, cached_rows
from kg.store import TrialStore
from kg.workers import die_with_parent


class ExportError(TrialKGError):
    """An export file could not be written (nothing is left at its path)."""


@contextmanager
def _atomic(path: Path) -> Iterator[str]:
    """A temporary path beside ``path`` that becomes ``path`` only when the block
    succeeds, so a failed or interrupted export never leaves a half-written file
    (nor replaces a good one)."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        yield str(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ExportFormat(StrEnum):
    turtle = "turtle"
    ntriples = "ntriples"
    nquads = "nquads"
    trig = "trig"

    @property
    def rdf_format(self) -> ox.RdfFormat:
        return {
            "turtle": ox.RdfFormat.TURTLE,
            "ntriples": ox.RdfFormat.N_TRIPLES,
            "nquads": ox.RdfFormat.N_QUADS,
            "trig": ox.RdfFormat.TRIG,
        }[self.value]

    @property
    def has_graphs(self) -> bool:
        return self in (ExportFormat.nquads, ExportFormat.trig)

    @property
    def suffix(self) -> str:
        return {"turtle": ".ttl", "ntriples": ".nt", "nquads": ".nq", "trig": ".trig"}[self.value]


def graphs_to_export(store: TrialStore, nct_ids: list[str] | None = None, *, vocab: bool = False) -> list[str]:
    graphs = [g for _, g in store.trial_graphs(nct_ids)]
    if vocab:
        graphs += [g for g in store.named_graphs() if g.startswith(T.VOCAB_GRAPH_PREFIX)]
    return graphs


def iter_quads(store: TrialStore, graphs: list[str]) -> Iterator[ox.Quad]:
    for g in graphs:
        yield from store.graph_quads(g)


#: Below this many graphs an export runs in one process: starting workers costs more.
PARALLEL_MIN_GRAPHS = 2000
_COPY_BUFFER = 1 << 20


def export(
    store: TrialStore,
    out: BinaryIO | Path,
    fmt: ExportFormat,
    *,
    nct_ids: list[str] | None = None,
    vocab: bool = False,
    workers: int = 1,
    use_cache: bool = True,
) -> int:
    """Write the selected graphs to ``out``; returns the number of statements written.

    N-Quads from an on-disk store with an N-Quads cache (:mod:`kg.nquads_cache`) are
    copied from the cache, graph by graph, wherever the cached graph is the one in the
    store, and read from the store elsewhere, in this process (``use_cache=False``
    reads only the store).

    With ``workers`` > 1, an on-disk store and at least :data:`PARALLEL_MIN_GRAPHS`
    graphs, the graphs are split into consecutive runs: this process writes the first
    straight to ``out`` while worker processes, each with its own read-only handle on
    the store, write the others to part files beside it, which are then appended in
    order. Reading the store is what export waits on, and it scales with the cores.
    N-Triples and N-Quads come out byte for byte as from one process; Turtle and TriG
    hold the same statements, each part starting a new subject block.
    """
    graphs = graphs_to_export(store, nct_ids, vocab=vocab)
    cache = _cache(store, fmt, use_cache)
    if cache is not None:
        try:
            if isinstance(out, Path):
                with _atomic(out) as target, open(target, "wb") as fh:
                    return _write_cached(store, cache, graphs, fh)
            return _write_cached(store, cache, graphs, out)
        finally:
            cache.close()
    runs = 1
    if workers > 1 and store.path is not None and len(graphs) >= PARALLEL_MIN_GRAPHS:
        runs = workers
    if isinstance(out, Path):
        with _atomic(out) as target:
            if runs == 1:
                return _write(store, graphs, target, fmt)
            with open(target, "wb") as fh:
                return _write_parallel(store, graphs, fh, fmt, runs=runs, part_dir=out.parent)
    if runs == 1:
        return _write(store, graphs, out, fmt)
    return _write_parallel(store, graphs, out, fmt, runs=runs, part_dir=None)


def _write(store: TrialStore, graphs: list[str], target: BinaryIO | str, fmt: ExportFormat) -> int:
    count = 0

    def counted() -> Iterator[ox.Quad | ox.Triple]:
        nonlocal count
        for q in iter_quads(store, graphs):
            count += 1
            yield q if fmt.has_graphs else ox.Triple(q.subject, q.predicate, q.object)

    ox.serialize(counted(), target, fmt.rdf_format, prefixes=_prefixes(fmt))  # type: ignore[arg-type]
    return count


def _cache(store: TrialStore, fmt: ExportFormat, use_cache: bool) -> NQuadsCache | None:
    if fmt is not ExportFormat.nquads or not use_cache or store.path is None:
        return None
    return NQuadsCache.for_reading(store.path)


def _graph_nquads(store: TrialStore, graph: str) -> tuple[bytes, int]:
    """One graph read from the store, as N-Quads bytes and its number of quads."""
    buf = io.BytesIO()
    n = _stream_graph(store, graph, buf)
    return buf.getvalue(), n


def _write_cached(store: TrialStore, cache: NQuadsCache, graphs: list[str], out: BinaryIO) -> int:
    count = 0
    for g, row in cached_rows(cache, store.store, graphs):
        if row is not None:
            out.write(cache.unpack(row))
            count += row.quads
        else:
            count += _stream_graph(store, g, out)
    return count


def _stream_graph(store: TrialStore, graph: str, out: BinaryIO) -> int:
    """One graph read from the store straight into ``out`` (a vocabulary graph can hold
    a million quads: they are never all in memory)."""
    return _write(store, [graph], out, ExportFormat.nquads)


def _prefixes(fmt: ExportFormat) -> dict[str, str] | None:
    return T.PREFIXES if fmt in (ExportFormat.turtle, ExportFormat.trig) else None


def _header(fmt: ExportFormat) -> bytes:
    """The prefix declarations that open a Turtle or TriG document (empty for the line
    formats): each part after the first would repeat them, so they are dropped there."""
    prefixes = _prefixes(fmt)
    if prefixes is None:
        return b""
    probe = ox.NamedNode("urn:x-trialkg:probe")
    statements: list[ox.Quad] | list[ox.Triple] = (
        [ox.Quad(probe, probe, probe, probe)] if fmt.has_graphs else [ox.Triple(probe, probe, probe)]
    )
    sample = ox.serialize(statements, None, fmt.rdf_format, prefixes=prefixes) or b""
    lines = sample.splitlines(keepends=True)
    return b"".join(line for line in lines[: len(prefixes)] if line.startswith(b"@prefix "))


def _export_part(store_path: str, graphs: list[str], fmt: str, target: str) -> int:
    """A worker's share: its own read-only handle on the store, its run of graphs, one part file."""
    return _write(TrialStore(store_path, read_only=True), graphs, target, ExportFormat(fmt))


def _write_parallel(
    store: TrialStore, graphs: list[str], out: BinaryIO, fmt: ExportFormat, *, runs: int, part_dir: Path | None
) -> int:
    size = -(-len(graphs) // runs)
    shares = [graphs[i : i + size] for i in range(0, len(graphs), size)]
    header = _header(fmt)
    try:
        with (
            tempfile.TemporaryDirectory(prefix=".trialkg-export-", dir=part_dir) as tmp,
            ProcessPoolExecutor(
                len(shares) - 1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            ) as pool,
        ):
            parts = [Path(tmp) / f"part-{i:03d}" for i in range(1, len(shares))]
            futures = [
                pool.submit(_export_part, str(store.path), share, fmt.value, str(part))
                for share, part in zip(shares[1:], parts, strict=True)
            ]
            count = _write(store, shares[0], out, fmt)
            out.flush()
            for future, part in zip(futures, parts, strict=True):
                count += future.result()
                with part.open("rb") as src:
                    if header and src.read(len(header)) != header:
                        src.seek(0)
                    shutil.copyfileobj(src, out, _COPY_BUFFER)
                part.unlink()
            return count
    except BrokenProcessPool as exc:
        raise ExportError(f"an export worker stopped: {exc}") from exc


def export_chunks(
    store: TrialStore,
    directory: Path,
    *,
    chunk_quads: int,
    nct_ids: list[str] | None = None,
    vocab: bool = False,
    use_cache: bool = True,
) -> list[tuple[Path, int]]:
    """Write N-Quads files of about ``chunk_quads`` quads each (a trial graph is never
    split across files) into ``directory``: the input of native bulk loaders. Graphs
    come from the N-Quads cache where it holds them, as in :func:`export`."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {directory}: {exc.strerror or exc}") from exc
    graphs = graphs_to_export(store, nct_ids, vocab=vocab)
    written: list[tuple[Path, int]] = []
    part: list[bytes] = []
    in_part = 0

    def spill() -> None:
        nonlocal in_part
        if not part:
            return
        path = directory / f"trialkg-{len(written) + 1:05d}.nq"
        with _atomic(path) as target, open(target, "wb") as fh:
            fh.writelines(part)
        written.append((path, in_part))
        part.clear()
        in_part = 0

    cache = _cache(store, ExportFormat.nquads, use_cache)
    rows = cached_rows(cache, store.store, graphs) if cache is not None else ((g, None) for g in graphs)
    try:
        for g, row in rows:
            if row is not None and cache is not None:
                data, n = cache.unpack(row), row.quads
            else:
                data, n = _graph_nquads(store, g)
            part.append(data)
            in_part += n
            if in_part >= chunk_quads:
                spill()
        spill()
    finally:
        if cache is not None:
            cache.close()
    return written
