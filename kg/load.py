"""Loading the store's named graphs into a remote SPARQL store, and verifying them there.

Three ways to write, all of them replace a graph rather than add to it, so sending a
graph twice leaves one copy:

``gsp``
    SPARQL 1.1 Graph Store HTTP Protocol: one ``PUT <graph-store>?graph=<g>`` of
    N-Triples per graph (Oxigraph ``/store``, Virtuoso ``/sparql-graph-crud-auth``,
    Fuseki ``/ds/data``, GraphDB ``/repositories/<id>/rdf-graphs/service``).
``update``
    SPARQL 1.1 Update: ``DROP SILENT GRAPH <g> ; INSERT DATA { GRAPH <g> { ... } }``
    for ``batch`` graphs per request, for stores without the Graph Store Protocol.
``quads``
    ``DROP SILENT GRAPH`` for ``batch`` graphs (one update request), then one
    ``POST`` of their N-Quads to the graph store's dataset URL (servers that accept
    quads there, such as Oxigraph's ``/store``). With ``bulk``, an Oxigraph server
    writes each POST with its bulk loader (``?no_transaction``) instead of one
    transaction per request: several times faster, not atomic (see Resuming).

Reading. A trial graph is taken from the N-Quads cache that ingest keeps beside an
on-disk store (:mod:`kg.nquads_cache`) wherever the cached graph is the one the store
holds, which spares reading it back quad by quad; any other graph, and every vocabulary
graph, is read from the store. Both give the same statements.

Resuming. After the server confirms a request, the graphs it carried are appended to
a journal in the store directory (``<store>/load-journal/``), one line per graph with
the SHA-256 of the N-Triples that were sent (of their lines in sorted order, so that it
does not depend on where the graph was read). A re-run skips a graph only when the
journal has the same checksum *and* the server still holds that graph with the
expected number of triples (asked with one SPARQL query per few hundred graphs);
anything else is sent again. A lost journal costs a resend, a server that lost data
is noticed, and because every write replaces its graphs nothing is ever duplicated.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TextIO

import pyoxigraph as ox

from kg import terms as T
from kg.errors import LoadError, TrialsNotInStore
from kg.export import graphs_to_export
from kg.model import NCT_ID
from kg.nquads_cache import NQuadsCache, Row, Unpacker, cached_rows
from kg.remote import Credentials, SparqlHttp, safe_url, split_userinfo
from kg.store import TrialStore

log = logging.getLogger(__name__)


class LoadMode(StrEnum):
    gsp = "gsp"
    update = "update"
    quads = "quads"


#: Graphs per request when ``batch`` is not given (gsp always sends one graph per PUT).
DEFAULT_BATCH = {LoadMode.gsp: 1, LoadMode.update: 25, LoadMode.quads: 100}

#: A request body larger than this is split (update and quads modes).
DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024

JOURNAL_DIR = "load-journal"

#: ``progress(graphs done, graphs in all)``: called after each confirmed request.
Progress = Callable[[int, int], None]


@dataclass
class LoadReport:
    graphs_total: int = 0
    graphs_sent: int = 0
    graphs_skipped: int = 0  # in the journal with the same checksum and present on the server
    graphs_resent: int = 0  # in the journal with the same checksum but missing or short on the server
    triples_sent: int = 0
    graphs_from_cache: int = 0  # read from the N-Quads cache (the others from the store)
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    journal: Path | None = None

    @property
    def triples_per_second(self) -> float:
        return self.triples_sent / self.seconds if self.seconds > 0 else 0.0


@dataclass
class GraphDifference:
    graph: str
    kind: str  # "missing" (in the store only), "extra" (at the endpoint only), "count" (triple counts differ)
    store_triples: int | None
    endpoint_triples: int | None

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"missing  {self.graph}  ({self.store_triples} triples in the store, absent at the endpoint)"
        if self.kind == "extra":
            return f"extra    {self.graph}  ({self.endpoint_triples} triples at the endpoint, absent from the store)"
        return (
            f"count    {self.graph}  ({self.store_triples} triples in the store, "
            f"{self.endpoint_triples} at the endpoint)"
        )


@dataclass
class VerifyReport:
    graphs_in_store: int = 0
    graphs_at_endpoint: int = 0
    triples_in_store: int = 0
    triples_at_endpoint: int = 0
    differences: list[GraphDifference] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.differences


# --------------------------------------------------------------------------
# The journal


class Journal:
    """Graphs confirmed loaded into one endpoint: ``{"graph": IRI, "sha256": hex}`` per line.

    Lines are appended (and flushed) after each confirmed request; a torn last line
    from a crash is ignored. ``path=None`` (an in-memory store) keeps nothing.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, str] = {}
        self._fh: TextIO | None = None
        if path is not None and path.exists():
            with path.open("r", encoding="utf-8") as fh:
                for line in fh:
                    try:
                        row = json.loads(line)
                        self.entries[row["graph"]] = row["sha256"]
                    except (ValueError, KeyError, TypeError):
                        log.info("ignoring a damaged line in %s", path)

    @classmethod
    def for_endpoint(cls, store: TrialStore, endpoint: str) -> Journal:
        if store.path is None:
            return cls(None)
        url = safe_url(endpoint)
        readable = re.sub(r"[^A-Za-z0-9.-]+", "_", url.split("://", 1)[-1]).strip("_")[:60]
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
        return cls(store.path / JOURNAL_DIR / f"{readable}-{digest}.jsonl")

    def record(self, items: Iterable[tuple[str, str]]) -> None:
        lines = []
        for graph, checksum in items:
            self.entries[graph] = checksum
            lines.append(json.dumps({"graph": graph, "sha256": checksum}) + "\n")
        if self.path is None or not lines:
            return
        try:
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.path.open("a", encoding="utf-8")
            self._fh.writelines(lines)
            self._fh.flush()
        except OSError as exc:
            # the journal only saves work: without it a re-run sends every graph again
            log.warning("cannot write the load journal %s (%s): a re-run will send every graph again", self.path, exc)
            self.path = None

    def close(self, *, compact: bool = False) -> None:
        try:
            if self._fh is not None:
                os.fsync(self._fh.fileno())
                self._fh.close()
            if compact and self.path is not None and self.path.exists():
                tmp = self.path.with_suffix(".tmp")
                with tmp.open("w", encoding="utf-8") as fh:
                    for graph, checksum in sorted(self.entries.items()):
                        fh.write(json.dumps({"graph": graph, "sha256": checksum}) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                tmp.replace(self.path)
        except OSError as exc:
            log.warning("cannot write the load journal %s (%s)", self.path, exc)
        finally:
            self._fh = None


# --------------------------------------------------------------------------
# Graph bodies


@dataclass
class _Graph:
    iri: str
    ntriples: bytes
    sha256: str
    triples: int


def _graph(iri: str, ntriples: bytes) -> _Graph:
    # the checksum is of the sorted lines, so that a graph read from the store and the
    # same graph read from the N-Quads cache (other order, same statements) agree
    lines = ntriples.splitlines(keepends=True)
    lines.sort()
    return _Graph(iri, ntriples, hashlib.sha256(b"".join(lines)).hexdigest(), len(lines))


def _dump(store: TrialStore, graph: str) -> _Graph:
    body = store.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
    assert body is not None
    return _graph(graph, body)


def _from_cache(row: Row, unpacker: Unpacker) -> _Graph:
    # every cached line ends with its graph name; Oxigraph escapes newlines in literals
    suffix = f" <{row.graph}> .\n".encode()
    return _graph(row.graph, unpacker.unpack(row.data).replace(suffix, b" .\n"))


def _lines_chunks(body: bytes, limit: int) -> Iterator[bytes]:
    """``body`` (N-Triples or N-Quads) cut at line ends into pieces of at most about ``limit`` bytes."""
    start = 0
    while start < len(body):
        if len(body) - start <= limit:
            yield body[start:]
            return
        cut = body.rfind(b"\n", start, start + limit)
        if cut < start:  # one line longer than the limit: send it alone
            cut = body.find(b"\n", start + limit)
            if cut < 0:
                yield body[start:]
                return
        yield body[start : cut + 1]
        start = cut + 1


def _as_nquads(g: _Graph) -> bytes:
    # Oxigraph's N-Triples end every statement with " .\n" and escape newlines
    # inside literals, so each line end is a statement end.
    return g.ntriples.replace(b" .\n", f" <{g.iri}> .\n".encode())


# --------------------------------------------------------------------------
# Writers: one per mode; each replaces the graphs it is given.


class _Writer(ABC):
    def __init__(self, http: SparqlHttp, update: str, graph_store: str, *, max_bytes: int, bulk: bool = False) -> None:
        self.http = http
        self.update_url = update
        self.graph_store = graph_store
        self.max_bytes = max_bytes
        self.bulk = bulk

    def preflight(self) -> None:  # noqa: B027 - only the quads writer needs one
        """Check write access before anything is changed (the quads writer drops before it posts)."""

    @abstractmethod
    def write(self, graphs: list[_Graph]) -> None:
        """Replace each of ``graphs`` at the endpoint."""


class _GspWriter(_Writer):
    def write(self, graphs: list[_Graph]) -> None:
        for g in graphs:
            self.http.request(
                "PUT",
                self.graph_store,
                f"PUT graph <{g.iri}>",
                params={"graph": g.iri},
                content=g.ntriples,
                headers={"Content-Type": "application/n-triples"},
            )


class _UpdateWriter(_Writer):
    def write(self, graphs: list[_Graph]) -> None:
        parts: list[bytes] = []
        size = 0
        for g in graphs:
            if len(g.ntriples) > self.max_bytes:
                self._write_large(g)
                continue
            part = _drop_insert(g.iri, g.ntriples)
            if parts and size + len(part) > self.max_bytes:
                self._send(parts)
                parts, size = [], 0
            parts.append(part)
            size += len(part)
        if parts:
            self._send(parts)

    def _send(self, parts: list[bytes]) -> None:
        self.http.update(self.update_url, b" ;\n".join(parts), f"SPARQL update of {len(parts)} graph(s)")

    def _write_large(self, g: _Graph) -> None:
        # Not one transaction: the journal records the graph only once every piece is in.
        for i, piece in enumerate(_lines_chunks(g.ntriples, self.max_bytes)):
            body = _drop_insert(g.iri, piece) if i == 0 else _insert(g.iri, piece)
            self.http.update(self.update_url, body, f"SPARQL update of graph <{g.iri}> (part {i + 1})")


#: An xsd:decimal literal written without a decimal point, as Oxigraph writes whole numbers.
_WHOLE_DECIMAL = re.compile(rb'"(-?[0-9]+)"\^\^<http://www\.w3\.org/2001/XMLSchema#decimal>')


def _insert(iri: str, ntriples: bytes) -> bytes:
    # Virtuoso's SPARQL Update stores "205"^^xsd:decimal as the integer 205, but keeps
    # "205.0"^^xsd:decimal a decimal (its graph store protocol keeps both): write the
    # decimal point, as the canonical form of xsd:decimal does.
    ntriples = _WHOLE_DECIMAL.sub(rb'"\1.0"^^<http://www.w3.org/2001/XMLSchema#decimal>', ntriples)
    return b"INSERT DATA { GRAPH <" + iri.encode() + b"> {\n" + ntriples + b"} }"


def _drop_insert(iri: str, ntriples: bytes) -> bytes:
    return b"DROP SILENT GRAPH <" + iri.encode() + b"> ;\n" + _insert(iri, ntriples)


class _QuadsWriter(_Writer):
    @property
    def _params(self) -> dict[str, str] | None:
        # Oxigraph: write with the bulk loader instead of one transaction per request
        return {"no_transaction": ""} if self.bulk else None

    def preflight(self) -> None:
        # An empty N-Quads document: writes nothing, but needs write access.
        self.http.request(
            "POST",
            self.graph_store,
            "checking write access",
            params=self._params,
            content=b"",
            headers={"Content-Type": "application/n-quads"},
        )

    def write(self, graphs: list[_Graph]) -> None:
        drops = " ;\n".join(f"DROP SILENT GRAPH <{g.iri}>" for g in graphs)
        self.http.update(self.update_url, drops, f"dropping {len(graphs)} graph(s)")
        body = b"".join(_as_nquads(g) for g in graphs)
        for piece in _lines_chunks(body, self.max_bytes):
            self.http.request(
                "POST",
                self.graph_store,
                f"POST of N-Quads for {len(graphs)} graph(s)",
                params=self._params,
                content=piece,
                headers={"Content-Type": "application/n-quads"},
            )


_WRITERS: dict[LoadMode, type[_Writer]] = {
    LoadMode.gsp: _GspWriter,
    LoadMode.update: _UpdateWriter,
    LoadMode.quads: _QuadsWriter,
}


# --------------------------------------------------------------------------
# load


def select_graphs(store: TrialStore, nct_ids: list[str] | None, *, vocab: bool) -> list[str]:
    """The graphs to load: every trial graph (or those of ``nct_ids``), then the vocabulary
    graphs with ``vocab``. Raises :class:`LoadError` for an NCT ID with no graph."""
    try:
        wanted = store.require_trials(nct_ids)
    except TrialsNotInStore as exc:
        raise LoadError(f"not in the store: {', '.join(sorted(set(exc.missing)))}") from None
    return graphs_to_export(store, wanted, vocab=vocab)


def load(
    ts: TrialStore,
    endpoint: str,
    *,
    graph_store: str | None = None,
    update_endpoint: str | None = None,
    nct_ids: list[str] | None = None,
    vocab: bool = False,
    batch: int | None = None,
    mode: LoadMode | str = LoadMode.gsp,
    workers: int = 2,
    auth: Credentials | None = None,
    progress: Progress | None = None,
    force: bool = False,
    retries: int = 5,
    backoff: float = 0.5,
    timeout: float = 300.0,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    bulk: bool = False,
    use_cache: bool = True,
) -> LoadReport:
    """Push the selected named graphs to a remote store (see the module doc).

    ``endpoint`` is the SPARQL query endpoint (used to check what the server holds);
    ``graph_store`` (gsp and quads modes) and ``update_endpoint`` (update and quads
    modes) default to it. ``force`` ignores the journal and sends every graph.
    ``bulk`` (quads mode, Oxigraph server): the server writes each POST with its bulk
    loader (``?no_transaction``), several times faster but not atomic; a graph cut short
    by a crash is neither journaled nor complete at the server, so a re-run sends it again.
    ``use_cache``: take a graph from the N-Quads cache that ingest keeps beside an on-disk
    store wherever the cached graph is the one in the store (:mod:`kg.nquads_cache`), and
    read the rest from the store; False reads every graph from the store.
    """
    started = time.monotonic()
    try:
        how = LoadMode(mode)
    except ValueError:
        raise LoadError(f"unknown mode {mode!r}: use gsp, update or quads") from None
    if batch is None:
        batch = DEFAULT_BATCH[how]
    elif batch < 1:
        raise LoadError("--batch must be at least 1")
    elif how is LoadMode.gsp and batch != 1:
        raise LoadError("--batch applies to the update and quads modes: gsp sends one graph per PUT request")
    if workers < 1:
        raise LoadError("--workers must be at least 1")
    if bulk and how is not LoadMode.quads:
        raise LoadError("--bulk applies to the quads mode only")

    endpoint, creds = split_userinfo(endpoint)
    urls = {"graph_store": graph_store or endpoint, "update": update_endpoint or endpoint}
    for key, url in urls.items():
        urls[key], more = split_userinfo(url)
        creds = creds or more
    auth = auth or creds

    graphs = select_graphs(ts, nct_ids, vocab=vocab)
    journal = Journal.for_endpoint(ts, endpoint)
    report = LoadReport(graphs_total=len(graphs), journal=journal.path)
    confirmed = {} if force else dict(journal.entries)

    with SparqlHttp(auth, timeout=timeout, retries=retries, backoff=backoff, connections=workers + 1) as http:
        candidates = [g for g in graphs if g in confirmed]
        on_server = http.graph_counts(endpoint, candidates) if candidates else {}
        writer = _WRITERS[how](http, urls["update"], urls["graph_store"], max_bytes=max_request_bytes, bulk=bulk)
        writer.preflight()

        cache = NQuadsCache.for_reading(ts.path) if use_cache and ts.path is not None else None
        # each graph with its current cached row or None, in the order of ``graphs``; read in
        # this thread (the cache's connection stays in it), unpacked by the workers
        rows = cached_rows(cache, ts.store, graphs) if cache is not None else ((g, None) for g in graphs)

        def work(chunk: list[tuple[str, Row | None]]) -> tuple[list[_Graph], int, int, int]:
            to_send: list[_Graph] = []
            skipped = resent = 0
            unpacker = Unpacker()
            for iri, row in chunk:
                g = _from_cache(row, unpacker) if row is not None else _dump(ts, iri)
                if confirmed.get(iri) == g.sha256:
                    if on_server.get(iri) == g.triples:
                        skipped += 1
                        continue
                    resent += 1
                    log.info("graph <%s> is in the journal but not complete at the endpoint: sending it again", iri)
                to_send.append(g)
            if to_send:
                writer.write(to_send)
            return to_send, skipped, resent, sum(row is not None for _, row in chunk)

        done = 0

        def settle(fut: Future[tuple[list[_Graph], int, int, int]]) -> None:
            nonlocal done
            sent, skipped, resent, cached = fut.result()
            report.graphs_from_cache += cached
            journal.record((g.iri, g.sha256) for g in sent)
            report.graphs_sent += len(sent)
            report.triples_sent += sum(g.triples for g in sent)
            report.graphs_skipped += skipped
            report.graphs_resent += resent
            done += len(sent) + skipped
            if progress is not None:
                progress(done, len(graphs))

        error: BaseException | None = None

        def drain(futures: Iterable[Future[tuple[list[_Graph], int, int, int]]]) -> None:
            nonlocal error
            for fut in futures:
                if fut.cancelled():
                    continue
                try:
                    settle(fut)
                except BaseException as exc:
                    error = error or exc

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="trialkg-load") as pool:
            pending: set[Future[tuple[list[_Graph], int, int, int]]] = set()
            try:
                while chunk := list(itertools.islice(rows, batch)):
                    pending.add(pool.submit(work, chunk))
                    while len(pending) >= 2 * workers and error is None:
                        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                        drain(finished)
                    if error is not None:
                        break
            except BaseException as exc:  # e.g. KeyboardInterrupt while waiting
                error = exc
            finally:
                if cache is not None:
                    cache.close()  # the workers only unpack rows read here
            if error is not None:
                for fut in pending:
                    fut.cancel()
            # what the other threads get confirmed is journaled: a re-run need not resend it
            drain(pending)
        report.requests = http.requests
        report.retries = http.retried
    journal.close(compact=error is None)
    report.seconds = time.monotonic() - started
    if error is not None:
        raise error
    return report


