"""The ingest pipeline: source files -> Trial -> links -> quads -> store.

A trial graph whose source checksum and tool version are already in the store is
left alone, so running ingest twice changes nothing. A trial graph from the same
source file with a new checksum replaces the old one atomically. Bad files and
records are reported (file, place, reason) and the rest of the batch goes on.
"""

from __future__ import annotations

import datetime
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pyoxigraph import NamedNode, Quad

from kg.errors import ParseError
from kg.mapping import MappingOptions, graph_for, trial_quads
from kg.model import Trial
from kg.reader import read_trials
from kg.store import TrialStore

log = logging.getLogger(__name__)


class TrialLinker(Protocol):
    def link(self, trial: Trial) -> None: ...


#: Called with each trial's graph IRI and quads before it is stored; returns
#: a reason to keep the trial apart, or None to store it.
Gate = Callable[[Trial, NamedNode, list[Quad]], str | None]


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


def ingest(
    store: TrialStore,
    paths: Iterable[str | Path],
    *,
    linker: TrialLinker | None = None,
    options: MappingOptions | None = None,
    gate: Gate | None = None,
    strict_parse: bool = False,
    batch_quads: int = 50_000,
    on_trial: Callable[[str], None] | None = None,
) -> IngestReport:
    opts = options or MappingOptions(ingest_time=ingest_time())
    report = IngestReport()
    batch: list[Quad] = []
    batch_graphs: set[str] = set()

    def flush() -> None:
        if batch:
            store.add_new_graphs(batch)
            report.quads_written += len(batch)
            batch.clear()
            batch_graphs.clear()

    for item in read_trials(paths, strict=strict_parse):
        if isinstance(item, ParseError):
            log.warning("%s", item)
            report.errors.append(item)
            continue
        trial = item
        if on_trial is not None:
            on_trial(trial.nct_id)
        graph = graph_for(trial)
        old_checksum, old_version = store.graph_checksum(graph)
        if old_checksum == "sha256:" + trial.source.checksum and old_version == opts.tool_version:
            report.trials_unchanged += 1
            report.per_format[trial.source.format.value] += 1
            continue
        if graph.value in batch_graphs:
            # the same trial twice in one batch from one file name: the later wins
            flush()
            old_checksum = "pending"
        if linker is not None:
            linker.link(trial)
        quads = trial_quads(trial, opts)
        if gate is not None and (reason := gate(trial, graph, quads)) is not None:
            report.kept_apart.append((trial.nct_id, trial.source.file, reason))
            continue
        report.per_format[trial.source.format.value] += 1
        report.notes += len(trial.source.notes)
        if old_checksum is None:
            batch.extend(quads)
            batch_graphs.add(graph.value)
            report.trials_added += 1
            if len(batch) >= batch_quads:
                flush()
        else:
            flush()
            store.replace_graph(graph, quads)
            report.quads_written += len(quads)
            report.trials_replaced += 1
    flush()
    store.flush()
    return report
