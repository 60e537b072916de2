"""The persistent embedded store: a pyoxigraph Store in a directory.

New trial graphs are written with Oxigraph's bulk writer, except for each graph's
``tkg:checksum`` quad, which is added afterwards in one transaction: a graph with
no checksum is therefore one whose write was interrupted, and the next ingest
replaces it. A trial graph that replaces an older version of itself is dropped and
re-inserted in one SPARQL Update request, which Oxigraph applies in a single
transaction. A crash never leaves a half-written graph that looks complete:
:meth:`TrialStore.trial_graphs`, which ``stats``, ``show``, ``export`` and ``load``
read, lists only graphs with their checksum, ``stats`` counts the others, and
``validate`` reports them. (SPARQL over the whole store, ``sparql`` and the saved
queries, still sees an incomplete graph's statements until that ingest is re-run.)
"""

from __future__ import annotations

import fcntl
import os
import sys
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from kg import terms as T
from kg.errors import StoreError, TrialsNotInStore

DEFAULT_STORE = Path("trialkg-store")
STORE_ENV = "TRIALKG_STORE"


def default_store_path() -> Path:
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


LOCK_FILE = "trialkg.lock"

#: Store locks this process holds: resolved store path -> [lock file descriptor, users].
#: A process (and the workers it forks) takes a store's lock once, however many
#: TrialStore objects it opens on it.
_HELD: dict[Path, list[int]] = {}