# --------------------------------------------------------------------------
# verify


def _store_counts(ts: TrialStore) -> dict[str, int]:
    out: dict[str, int] = {}
    rows = ts.store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert isinstance(rows, ox.QuerySolutions)
    for row in rows:
        g = row["g"]
        if isinstance(g, ox.NamedNode):
            out[g.value] = int(row["n"].value)
    return out


def _in_scope(iri: str, nct_ids: set[str] | None, vocab: bool) -> bool:
    """A trialkg graph that verify compares: a trial graph (of ``nct_ids`` if given)
    or, with ``vocab``, a vocabulary graph."""
    if iri.startswith(T.VOCAB_GRAPH_PREFIX):
        return vocab
    if not iri.startswith(T.GRAPH_PREFIX):
        return False
    nct = iri[len(T.GRAPH_PREFIX) :].split("/", 1)[0]
    if not NCT_ID.match(nct):
        return False
    return nct_ids is None or nct in nct_ids


def verify(
    ts: TrialStore,
    endpoint: str,
    *,
    nct_ids: list[str] | None = None,
    vocab: bool = False,
    auth: Credentials | None = None,
    timeout: float = 300.0,
    retries: int = 3,
    page_size: int | None = None,
) -> VerifyReport:
    """Compare the endpoint's trialkg graphs and their triple counts with the store's.

    Trial graphs (those of ``nct_ids`` if given) and, with ``vocab``, vocabulary graphs
    are compared; other graphs at the endpoint are not trialkg's business.
    """
    endpoint, creds = split_userinfo(endpoint)
    auth = auth or creds
    wanted = {n.strip().upper() for n in nct_ids} if nct_ids else None
    expected_graphs = select_graphs(ts, sorted(wanted) if wanted else None, vocab=vocab)
    store_counts = _store_counts(ts)
    expected = {g: store_counts.get(g, 0) for g in expected_graphs}
    with SparqlHttp(auth, timeout=timeout, retries=retries) as http:
        remote = http.all_graph_counts(endpoint, T.GRAPH_PREFIX, page_size=page_size)
    actual = {g: n for g, n in remote.items() if _in_scope(g, wanted, vocab)}
    report = VerifyReport(
        graphs_in_store=len(expected),
        graphs_at_endpoint=len(actual),
        triples_in_store=sum(expected.values()),
        triples_at_endpoint=sum(actual.values()),
    )
    for g in sorted(expected.keys() | actual.keys()):
        mine, theirs = expected.get(g), actual.get(g)
        if theirs is None:
            report.differences.append(GraphDifference(g, "missing", mine, None))
        elif mine is None:
            report.differences.append(GraphDifference(g, "extra", None, theirs))
        elif mine != theirs:
            report.differences.append(GraphDifference(g, "count", mine, theirs))
    return report
