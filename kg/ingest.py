"""The ingest pipeline: source files -> Trial -> links -> quads -> store.

Parsing, linking and mapping run in worker processes (one per core by default);
each worker hands back every trial's graph as N-Quads bytes, and the main process,
the only one that opens the store, writes them. A trial graph whose source
checksum and tool version are already in the store is left alone, so running
ingest twice changes nothing. A trial graph from the same source file with a new
checksum replaces the old one atomically (see :mod:`kg.store`). Bad files and
records are reported (file, place, reason) and the rest of the batch goes on.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

import pyoxigraph as ox

from kg import terms as T
from kg.errors import ParseError, UnknownFormat
from kg.linking import Linker
from kg.mapping import MappingOptions, graph_for, trial_quads
from kg.model import Trial
from kg.nquads_cache import NQuadsCache, Packer, Row, Unpacker, stamp
from kg.reader import SourceFile, iter_files, module_for
from kg.sources._common import internal_error
from kg.store import TrialStore
from kg.workers import die_with_parent

log = logging.getLogger(__name__)


class TrialLinker(Protocol):
    def link(self, trial: Trial) -> None: ...


#: Directory, inside an on-disk store's directory, of the linker's index cache.
LINKER_CACHE_DIR = "linker-cache"


def store_linker(store: TrialStore) -> Linker:
    """The linker over ``store``'s vocabulary graphs. For an on-disk store its index is
    cached under the store's directory (:data:`LINKER_CACHE_DIR`), keyed by the
    checksums of the vocabulary graphs, so ingest builds it only after a vocabulary
    import changed them (see :meth:`kg.linking.Linker.from_store`)."""
    cache_dir = store.path / LINKER_CACHE_DIR if store.path is not None else None
    return Linker.from_store(store.store, cache_dir=cache_dir)


def _links(linker: TrialLinker | None) -> str:
    """Names the vocabularies ``linker`` links to (:attr:`MappingOptions.links`)."""
    return "none" if linker is None else getattr(linker, "fingerprint", None) or type(linker).__name__


#: Called with each trial, its graph IRI and quads before it is stored; returns
#: a reason to keep the trial apart, or None to store it.
Gate = Callable[[Trial, ox.NamedNode, list[ox.Quad]], str | None]


@dataclass
class IngestReport:
    trials_added: int = 0
    trials_replaced: int = 0
    trials_unchanged: int = 0
    quads_written: int = 0
    errors: list[ParseError] = field(default_factory=list)
    kept_apart: list[tuple[str, str, str]] = field(default_factory=list)  # (nct, file, reason)
    per_format: Counter[str] = field(default_factory=Counter)
    notes: int = 0  # values a parser could not map (kept as tkg:parseNote)

    @property
    def trials_seen(self) -> int:
        return self.trials_added + self.trials_replaced + self.trials_unchanged + len(self.kept_apart)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


def ingest_time() -> str:
    """Now, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = (
        datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC)
        if epoch
        else datetime.datetime.now(tz=datetime.UTC).replace(microsecond=0)
    )
    return now.isoformat().replace("+00:00", "Z")


# -- the worker side ------------------------------------------------------------


@dataclass(slots=True)
class MappedTrial:
    """One trial graph, ready to store."""

    trial: Trial
    graph: str
    checksum: str  # the tkg:checksum literal's value
    body: bytes | None  # N-Quads of the graph without its checksum marker (None when packed)
    marker: bytes  # N-Quads of the checksum marker quad
    quads: int
    # for the N-Quads cache: marker and body compressed (kg.nquads_cache), sent instead of
    # the body, so a file's results cross from the worker at a tenth of the size
    packed: bytes | None


@dataclass(slots=True)
class _Job:
    linker: TrialLinker | None
    options: MappingOptions
    strict: bool
    pack: bool  # compress each graph for the N-Quads cache


_INLINE_FILES = 16  # files mapped in the main process before workers start
_JOB: _Job | None = None  # set in each worker (inherited by fork, or by the initializer)
_PACKER: Packer | None = None  # made on first use in each process


def _init_worker(job: _Job, parent: int | None = None) -> None:
    """Set the job; in a worker (``parent``: the pid of the command) also end with it."""
    global _JOB  # noqa: PLW0603 - per-process worker state
    if parent is not None:
        die_with_parent(parent)
    _JOB = job


