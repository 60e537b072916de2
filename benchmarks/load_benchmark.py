"""Throughput of ``trialkg load`` into an Oxigraph server, against ``oxigraph load``.

For the API v2 JSON corpus and for a scaled set of trials (the corpus trials again
and again, each copy with a new NCT ID, so new IRIs and new graphs):

1. build the embedded store (ingest, which also keeps the N-Quads cache; or mapping of
   the scaled copies, which keeps none; or ``--scaled-store``, a store made by ingest,
   such as ``benchmarks/out/scaled-store`` of ``ingest_benchmark.py --scaled``);
2. export it with ``export_chunks`` (what ``trialkg export --format nquads
   --chunk-quads N -o DIR`` does) and time the reference: ``oxigraph load`` of those
   N-Quads files into a fresh directory (Oxigraph's own bulk loader, no server, no
   transactions);
3. for each loader configuration (mode, graphs per request, requests in flight),
   start a fresh ``oxigraph serve`` on a loopback port, time ``kg.load.load`` of every
   trial graph (reading the graphs from the embedded store is part of the time),
   check the result with ``kg.load.verify`` and stop the server.

Throughput is triples per second; the ratio is the loader's throughput over the
reference's. Results go to ``benchmarks/RESULTS-load.md``; stores and files are kept
under ``benchmarks/out/`` (git-ignored).

Usage::

    python benchmarks/load_benchmark.py [--corpus DIR] [--scaled 100000]
        [--configs MODE:BATCH:WORKERS,...] [--scaled-configs ...] [--scaled-store DIR]
        [--out benchmarks/RESULTS-load.md]

A configuration is ``mode:graphs per request:requests in flight``; ``quads+bulk`` is
the quads mode with ``--bulk`` (Oxigraph's bulk loader on the server side), and
``+nocache`` (``gsp+nocache``, ``quads+bulk+nocache``) reads every graph from the store
(``--no-cache``) instead of taking trial graphs from the N-Quads cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _machine import describe, load_average, markdown  # noqa: E402

from kg.export import export_chunks  # noqa: E402
from kg.ingest import ingest  # noqa: E402
from kg.load import LoadMode, load, verify  # noqa: E402
from kg.mapping import MappingOptions, trial_quads  # noqa: E402
from kg.model import Trial  # noqa: E402
from kg.reader import read_trials  # noqa: E402
from kg.store import TrialStore  # noqa: E402

PINNED = MappingOptions(ingest_time="2024-01-01T00:00:00Z")
OUT = ROOT / "benchmarks" / "out" / "load"
CHUNK_QUADS = 1_000_000


def oxigraph_binary() -> str:
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise SystemExit("the oxigraph command is not installed: pip install oxigraph")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, location: Path) -> None:
        shutil.rmtree(location, ignore_errors=True)
        self.location = location
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = location.parent / "server.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [oxigraph_binary(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        for _ in range(300):
            try:
                if httpx.get(self.base + "/query?query=ASK%7B%7D", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit(f"oxigraph serve did not start: see {self.log}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)
        shutil.rmtree(self.location, ignore_errors=True)


def scaled_store(trials: list[Trial], n: int, path: Path) -> TrialStore:
    """``n`` trials: the corpus trials again and again, each copy with a new NCT ID."""
    shutil.rmtree(path, ignore_errors=True)
    ts = TrialStore(path)
    batch = []
    for i in range(n):
        t = trials[i % len(trials)]
        nct = f"NCT8{i:07d}"
        copy = dataclasses.replace(t, nct_id=nct, source=dataclasses.replace(t.source, file=f"scaled/{nct}.json"))
        batch.extend(trial_quads(copy, PINNED))
        if len(batch) > 500_000:
            ts.add_new_graphs(batch)
            batch = []
    if batch:
        ts.add_new_graphs(batch)
    ts.flush()
    return ts


def reference(files: list[Path], location: Path) -> float:
    """Seconds for ``oxigraph load`` of ``files`` into a fresh directory."""
    shutil.rmtree(location, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run(
        [oxigraph_binary(), "load", "--location", str(location), "--file", *map(str, files)],
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - t
    shutil.rmtree(location, ignore_errors=True)
    return seconds


@dataclasses.dataclass
class Run:
    label: str
    mode: str
    batch: int
    workers: int
    seconds: float
    triples: int
    requests: int
    verify_seconds: float

    @property
    def rate(self) -> float:
        return self.triples / self.seconds


def run_config(ts: TrialStore, work: Path, config: tuple[str, int, int], label: str) -> Run:
    mode, batch, workers = config
    base, *flags = mode.split("+")
    server = Server(work / "server")
    try:
        shutil.rmtree(ts.path / "load-journal", ignore_errors=True)  # type: ignore[operator]
        t = time.perf_counter()
        report = load(
            ts,
            server.base + "/query",
            graph_store=server.base + "/store",
            update_endpoint=server.base + "/update",
            mode=LoadMode(base),
            bulk="bulk" in flags,
            use_cache="nocache" not in flags,
            batch=batch,
            workers=workers,
            force=True,
        )
        seconds = time.perf_counter() - t
        t = time.perf_counter()
        check = verify(ts, server.base + "/query")
        verify_seconds = time.perf_counter() - t
        if not check.equal:
            raise SystemExit(f"{label} {mode}: the server does not match the store: {check.differences[:3]}")
    finally:
        server.stop()
    run = Run(label, mode, batch, workers, seconds, report.triples_sent, report.requests, verify_seconds)
    print(
        f"  {label}: {mode} batch {batch} workers {workers}: {seconds:.1f} s, {run.rate:,.0f} triples/s "
        f"({report.requests} requests); verify {verify_seconds:.1f} s",
        flush=True,
    )
    return run


def parse_configs(spec: str) -> list[tuple[str, int, int]]:
    out = []
    for item in spec.split(","):
        mode, batch, workers = item.split(":")
        out.append((mode, int(batch), int(workers)))
    return out


def bench(ts: TrialStore, label: str, work: Path, configs: list[tuple[str, int, int]]) -> tuple[float, int, list[Run]]:
    chunks = export_chunks(ts, work / "nquads", chunk_quads=CHUNK_QUADS)
    triples = sum(n for _, n in chunks)
    ref = reference([p for p, _ in chunks], work / "reference")
    print(
        f"  {label}: oxigraph load of {triples:,} quads in {len(chunks)} file(s): {ref:.1f} s = {triples / ref:,.0f}/s"
    )
    runs = [run_config(ts, work, config, label) for config in configs]
    return ref, triples, runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "ctgov-v2-json")
    ap.add_argument("--scaled", type=int, default=100_000, help="trials in the scaled set (0: skip it)")
    ap.add_argument("--configs", default="gsp:1:1,gsp:1:2,gsp:1:4,update:25:2,quads:50:1,quads:100:2,quads:250:2")
    ap.add_argument("--scaled-configs", default="gsp:1:4,quads:100:2")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS-load.md")
    ap.add_argument(
        "--scaled-store", type=Path, help="an existing store made by ingest (with its N-Quads cache) as the scaled set"
    )
    ap.add_argument(
        "--reuse-scaled", action="store_true", help="reuse the scaled store under benchmarks/out/ if it is complete"
    )
    args = ap.parse_args()

    oxigraph_binary()  # stop now, not after the corpus ingest, when the server is missing
    info = describe("oxigraph", "pyoxigraph", "httpx")
    print(markdown(info))
    OUT.mkdir(parents=True, exist_ok=True)

    corpus_work = OUT / "corpus"
    shutil.rmtree(corpus_work, ignore_errors=True)
    corpus = TrialStore(corpus_work / "store")
    report = ingest(corpus, [args.corpus], options=PINNED)
    print(f"corpus: {report.trials_added} trials, {len(corpus):,} quads")
    results = [("corpus", report.trials_added, *bench(corpus, "corpus", corpus_work, parse_configs(args.configs)))]

    if args.scaled:
        trials = [t for t in read_trials([args.corpus]) if isinstance(t, Trial)]
        scaled_work = OUT / f"scaled-{args.scaled}"
        t = time.perf_counter()
        existing = scaled_work / "store"
        if args.scaled_store is not None:
            big = TrialStore(args.scaled_store, read_only=True)
            args.scaled = len(big.trial_graphs())
            print(f"scaled: the store at {args.scaled_store} ({args.scaled} trials, {len(big):,} quads)")
        elif args.reuse_scaled and existing.is_dir() and len(TrialStore(existing).trial_graphs()) == args.scaled:
            big = TrialStore(existing)
            print(f"scaled: reusing {existing} ({len(big):,} quads)")
        else:
            big = scaled_store(trials, args.scaled, existing)
            print(f"scaled: {args.scaled} trials, {len(big):,} quads, built in {time.perf_counter() - t:.0f} s")
        label = f"{args.scaled:,} trials"
        results.append((label, args.scaled, *bench(big, label, scaled_work, parse_configs(args.scaled_configs))))

    write_results(args, info, results)


def write_results(args: argparse.Namespace, info: dict[str, str], results: list) -> None:  # type: ignore[type-arg]
    lines = [
        "# `trialkg load` throughput into Oxigraph server",
        "",
        "Generated by `python benchmarks/load_benchmark.py"
        + (f" --scaled {args.scaled}" if args.scaled != 100_000 else "")
        + f" --configs {args.configs} --scaled-configs {args.scaled_configs}"
        + (f" --scaled-store {args.scaled_store}" if args.scaled_store is not None else "")
        + "`. Each `trialkg load` run starts a fresh `oxigraph serve` on a loopback port,",
        "loads every trial graph from the embedded store (reading and serialising the graphs",
        "is part of the time) and is checked with `trialkg verify` afterwards. The reference",
        "is `oxigraph load` (Oxigraph's bulk loader, no server, no transactions) of the same",
        "quads as exported by `trialkg export --format nquads --chunk-quads 1000000`, into a",
        'fresh directory. Ratio = loader throughput / reference throughput. "verify s" is the',
        "time `trialkg verify` took afterwards (not part of the load time).",
        "",
        "## Machine",
        "",
        markdown(info),
        f"- load average when it ended: {load_average()}; the machine is shared: timings are noisy",
        "",
    ]
    for label, trials, ref, triples, runs in results:
        lines += [
            f"## {label} ({trials:,} trials, {triples:,} triples)",
            "",
            f"Reference `oxigraph load`: {ref:.1f} s = **{triples / ref:,.0f} triples/s**.",
            "",
            "| mode | graphs/request | workers | requests | seconds | triples/s | ratio | verify s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in runs:
            lines.append(
                f"| {r.mode} | {r.batch} | {r.workers} | {r.requests:,} | {r.seconds:.1f} | "
                f"{r.rate:,.0f} | {r.rate / (triples / ref):.2f} | {r.verify_seconds:.1f} |"
            )
        lines.append("")
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
