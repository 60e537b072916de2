"""Validation throughput in trials/s, both engines (SPARQL compiled from the shapes,
the default, and pySHACL, the reference), on the shared corpus and on a scaled set
of 100,000 trials made by giving real trial graphs new NCT IDs.

    python benchmarks/validation_benchmark.py [--corpus DIR] [--scaled 100000]
        [--scaled-sample 2000] [--pyshacl-workers 1 2] [--keep-scaled] [--reuse-scaled]
        [--out benchmarks/RESULTS-validation.md]

Steps:
1. ingest the corpus into an in-memory store (timed, not part of validation);
2. validate every corpus trial graph with the SPARQL engine and with pySHACL (one run
   per ``--pyshacl-workers`` value), check that both give the same results: trials/s;
3. per-trial versus whole-graph validation on the corpus (SPARQL engine): identical
   results except on nodes that several graphs state;
4. build an on-disk store of ``--scaled`` trials in one bulk load: the corpus trial
   graphs, serialised once as N-Quads, again and again with each copy's NCT ID
   replaced by a new one (NCT9xxxxxxx: new trial, node and graph IRIs; shared
   organisations stay shared, as in real data);
5. validate every scaled trial with the SPARQL engine, and a deterministic sample of
   ``--scaled-sample`` trials with both engines (pySHACL on all 100,000 would take
   hours): trials/s.

Prints the machine and the library versions (``benchmarks/_machine.py``), and writes
a Markdown summary to ``--out``.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _machine import describe, markdown  # noqa: E402

from kg.ingest import ingest  # noqa: E402
from kg.mapping import MappingOptions  # noqa: E402
from kg.store import TrialStore  # noqa: E402
from kg.validation import Engine, Severity, ValidationReport, validate_merged, validate_store  # noqa: E402

PINNED = MappingOptions(ingest_time="2024-01-01T00:00:00Z")
OUT = ROOT / "benchmarks" / "out"


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


class _Chunks(io.RawIOBase):
    """A readable byte stream over an iterator of byte chunks (for a streamed bulk load)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        while not self._buf:
            try:
                self._buf = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def scaled_nquads(ts: TrialStore, n: int) -> Iterator[bytes]:
    """N-Quads of ``n`` trials: copy i is corpus trial i mod |corpus| (all its graphs),
    with its NCT ID replaced by NCT9xxxxxxx everywhere in the text."""
    by_trial: dict[str, list[str]] = {}
    for nct, g in ts.trial_graphs():
        by_trial.setdefault(nct, []).append(g)
    ncts = sorted(by_trial)
    templates = [
        (
            nct.encode(),
            b"".join(ox.serialize(list(ts.graph_quads(g)), format=ox.RdfFormat.N_QUADS) for g in by_trial[nct]),
        )
        for nct in ncts
    ]
    for i in range(n):
        old, text = templates[i % len(templates)]
        yield text.replace(old, f"NCT9{i:07d}".encode())


def counts(report: ValidationReport) -> str:
    return ", ".join(f"{report.count(s)} {s.value.lower()}" for s in Severity)


