"""Ingest and export benchmark.

    python benchmarks/ingest_benchmark.py [--shared ../shared] [--scaled 100000] [--workers N]

1. The whole shared corpus into a fresh on-disk store: trials/s, quads/s, peak memory.
2. The practical floor, measured in the same run: json-parsing (or reading) every
   input plus pyoxigraph's own bulk loader loading the N-Quads our ingest produced.
3. v2 JSON alone (target: >= 1,000 trials/s and <= 2.5x its floor).
4. A scaled corpus of N v2 trials (real records with rewritten NCT IDs, as JSON arrays
   of 1,000 studies): ingest, then export to N-Quads (target < 60 s at 100k).
5. Where the time goes: a profile of the single-process pipeline by stage.

Each phase runs in its own process so that peak memory (ru_maxrss) is its own.
Results are printed as Markdown; paste them into benchmarks/RESULTS-ingest.md.
"""

# kg is imported inside each phase, so that a phase's process loads only what it uses
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import orjson
import pyoxigraph as ox
from _machine import describe, markdown

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def _peak_mb(workers: int = 0) -> float:
    """Peak resident memory of this phase: its own process plus its largest worker.

    ru_maxrss of RUSAGE_CHILDREN is the peak of the largest terminated child, so with
    N workers the true simultaneous peak is at most self + N * children; we report
    self + N * children as an upper bound when workers ran.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if workers:
        print(f"  (peak memory: this process {own:.0f} MB, largest worker {child:.0f} MB)", file=sys.stderr)
    return own + workers * child


def _in_child(fn, *args):  # type: ignore[no-untyped-def]
    # a fresh, non-daemonic process per phase (it may start workers of its own)
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def phase_ingest(paths: list[str], store_dir: str, workers: int) -> dict:
    from kg.ingest import ingest
    from kg.store import TrialStore

    shutil.rmtree(store_dir, ignore_errors=True)
    store = TrialStore(store_dir)
    t0 = time.perf_counter()
    report = ingest(store, paths, workers=workers)
    dt = time.perf_counter() - t0
    n = report.trials_added
    quads = len(store)
    return {
        "trials": n,
        "errors": len(report.errors),
        "quads": quads,
        "seconds": dt,
        "trials_per_s": n / dt,
        "quads_per_s": quads / dt,
        "peak_mb": _peak_mb(workers if workers > 1 else 0),
    }


def phase_export(store_dir: str, out: str, workers: int = 1, use_cache: bool = True) -> dict:
    """Export to N-Quads, from the N-Quads cache ingest kept (``use_cache``) or reading
    the store; reading the store with ``workers`` > 1 (only passed for the scaled store,
    far above kg.export.PARALLEL_MIN_GRAPHS), the peak counts the worker processes too."""
    from kg.export import ExportFormat, export
    from kg.nquads_cache import FILE_NAME
    from kg.store import TrialStore

    store = TrialStore(store_dir, read_only=True)
    t0 = time.perf_counter()
    n = export(store, Path(out), ExportFormat.nquads, workers=workers, use_cache=use_cache)
    seconds = time.perf_counter() - t0
    cache = Path(store_dir) / FILE_NAME
    return {
        "quads": n,
        "seconds": seconds,
        "peak_mb": _peak_mb(0 if use_cache else workers - 1),
        "bytes": os.path.getsize(out),
        "workers": 1 if use_cache else workers,
        "cache_bytes": cache.stat().st_size if cache.exists() else 0,
    }


def phase_floor(paths: list[str], nquads: str, store_dir: str) -> dict:
    t0 = time.perf_counter()
    for p in paths:
        for f in sorted(Path(p).rglob("*")) if Path(p).is_dir() else [Path(p)]:
            if not f.is_file():
                continue
            data = f.read_bytes()
            if f.suffix == ".json":
                orjson.loads(data)
    t_parse = time.perf_counter() - t0
    shutil.rmtree(store_dir, ignore_errors=True)
    store = ox.Store(store_dir)
    t1 = time.perf_counter()
    store.bulk_load(path=nquads, format=ox.RdfFormat.N_QUADS)
    store.flush()
    t_load = time.perf_counter() - t1
    return {"parse_seconds": t_parse, "load_seconds": t_load, "seconds": t_parse + t_load, "peak_mb": _peak_mb()}


def phase_ceiling(nquads: str, store_dir: str, trials: int) -> dict:
    """What pyoxigraph's own loaders reach with these N-Quads, without any of our code:
    the bulk loader into an on-disk store (what the floor uses), the same into an
    in-memory store, and ``Store.extend`` (transactional) on disk."""
    data = Path(nquads).read_bytes()
    quads = data.count(b"\n")
    out = {"quads": quads, "trials": trials}
    for mode in ("disk bulk_load", "memory bulk_load", "disk extend"):
        shutil.rmtree(store_dir, ignore_errors=True)
        t0 = time.perf_counter()
        if mode == "disk bulk_load":
            s = ox.Store(store_dir)
            s.bulk_load(data, format=ox.RdfFormat.N_QUADS)
            s.flush()
        elif mode == "memory bulk_load":
            s = ox.Store()
            s.bulk_load(data, format=ox.RdfFormat.N_QUADS)
        else:
            s = ox.Store(store_dir)
            s.extend(ox.parse(data, format=ox.RdfFormat.N_QUADS))
            s.flush()
        out[mode] = time.perf_counter() - t0
        del s
    return out


def phase_profile(paths: list[str]) -> dict:
    """Single-process time per stage: read+parse, map, serialise, store."""
    from kg.mapping import MappingOptions, trial_quads
    from kg.reader import read_trials

    opts = MappingOptions(ingest_time="2024-01-01T00:00:00Z")
    t0 = time.perf_counter()
    trials = [t for t in read_trials(paths) if not isinstance(t, Exception)]
    t1 = time.perf_counter()
    quads = [trial_quads(t, opts) for t in trials]
    t2 = time.perf_counter()
    data = b"".join(ox.serialize(q, format=ox.RdfFormat.N_QUADS) for q in quads)
    t3 = time.perf_counter()
    d = str(OUT / "profile-store")
    shutil.rmtree(d, ignore_errors=True)
    s = ox.Store(d)
    s.bulk_load(data, format=ox.RdfFormat.N_QUADS)
    s.flush()
    t4 = time.perf_counter()
    return {"parse": t1 - t0, "map": t2 - t1, "serialise": t3 - t2, "store": t4 - t3, "trials": len(trials)}


def _line_multiset(path: Path) -> tuple[int, int]:
    """(lines, order-free checksum of the lines): equal for two files with the same lines
    in any order (hash() is stable within this process)."""
    n = total = 0
    with path.open("rb") as fh:
        for line in fh:
            n += 1
            total = (total + hash(line)) & 0xFFFFFFFFFFFFFFFF
    return n, total


def make_scaled(corpus_v2: Path, n: int, target: Path) -> None:
    """n v2 studies from the real records, NCT IDs rewritten, as arrays of 1,000."""
    if target.exists() and len(list(target.glob("*.json"))) == (n + 999) // 1000:
        return
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    base = [json.loads(p.read_bytes()) for p in sorted(corpus_v2.glob("NCT*.json"))]
    batch: list[bytes] = []
    for i in range(n):
        doc = base[i % len(base)]
        raw = orjson.dumps(doc)
        old = doc["protocolSection"]["identificationModule"]["nctId"].encode()
        new = f"NCT{90_000_000 + i:08d}".encode()
        batch.append(raw.replace(old, new))
        if len(batch) == 1000 or i == n - 1:
            (target / f"scaled-{i // 1000:05d}.json").write_bytes(b"[" + b",".join(batch) + b"]")
            batch = []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.environ.get("TRIALKG_SHARED", str(HERE.parent.parent / "shared")))
    ap.add_argument("--scaled", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    corpus = Path(args.shared) / "corpus"
    if not corpus.is_dir():
        sys.exit(f"no corpus at {corpus}: pass --shared")
    OUT.mkdir(exist_ok=True)
    machine = markdown(describe("pyoxigraph", "orjson", "lxml"))
    print(f"## Ingest benchmark\n\n### Machine\n\n{machine}\n\n### Results\n\nWorkers: {args.workers}\n")
    rows = []
    for label, paths in (("whole corpus", [str(corpus)]), ("v2 JSON only", [str(corpus / "ctgov-v2-json")])):
        for workers in sorted({1, args.workers}):
            r = _in_child(phase_ingest, paths, str(OUT / "store"), workers)
            e = _in_child(phase_export, str(OUT / "store"), str(OUT / "export.nq"))
            f = _in_child(phase_floor, paths, str(OUT / "export.nq"), str(OUT / "floor-store"))
            rows.append((label, workers, r, f, e))
    print(
        "| input | workers | trials | quads | ingest s | trials/s | quads/s | peak MB "
        "| floor s (parse + bulk load) | ratio to floor |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, workers, r, f, _e in rows:
        print(
            f"| {label} | {workers} | {r['trials']} | {r['quads']} | {r['seconds']:.1f} | {r['trials_per_s']:.0f} | "
            f"{r['quads_per_s']:.0f} | {r['peak_mb']:.0f} | "
            f"{f['seconds']:.1f} ({f['parse_seconds']:.1f} + {f['load_seconds']:.1f}) | "
            f"{r['seconds'] / f['seconds']:.2f}x |"
        )
    v2_trials = rows[-1][2]["trials"]  # the last row is v2 JSON; its export is in export.nq
    c = _in_child(phase_ceiling, str(OUT / "export.nq"), str(OUT / "floor-store"), v2_trials)
    print(f"\npyoxigraph's own loaders on the v2 JSON N-Quads ({c['quads']} quads, {v2_trials} trials):\n")
    for mode in ("disk bulk_load", "memory bulk_load", "disk extend"):
        print(f"- {mode}: {c[mode]:.2f} s = {c['quads'] / c[mode]:,.0f} quads/s = {v2_trials / c[mode]:,.0f} trials/s")
    p = _in_child(phase_profile, [str(corpus)])
    total = p["parse"] + p["map"] + p["serialise"] + p["store"]
    print(f"\nWhere the time goes (one process, {p['trials']} trials, {total:.1f} s):\n")
    for k in ("parse", "map", "serialise", "store"):
        print(f"- {k}: {p[k]:.1f} s ({100 * p[k] / total:.0f}%)")
    if args.scaled:
        scaled = OUT / f"scaled-{args.scaled}"
        make_scaled(corpus / "ctgov-v2-json", args.scaled, scaled)
        r = _in_child(phase_ingest, [str(scaled)], str(OUT / "scaled-store"), args.workers)
        e = _in_child(phase_export, str(OUT / "scaled-store"), str(OUT / "scaled.nq"), args.workers)
        es = _in_child(phase_export, str(OUT / "scaled-store"), str(OUT / "scaled-store.nq"), args.workers, False)
        same = _line_multiset(OUT / "scaled.nq") == _line_multiset(OUT / "scaled-store.nq")
        f = _in_child(phase_floor, [str(scaled)], str(OUT / "scaled.nq"), str(OUT / "scaled-floor-store"))
        print(f"\n### Scaled corpus: {args.scaled} v2 trials\n")
        print(
            f"- ingest: {r['seconds']:.0f} s, {r['trials_per_s']:.0f} trials/s, {r['quads_per_s']:.0f} quads/s, "
            f"{r['quads']} quads, peak {r['peak_mb']:.0f} MB"
        )
        print(
            f"- floor (parse {f['parse_seconds']:.0f} s + bulk load {f['load_seconds']:.0f} s): {f['seconds']:.0f} s; "
            f"ratio {r['seconds'] / f['seconds']:.2f}x"
        )
        print(
            f"- export to N-Quads from the N-Quads cache ({e['cache_bytes'] / 1e6:.0f} MB beside the store): "
            f"{e['seconds']:.1f} s ({e['bytes'] / 1e6:.0f} MB, {e['quads']} quads), peak {e['peak_mb']:.0f} MB"
        )
        print(
            f"- export to N-Quads reading the store ({es['workers']} processes, --no-cache): {es['seconds']:.1f} s "
            f"({es['bytes'] / 1e6:.0f} MB, {es['quads']} quads), peak {es['peak_mb']:.0f} MB; "
            f"the same lines as from the cache: {'yes' if same else 'NO'}"
        )


if __name__ == "__main__":
    main()