def _map_file(sf: SourceFile) -> list[MappedTrial | ParseError]:
    job = _JOB
    assert job is not None
    try:
        module = module_for(sf)
    except UnknownFormat as exc:
        return [exc]
    out: list[MappedTrial | ParseError] = []
    try:
        for item in module.records(sf.data, sf.name, strict=job.strict):
            if isinstance(item, ParseError):
                out.append(item)
                continue
            try:
                out.append(_map_trial(item, job))
            except Exception as exc:  # a bug must cost one trial, not the batch
                out.append(internal_error(sf.name, exc, nct_id=item.nct_id))
    except Exception as exc:  # the parser itself failed: the file's remaining records are lost
        out.append(internal_error(sf.name, exc))
    return out


def _map_trial(trial: Trial, job: _Job) -> MappedTrial:
    if job.linker is not None:
        job.linker.link(trial)
    quads = trial_quads(trial, job.options)
    markers = [q for q in quads if q.predicate == T.checksum]
    body = [q for q in quads if q.predicate != T.checksum]
    body_nquads = ox.serialize(body, format=ox.RdfFormat.N_QUADS)
    marker_nquads = ox.serialize(markers, format=ox.RdfFormat.N_QUADS)
    assert body_nquads is not None and marker_nquads is not None  # no output given: serialize returns the bytes
    raw_body: bytes | None = body_nquads
    packed = None
    if job.pack:
        global _PACKER  # noqa: PLW0603 - per-process compressor
        if _PACKER is None:
            _PACKER = Packer()
        packed, raw_body = _PACKER.pack(marker_nquads + body_nquads), None
    return MappedTrial(
        trial=trial,
        graph=graph_for(trial).value,
        checksum=cast(ox.Literal, markers[0].object).value,
        body=raw_body,
        marker=marker_nquads,
        quads=len(quads),
        packed=packed,
    )


def _mapped(files: Iterable[SourceFile | ParseError], job: _Job, workers: int) -> Iterator[MappedTrial | ParseError]:
    """Map every file; the first ``_INLINE_FILES`` files in this process (a small
    ingest never pays for starting workers), the rest in ``workers`` processes."""
    sources = iter(files)
    _init_worker(job)
    inline = 0
    for sf in sources:
        if isinstance(sf, ParseError):
            yield sf
            continue
        yield from _map_file(sf)
        inline += 1
        if workers > 1 and inline >= _INLINE_FILES:
            break
    else:
        return
    # "spawn", not "fork": the parent holds the store's threads (and, under test
    # runners, others), and forking a threaded process can deadlock the child.
    # At most ``window`` files are in flight (one running and one queued per
    # worker), so memory stays bounded whatever the corpus size: a file can be an
    # API page or a download of 1,000 studies, whose mapped graphs are about 80 MB,
    # and every file in flight may hold its results. Results come back in input order.
    window = workers * 2
    pending: deque[Future[list[MappedTrial | ParseError]]] = deque()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(job, os.getpid())) as pool:
        for sf in sources:
            if isinstance(sf, ParseError):
                yield sf
                continue
            pending.append(pool.submit(_map_file, sf))
            while len(pending) >= window:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