def _lock(path: Path, *, write: bool) -> Path | None:
    """Take the store's lock: exclusive to write, shared to read.

    Oxigraph opens a store read-only without looking at its writers, and reading
    while another process writes is undefined there (a reader was seen growing to
    24 GB). So a reader refuses a store that a trialkg command is writing, and a
    writer waits until the commands reading or writing it have finished. Returns the
    key to release, or None when no lock file can be had (a read-only directory)."""
    key = path.resolve()
    if key in _HELD:
        _HELD[key][1] += 1
        return key
    if not write and not (key / "CURRENT").exists():
        return None  # not a store (yet): Oxigraph says so when it opens it; leave no lock file there
    try:
        fd = os.open(key / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if write:
            raise
        return None
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if write else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        if not write:
            os.close(fd)
            raise StoreError(
                f"the store at {path} is being written by another trialkg command (ingest or vocab import): "
                "run this again when it has finished"
            ) from None
        print(f"waiting for the other trialkg commands using the store at {path} to finish ...", file=sys.stderr)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:  # a file system without locks: go on as Oxigraph alone would
        os.close(fd)
        return None
    _HELD[key] = [fd, 1]
    return key


def _unlock(key: Path) -> None:
    held = _HELD.get(key)
    if held is None:
        return
    held[1] -= 1
    if held[1] == 0:
        del _HELD[key]
        os.close(held[0])


class TrialStore:
    """A trialkg store. ``path=None`` gives an in-memory store (tests, one-off runs).

    An on-disk store is locked while the object lives (see :func:`_lock`)."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        try:
            if self.path is None:
                self.store = ox.Store()
            elif read_only:
                if not self.path.is_dir():
                    what = "no store" if not self.path.exists() else "not a store (a file)"
                    raise StoreError(f"{what} at {self.path}: run `trialkg ingest` first or pass --store")
                self._hold(_lock(self.path, write=False))
                self.store = ox.Store.read_only(str(self.path))
            else:
                if self.path.exists() and not self.path.is_dir():
                    raise StoreError(f"{self.path} is a file, not a store directory: pass a new or empty directory")
                if self.path.is_dir() and not (self.path / "CURRENT").exists() and any(self.path.iterdir()):
                    raise StoreError(
                        f"{self.path} holds other files and is not a trialkg store: pass a new or empty directory"
                    )
                self.path.mkdir(parents=True, exist_ok=True)
                self._hold(_lock(self.path, write=True))
                self.store = ox.Store(str(self.path))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc

    def _hold(self, key: Path | None) -> None:
        if key is not None:
            weakref.finalize(self, _unlock, key)

    # -- trial graphs -------------------------------------------------------

    def graph_checksum(self, graph: ox.NamedNode) -> tuple[str | None, str | None, str | None]:
        """``(checksum, tool version, ingest settings)`` recorded in a trial graph;
        ``(None, None, None)`` when there is no such graph, and a checksum ``""`` for an
        interrupted write."""
        if not self.store.contains_named_graph(graph):
            return None, None, None
        checksum: str | None = ""
        version = settings = None
        # all are literals written by kg.mapping
        for q in self.store.quads_for_pattern(graph, T.checksum, None, graph):
            checksum = cast(ox.Literal, q.object).value
        for q in self.store.quads_for_pattern(graph, T.toolVersion, None, graph):
            version = cast(ox.Literal, q.object).value
        for q in self.store.quads_for_pattern(graph, T.ingestSettings, None, graph):
            settings = cast(ox.Literal, q.object).value
        return checksum, version, settings

    def add_new_graphs(self, quads: list[ox.Quad]) -> None:
        """Add the quads of graphs that are not in the store yet (see the module doc)."""
        markers = [q for q in quads if q.predicate == T.checksum]
        body = [q for q in quads if q.predicate != T.checksum]
        self.store.bulk_extend(body)
        self.store.extend(markers)

    def add_new_graphs_nquads(self, body: bytes, markers: bytes) -> None:
        """As :meth:`add_new_graphs`, for graphs already serialised as N-Quads:
        ``body`` without the checksum quads, ``markers`` with only them."""
        self.store.bulk_load(body, format=ox.RdfFormat.N_QUADS)
        self.store.load(markers, format=ox.RdfFormat.N_QUADS)

    def replace_graph_nquads(self, graph: ox.NamedNode, nquads: bytes) -> None:
        self.replace_graph(graph, list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS)))

    def replace_graph(self, graph: ox.NamedNode, quads: list[ox.Quad]) -> None:
        """Replace one named graph's content atomically."""
        data = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)
        assert data is not None  # no output given: serialize returns the bytes
        triples = data.decode("utf-8")
        self.store.update(
            f"DROP SILENT GRAPH <{graph.value}> ;\nINSERT DATA {{ GRAPH <{graph.value}> {{\n{triples}}} }}"
        )

    def drop_graph(self, graph: ox.NamedNode) -> None:
        self.store.update(f"DROP SILENT GRAPH <{graph.value}>")

    def trial_graphs(self, nct_ids: Iterable[str] | None = None, *, incomplete: bool = False) -> list[tuple[str, str]]:
        """``(nct_id, graph IRI)`` of every complete trial graph, sorted, optionally only
        for ``nct_ids``. ``incomplete=True`` also lists the graphs whose write an
        interrupted ingest left without their checksum (see the module doc)."""
        if nct_ids is None:
            found = self._described(self.store.quads_for_pattern(None, T.describesTrial, None, None))
            if incomplete:
                return found
            done = self._checksummed()  # one pass, not a lookup per graph
            return [(nct, g) for nct, g in found if ox.NamedNode(g) in done]
        found = self._described(self._describing(nct_ids))
        return found if incomplete else [(nct, g) for nct, g in found if self._has_checksum(ox.NamedNode(g))]

    def require_trials(self, nct_ids: Iterable[str] | None, *, incomplete: bool = False) -> list[str] | None:
        """``nct_ids`` as NCT IDs (stripped, upper case), each with a trial graph here
        (complete ones only unless ``incomplete``); raises :class:`TrialsNotInStore`
        naming those without. None or no IDs: None (every trial)."""
        if not nct_ids:
            return None
        wanted = [n.strip().upper() for n in nct_ids]
        found = {nct for nct, _ in self.trial_graphs(wanted, incomplete=incomplete)}
        missing = [n for n in wanted if n not in found]
        if missing:
            raise TrialsNotInStore(missing)
        return wanted

    def incomplete_graphs(self) -> list[tuple[str, str]]:
        """``(nct_id, graph IRI)`` of the trial graphs an interrupted ingest left without
        their checksum: the next ingest of the same sources replaces them."""
        done = self._checksummed()
        return [(nct, g) for nct, g in self.trial_graphs(incomplete=True) if ox.NamedNode(g) not in done]

    def _describing(self, nct_ids: Iterable[str]) -> Iterator[ox.Quad]:
        """The ``tkg:describesTrial`` quads of these trials, looked up by trial IRI."""
        for nct in set(nct_ids):
            try:
                trial = T.trial_iri(nct)
            except ValueError:  # not an IRI ("NCT 123"): no trial of ours has it
                continue
            yield from self.store.quads_for_pattern(None, T.describesTrial, trial, None)

    @staticmethod
    def _described(quads: Iterable[ox.Quad]) -> list[tuple[str, str]]:
        """``(nct_id, graph IRI)`` of ``tkg:describesTrial`` quads, sorted. kg.mapping
        states describesTrial only in named graphs, about the graph's own IRI, with the
        trial's IRI as object."""
        out = set()
        for q in quads:
            if not cast(ox.NamedNode, q.graph_name).value.startswith(T.GRAPH_PREFIX):
                continue  # a copy kept apart (kg.validation quarantine), not a trial graph
            nct = cast(ox.NamedNode, q.object).value.rsplit("/", 1)[-1]
            out.add((nct, cast(ox.NamedNode, q.subject).value))
        return sorted(out)

    def _has_checksum(self, graph: ox.NamedNode) -> bool:
        return next(iter(self.store.quads_for_pattern(graph, T.checksum, None, graph)), None) is not None

    def _checksummed(self) -> set[ox.NamedNode | ox.BlankNode | ox.DefaultGraph]:
        return {
            q.graph_name
            for q in self.store.quads_for_pattern(None, T.checksum, None, None)
            if q.subject == q.graph_name
        }

    def graph_quads(self, graph: str | ox.NamedNode) -> Iterator[ox.Quad]:
        g = graph if isinstance(graph, ox.NamedNode) else ox.NamedNode(graph)
        return self.store.quads_for_pattern(None, None, None, g)

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))

    def __len__(self) -> int:
        return len(self.store)

    def flush(self) -> None:
        if self.path is not None:
            self.store.flush()
