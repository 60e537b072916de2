"""Streaming export of the store in Turtle, N-Triples, N-Quads or TriG.

Quads are read from the store graph by graph and written as they come, so the
whole graph never sits in Python memory. Triple formats (Turtle, N-Triples)
merge the trial graphs; quad formats keep one named graph per trial and source.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from kg import terms as T
from kg.errors import TrialKGError
from kg.store import TrialStore


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


def export(
    store: TrialStore,
    out: BinaryIO | Path,
    fmt: ExportFormat,
    *,
    nct_ids: list[str] | None = None,
    vocab: bool = False,
) -> int:
    """Write the selected graphs to ``out``; returns the number of statements written."""
    graphs = graphs_to_export(store, nct_ids, vocab=vocab)
    count = 0

    def counted() -> Iterator[ox.Quad | ox.Triple]:
        nonlocal count
        for q in iter_quads(store, graphs):
            count += 1
            yield q if fmt.has_graphs else ox.Triple(q.subject, q.predicate, q.object)

    prefixes = T.PREFIXES if fmt in (ExportFormat.turtle, ExportFormat.trig) else None
    if isinstance(out, Path):
        with _atomic(out) as target:
            ox.serialize(counted(), target, fmt.rdf_format, prefixes=prefixes)
    else:
        ox.serialize(counted(), out, fmt.rdf_format, prefixes=prefixes)
    return count


def export_chunks(
    store: TrialStore,
    directory: Path,
    *,
    chunk_quads: int,
    nct_ids: list[str] | None = None,
    vocab: bool = False,
) -> list[tuple[Path, int]]:
    """Write N-Quads files of about ``chunk_quads`` quads each (a trial graph is never
    split across files) into ``directory``: the input of native bulk loaders."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {directory}: {exc.strerror or exc}") from exc
    graphs = graphs_to_export(store, nct_ids, vocab=vocab)
    written: list[tuple[Path, int]] = []
    part: list[ox.Quad] = []

    def spill() -> None:
        if not part:
            return
        path = directory / f"trialkg-{len(written) + 1:05d}.nq"
        with _atomic(path) as target:
            ox.serialize(part, target, ox.RdfFormat.N_QUADS)
        written.append((path, len(part)))
        part.clear()

    for g in graphs:
        part.extend(store.graph_quads(g))
        if len(part) >= chunk_quads:
            spill()
    spill()
    return written