def same(a: ValidationReport, b: ValidationReport) -> bool:
    def full(r: ValidationReport) -> Counter[tuple[object, ...]]:
        return Counter((*x.key(), x.graph, x.message) for x in r.results)

    return full(a) == full(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--scaled", type=int, default=100_000)
    ap.add_argument("--scaled-sample", type=int, default=2_000)
    ap.add_argument("--pyshacl-workers", type=int, nargs="+", default=[1])
    ap.add_argument("--keep-scaled", action="store_true", help="keep the scaled store in benchmarks/out")
    ap.add_argument(
        "--reuse-scaled",
        action="store_true",
        help="use the scaled store a previous run kept (--keep-scaled) instead of building it",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS-validation.md")
    args = ap.parse_args()

    info = describe("pyshacl", "rdflib", "pyoxigraph")
    print(markdown(info))
    rows: list[tuple[str, str, str, str, str]] = []

    def row(data: str, engine: str, workers: str, n: int, t: float) -> None:
        rows.append((data, engine, workers, f"{t:.1f}", f"{n / t:.1f}"))
        print(f"{data}, {engine}, {workers} worker(s): {n} trials in {t:.1f} s = {n / t:.1f} trials/s", flush=True)

    ts = TrialStore(None)
    _ingest_report, t_ingest = timed(ingest, ts, [args.corpus], options=PINNED)
    graphs = ts.trial_graphs()
    ncts = sorted({n for n, _ in graphs})
    print(f"corpus: {len(ncts)} trials, {len(graphs)} trial graphs, {len(ts)} quads, ingested in {t_ingest:.1f} s")
    corpus_label = f"corpus ({len(ncts)} trials, {len(graphs)} graphs)"

    fast, t = timed(validate_store, ts, engine=Engine.SPARQL)
    row(corpus_label, "sparql", "1", len(ncts), t)
    print(f"  results: {counts(fast)}")
    agree = True
    for w in args.pyshacl_workers:
        ref, t = timed(validate_store, ts, engine=Engine.PYSHACL, workers=w)
        row(corpus_label, "pyshacl", str(w), len(ncts), t)
        agree = agree and same(fast, ref)
    print(f"  both engines give the same results on the corpus: {agree}")

    single = sorted({n for n in ncts if sum(1 for m, _ in graphs if m == n) == 1})
    merged, t_merged = timed(validate_merged, ts, single, engine=Engine.SPARQL)
    keep = set(single)
    per_keys = {r.key()[1:] for r in fast.results if r.trial_id in keep}
    whole_keys = {r.key()[1:] for r in merged.results}
    only_whole, only_per = whole_keys - per_keys, per_keys - whole_keys
    for k in sorted(only_whole, key=str):
        print("  only in whole-graph validation:", k)
    for k in sorted(only_per, key=str):
        print("  only in per-trial validation:", k)
    identical = not only_whole and not only_per
    shared_only = all(k[2].startswith("https://w3id.org/trialkg/organization/") for k in only_whole | only_per)

    path = OUT / "validation-scaled-store"
    reuse = args.reuse_scaled and path.is_dir()
    if not reuse:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    try:
        t0 = time.perf_counter()
        big = TrialStore(path)
        if not reuse:
            big.store.bulk_load(_Chunks(scaled_nquads(ts, args.scaled)), format=ox.RdfFormat.N_QUADS)
            big.flush()
            big.store.optimize()  # compact the bulk-loaded files: queries read fewer of them
        t_build = time.perf_counter() - t0
        n_quads = len(big)
        scaled_graphs = big.trial_graphs()
        scaled_ncts = sorted({n for n, _ in scaled_graphs})
        assert len(scaled_ncts) == args.scaled, len(scaled_ncts)
        print(
            f"scaled: {args.scaled} trials, {len(scaled_graphs)} graphs, {n_quads} quads, "
            f"bulk-loaded in {t_build:.1f} s"
        )
        scaled_label = f"scaled ({args.scaled} trials, {len(scaled_graphs)} graphs, on disk)"
        full, t = timed(validate_store, big, engine=Engine.SPARQL)
        row(scaled_label, "sparql", "1", args.scaled, t)
        print(f"  results: {counts(full)}")
        step = max(1, len(scaled_ncts) // args.scaled_sample)
        sample = scaled_ncts[::step][: args.scaled_sample]
        sample_label = f"scaled, sample of {len(sample)} trials"
        s_fast, t = timed(validate_store, big, sample, engine=Engine.SPARQL)
        row(sample_label, "sparql", "1", len(sample), t)
        sample_agree = True
        for w in args.pyshacl_workers:
            s_ref, t = timed(validate_store, big, sample, engine=Engine.PYSHACL, workers=w)
            row(sample_label, "pyshacl", str(w), len(sample), t)
            sample_agree = sample_agree and same(s_fast, s_ref)
        print(f"  both engines give the same results on the sample: {sample_agree}")
        pyshacl_rate = len(sample) / t
    finally:
        if not args.keep_scaled:
            shutil.rmtree(path, ignore_errors=True)

    lines = [
        "# Validation benchmark: SPARQL engine and pySHACL",
        "",
        "Produced by `python benchmarks/validation_benchmark.py` (the machine is shared with other work, "
        "so timings vary by some 20%).",
        "",
        "## Machine",
        "",
        markdown(info),
        "",
        "## Results",
        "",
        "| data | engine | workers | seconds | trials/s |",
        "|---|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows],
        "",
        f"- Corpus results (both engines): {counts(fast)}; the engines give the same results on the corpus: "
        f"**{agree}**, and on the scaled sample: **{sample_agree}**.",
        f"- Corpus ingest (not part of validation): {t_ingest:.1f} s. The scaled store ({n_quads} quads) was "
        + ("built by an earlier run (--reuse-scaled)." if reuse else f"bulk-loaded in {t_build:.1f} s."),
        f"- pySHACL would take about {args.scaled / pyshacl_rate / 60:.0f} minutes for all {args.scaled} scaled "
        "trials at its sample rate.",
        f"- Whole-graph validation (SPARQL engine) of the {len(single)} single-source corpus trials merged into one "
        f"data graph: {t_merged:.1f} s; its results equal the per-trial results: **{identical}**"
        + (
            ""
            if identical
            else f"; every difference is on an organisation node that several graphs state: **{shared_only}** "
            f"({len(only_whole)} only in the whole graph, {len(only_per)} only per trial)"
        )
        + ".",
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