# -- the store side -------------------------------------------------------------


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def ingest(
    store: TrialStore,
    paths: Iterable[str | Path],
    *,
    linker: TrialLinker | None = None,
    options: MappingOptions | None = None,
    gate: Gate | None = None,
    strict_parse: bool = False,
    workers: int = 1,
    batch_bytes: int = 32 * 1024 * 1024,
    on_trial: Callable[[str], None] | None = None,
    nquads_cache: bool = True,
) -> IngestReport:
    """Ingest ``paths`` into ``store`` (see the module doc). ``nquads_cache``: for an
    on-disk store, also keep each graph written in the N-Quads cache
    (:mod:`kg.nquads_cache`), which N-Quads exports copy from."""
    opts = options or MappingOptions(ingest_time=ingest_time())
    opts = dataclasses.replace(opts, links=_links(linker))
    report = IngestReport()
    cache = NQuadsCache.for_writing(store.path) if nquads_cache and store.path is not None else None
    body: list[bytes] = []
    markers: list[bytes] = []
    rows: list[Row] = []
    unpacker = Unpacker()

    def body_of(item: MappedTrial) -> bytes:
        if item.body is not None:
            return item.body
        assert item.packed is not None  # a mapped trial has one or the other
        return unpacker.unpack(item.packed)[len(item.marker) :]

    pending_graphs: set[str] = set()
    pending_size = 0
    pending_quads = 0
    loader = _Loader(store, cache)

    def flush(*, wait: bool = False) -> None:
        nonlocal pending_size, pending_quads
        if body:
            loader.submit(b"".join(body), b"".join(markers), set(pending_graphs), list(rows))
            report.quads_written += pending_quads
        body.clear()
        markers.clear()
        rows.clear()
        pending_graphs.clear()
        pending_size = pending_quads = 0
        if wait:
            loader.wait()

    job = _Job(linker, opts, strict_parse, pack=cache is not None)
    try:
        for item in _mapped(iter_files(paths), job, workers):
            if isinstance(item, ParseError):
                log.info("skipped: %s", item)  # the report holds it (the CLI lists it once, at the end)
                report.errors.append(item)
                continue
            trial = item.trial
            if on_trial is not None:
                on_trial(trial.nct_id)
            graph = ox.NamedNode(item.graph)
            if item.graph in pending_graphs or item.graph in loader.graphs:
                flush(wait=True)  # the same graph twice in one run: the later one wins
            old_checksum, old_version, old_settings = store.graph_checksum(graph)
            if (old_checksum, old_version, old_settings) == (item.checksum, opts.tool_version, opts.settings):
                report.trials_unchanged += 1
                report.per_format[trial.source.format.value] += 1
                continue
            item_body = body_of(item)  # unpacked once, for whichever write follows
            if gate is not None:
                loader.wait()  # the gate may write copies kept apart: one writer at a time
                quads = list(ox.parse(item_body + item.marker, format=ox.RdfFormat.N_QUADS))
                if (reason := gate(trial, graph, quads)) is not None:
                    report.kept_apart.append((trial.nct_id, trial.source.file, reason))
                    continue
            report.per_format[trial.source.format.value] += 1
            report.notes += len(trial.source.notes)
            # a packed graph is one mapped for the cache (job.pack)
            row = (
                Row(item.graph, stamp(item.checksum, opts.tool_version, opts.ingest_time), item.quads, item.packed)
                if item.packed is not None
                else None
            )
            if old_checksum is None:
                body.append(item_body)
                markers.append(item.marker)
                pending_graphs.add(item.graph)
                pending_size += len(item_body)
                pending_quads += item.quads
                if row is not None:
                    rows.append(row)
                report.trials_added += 1
                if pending_size >= batch_bytes:
                    flush()
            else:
                flush(wait=True)
                store.replace_graph_nquads(graph, item_body + item.marker)
                if cache is not None and row is not None:
                    cache.put([row])  # after the store: a crash between leaves a stale row, never used
                report.quads_written += item.quads
                report.trials_replaced += 1
        flush(wait=True)
    finally:
        loader.close()
        if cache is not None:
            cache.close()
    store.flush()
    return report


class _Loader:
    """Writes batches of new graphs with the bulk loader in a background thread, so that
    this process goes on receiving, checking and batching the next trials meanwhile
    (pyoxigraph releases the GIL while it loads). At most one batch is in flight, and
    :meth:`wait` returns when it is stored, raising what the load raised. A batch's
    checksum markers are written after its graphs, as before: a load cut short leaves
    graphs without markers, which the next ingest replaces."""

    def __init__(self, store: TrialStore, cache: NQuadsCache | None) -> None:
        self.store = store
        self.cache = cache
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="trialkg-load")
        self.future: Future[None] | None = None
        self.graphs: set[str] = set()  # the graphs of the batch in flight
        self.rows: list[Row] = []  # their N-Quads cache rows

    def submit(self, body: bytes, markers: bytes, graphs: set[str], rows: list[Row]) -> None:
        self.wait()
        self.graphs = graphs
        self.rows = rows
        self.future = self.pool.submit(self.store.add_new_graphs_nquads, body, markers)

    def wait(self) -> None:
        """Wait for the batch in flight; once it is stored, write its N-Quads cache rows
        (in the calling thread, which also writes the rows of replaced graphs)."""
        future, self.future = self.future, None
        rows, self.rows = self.rows, []
        self.graphs = set()
        if future is not None:
            future.result()
            if self.cache is not None and rows:
                self.cache.put(rows)  # after the store: a crash between leaves rows missing, never wrong

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.pool.shutdown()
