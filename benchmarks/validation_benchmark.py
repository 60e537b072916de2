"""Validation throughput: SHACL (pySHACL) per trial graph, on the shared corpus and
on a scaled set of 100,000 trials made by varying real records' NCT IDs.

    python benchmarks/validation_benchmark.py [--corpus DIR] [--scaled 100000]
        [--scaled-sample 2000] [--full-scaled] [--workers 2] [--out benchmarks/RESULTS-validation.md]

Steps:
1. ingest the corpus into an in-memory store (not timed as validation);
2. validate every corpus trial graph with 1 and with N worker processes: trials/s;
3. the full per-trial versus whole-graph comparison on the corpus (the test suite
   does it on a sample): identical results for trials with one source graph;
4. build an on-disk store of ``--scaled`` trials (copies of the corpus trials with
   new NCT IDs NCT9xxxxxxx, so new IRIs and graphs) and validate a deterministic
   sample of ``--scaled-sample`` of its graphs (``--full-scaled``: all of them),
   reporting trials/s and the time the whole scaled set takes at that rate.

Prints the machine (CPU model, cores, RAM) and library versions, and writes a
Markdown summary to ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.errors import ParseError  # noqa: E402
from kg.ingest import ingest  # noqa: E402
from kg.mapping import MappingOptions, trial_quads  # noqa: E402
from kg.model import Trial  # noqa: E402
from kg.reader import read_trials  # noqa: E402
from kg.store import TrialStore  # noqa: E402
from kg.validation import Severity, validate_merged, validate_store  # noqa: E402

PINNED = MappingOptions(ingest_time="2024-01-01T00:00:00Z")


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": cpu,
        "usable cores": str(cores),
        "RAM": ram,
        "Python": platform.python_version(),
        "pyshacl": version("pyshacl"),
        "rdflib": version("rdflib"),
        "pyoxigraph": version("pyoxigraph"),
        "trialkg": version("trialkg"),
    }


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def scaled_store(trials: list[Trial], n: int, path: Path) -> TrialStore:
    """``n`` trials: the corpus trials again and again, each copy with a new NCT ID."""
    ts = TrialStore(path)
    batch = []
    for i in range(n):
        t = trials[i % len(trials)]
        nct = f"NCT9{i:07d}"
        copy = dataclasses.replace(t, nct_id=nct, source=dataclasses.replace(t.source, file=f"scaled/{nct}.json"))
        batch.extend(trial_quads(copy, PINNED))
        if len(batch) > 500_000:
            ts.add_new_graphs(batch)
            batch = []
    if batch:
        ts.add_new_graphs(batch)
    ts.flush()
    return ts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--scaled", type=int, default=100_000)
    ap.add_argument("--scaled-sample", type=int, default=2_000)
    ap.add_argument("--full-scaled", action="store_true", help="validate every scaled trial, not a sample")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS-validation.md")
    args = ap.parse_args()

    info = machine()
    for k, v in info.items():
        print(f"{k}: {v}")
    rows: list[tuple[str, str, str, str]] = []

    ts = TrialStore(None)
    _ingest_report, t_ingest = timed(ingest, ts, [args.corpus], options=PINNED)
    graphs = ts.trial_graphs()
    print(f"corpus: {len(graphs)} trial graphs ingested in {t_ingest:.1f} s")

    for w in sorted({1, args.workers}):
        report, t = timed(validate_store, ts, workers=w)
        rate = len(graphs) / t
        counts = ", ".join(f"{report.count(s)} {s.value.lower()}" for s in Severity)
        print(f"corpus, {w} worker(s): {len(graphs)} graphs in {t:.1f} s = {rate:.1f} trials/s ({counts})")
        rows.append((f"corpus ({len(graphs)} trial graphs)", f"{w}", f"{t:.1f}", f"{rate:.1f}"))
    per_trial = report

    ncts = [n for n, _ in graphs]
    single = sorted({n for n in ncts if ncts.count(n) == 1})
    merged, t_merged = timed(validate_merged, ts, single)
    keep = set(single)
    per_keys = {r.key()[1:] for r in per_trial.results if r.trial_id in keep}
    whole_keys = {r.key()[1:] for r in merged.results}
    # nodes stated by several graphs (organisations, whose IRI comes from the name) may
    # differ by design: print every difference so that a reader can check that
    only_whole, only_per = whole_keys - per_keys, per_keys - whole_keys
    for k in sorted(only_whole, key=str):
        print("  only in whole-graph validation:", k)
    for k in sorted(only_per, key=str):
        print("  only in per-trial validation:", k)
    same = not only_whole and not only_per
    same_but_shared = all(k[2].startswith("https://w3id.org/trialkg/organization/") for k in only_whole | only_per)
    print(
        f"whole-graph validation of {len(single)} single-source trials: {t_merged:.1f} s; "
        f"per-trial results identical: {same}"
    )

    trials = [t for t in read_trials([args.corpus]) if not isinstance(t, ParseError)]
    tmp = Path(tempfile.mkdtemp(prefix="trialkg-scaled-"))
    try:
        big, t_build = timed(scaled_store, trials, args.scaled, tmp / "store")
        print(f"scaled: {args.scaled} trials built in {t_build:.1f} s ({len(big)} quads)")
        all_graphs = big.trial_graphs()
        if args.full_scaled:
            sample = [n for n, _ in all_graphs]
        else:
            step = max(1, len(all_graphs) // args.scaled_sample)
            sample = [n for n, _ in all_graphs[::step]][: args.scaled_sample]
        _scaled_report, t_scaled = timed(validate_store, big, sample, workers=args.workers)
        srate = len(sample) / t_scaled
        label = f"scaled {args.scaled} trials" + ("" if args.full_scaled else f", sample of {len(sample)}")
        print(
            f"{label}, {args.workers} worker(s): {t_scaled:.1f} s = {srate:.1f} trials/s; "
            f"whole scaled set at this rate: {args.scaled / srate / 60:.0f} min"
        )
        rows.append((label, str(args.workers), f"{t_scaled:.1f}", f"{srate:.1f}"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        "# Validation benchmark (pySHACL, one trial graph at a time)",
        "",
        "Produced by `python benchmarks/validation_benchmark.py`"
        + (" --full-scaled" if args.full_scaled else "")
        + ".",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in info.items()],
        "",
        "| data | workers | seconds | trials/s |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        f"Corpus ingest (not part of validation): {t_ingest:.1f} s. Whole-graph validation of the "
        f"{len(single)} single-source corpus trials merged into one data graph: {t_merged:.1f} s; its results "
        f"equal the per-trial results: **{same}**"
        + (
            ""
            if same
            else f"; every difference is on an organisation node shared by several graphs: "
            f"**{same_but_shared}** ({len(only_whole)} only in the whole graph, {len(only_per)} only per trial)"
        )
        + ".",
    ]
    if not args.full_scaled:
        lines.append(
            f"At {srate:.1f} trials/s the whole scaled set of {args.scaled} trials takes about "
            f"{args.scaled / srate / 60:.0f} minutes with {args.workers} workers."
        )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
