"""Saved-query benchmark: each query's latency on the corpus store and on a 100k-trial store.

    python benchmarks/query_benchmark.py [--shared ../shared] [--trials 100000] [--runs 5]
                                         [--write benchmarks/RESULTS-queries.md]

The stores are built once under benchmarks/out/queries/ (gitignored) and reused:

* ``corpus-store``: the shared corpus (every source format the registry reads), linked to
  the shared vocabularies, which are imported too, as ``trialkg ingest`` does.
* ``store-<N>``: the same vocabularies and the corpus's trial graphs repeated until there
  are N trials: copy k > 0 of a record gets the NCT ID ``NCT9<k:03d><i:04d>`` (i: the
  record's index in the sorted corpus IDs) everywhere the ID occurs, so every copy is a
  distinct trial with its own graphs, nodes and IRIs, and the real records stay as they are.

Each query runs with the example parameters of its header, then (for queries with an
optional condition) over the whole store, and a few with the condition given as a label.
Latency is wall time for parsing, running and reading every row into Python (the
``run_query`` call), best and median of ``--runs`` runs after one warm-up run; CPU time
is the process CPU time of the best run. The machine, its load and the library versions
are printed with the results.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "queries"
sys.path.insert(0, str(ROOT))

from _machine import describe, load_average, markdown  # noqa: E402

from kg.errors import ParseError  # noqa: E402
from kg.linking import Linker  # noqa: E402
from kg.mapping import MappingOptions, trial_quads  # noqa: E402
from kg.queries import ParamType, get_query, list_queries, run_query  # noqa: E402
from kg.reader import read_trials  # noqa: E402
from kg.vocab import import_paths  # noqa: E402

DESCRIBES = "<https://w3id.org/trialkg/ontology#describesTrial>"

#: Label runs: the same questions with the condition given as a label, not an ID.
LABEL_RUNS = [
    ("trials-by-condition", {"condition": "autoimmune diseases"}),
    ("phase-distribution", {"condition": "Psoriasis"}),
    ("co-treatments", {"intervention": "cyclophosphamide"}),
]


# --------------------------------------------------------------------------
# Stores


def _import_vocabularies(store: ox.Store, shared: Path) -> None:
    report = import_paths(store, [shared / "vocab"])
    if not report.ok:
        raise SystemExit(f"vocabulary import failed: {[str(e) for e in report.errors]}")


def _corpus_quads(store: ox.Store, shared: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """``(NCT ID, the trial's N-Quads)`` for every corpus record, linked with the store's vocabularies."""
    linker = Linker.from_store(store)
    options = MappingOptions(ingest_time="2025-01-01T00:00:00Z")
    out: list[tuple[str, str]] = []
    errors: list[str] = []
    for item in read_trials([shared / "corpus"]):
        if isinstance(item, ParseError):
            errors.append(str(item))
            continue
        linker.link(item)
        text = ox.serialize(trial_quads(item, options), format=ox.RdfFormat.N_QUADS).decode("utf-8")
        out.append((item.nct_id, text))
    return out, errors


def build_store(path: Path, shared: Path, trials: int | None) -> Path:
    """Build (once) the corpus store (``trials=None``) or the scaled store of ``trials`` trials."""
    marker = path / "BUILT"
    if marker.exists():
        return path
    if path.exists():
        shutil.rmtree(path)
    started = time.perf_counter()
    store = ox.Store(str(path))
    _import_vocabularies(store, shared)
    records, errors = _corpus_quads(store, shared)
    ids = sorted({nct for nct, _ in records})
    index = {nct: i for i, nct in enumerate(ids)}
    copies = 1 if trials is None else -(-trials // len(ids))
    if copies > 1000 or len(ids) > 10000:
        raise SystemExit("the NCT ID scheme NCT9<copy:03d><index:04d> allows 1000 copies of 10000 records")
    for k in range(copies):
        chunk = []
        for nct, text in records:
            if trials is not None and k * len(ids) + index[nct] >= trials:
                continue
            chunk.append(text if k == 0 else text.replace(nct, f"NCT9{k:03d}{index[nct]:04d}"))
        store.bulk_load("".join(chunk).encode("utf-8"), format=ox.RdfFormat.N_QUADS)
    store.optimize()
    store.flush()
    seconds = time.perf_counter() - started
    n = int(
        next(
            iter(
                store.query(
                    "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?g <https://w3id.org/trialkg/ontology#describesTrial> ?t } }"
                )
            )
        )["n"].value
    )
    marker.write_text(
        f"records {len(records)} (skipped {len(errors)}), copies {copies}, graphs {n}, quads {len(store)}, "
        f"built in {seconds:.0f} s\n",
        encoding="utf-8",
    )
    return path


def trial_count(store: ox.Store) -> int:
    q = f"SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {{ GRAPH ?g {{ ?g {DESCRIBES} ?t }} }}"
    return int(next(iter(store.query(q)))["n"].value)


# --------------------------------------------------------------------------
# Timing


@dataclass
class Timing:
    query: str
    params: dict[str, str]
    rows: int
    best: float
    median: float
    cpu: float


def time_query(store: ox.Store, name: str, params: dict[str, str], runs: int) -> Timing:
    run_query(name, params, store=store)  # warm-up: caches, and the first read of the files
    walls: list[float] = []
    cpus: list[float] = []
    rows = 0
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        _, result = run_query(name, params, store=store)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        rows = len(result)
    best = min(range(runs), key=walls.__getitem__)
    return Timing(name, params, rows, walls[best], statistics.median(walls), cpus[best])


def plan() -> list[tuple[str, dict[str, str]]]:
    """Each query with its header's example parameters; then, for a query whose condition
    or trial parameter is optional, without it (the whole store); then the label runs."""
    runs: list[tuple[str, dict[str, str]]] = []
    for q in list_queries():
        example = {p.name: p.example for p in q.params if p.example is not None}
        runs.append((q.name, example))
        for p in q.params:
            if not p.required and p.type in (ParamType.condition, ParamType.trial) and p.name in example:
                runs.append((q.name, {k: v for k, v in example.items() if k != p.name}))
    for name, params in LABEL_RUNS:
        get_query(name)
        runs.append((name, params))
    return runs


def measure(label: str, store: ox.Store, runs: int) -> list[Timing]:
    out = []
    for name, params in plan():
        t = time_query(store, name, params, runs)
        print(f"  {label}: {name} {params} {t.best:.3f} s ({t.rows} rows)", file=sys.stderr, flush=True)
        out.append(t)
    return out


def table(corpus: list[Timing], big: list[Timing], big_trials: int) -> str:
    lines = [
        f"| query | parameters | rows (corpus) | corpus best / median (s) | rows ({big_trials:,}) "
        f"| {big_trials:,} best / median (s) | {big_trials:,} CPU (s) | under 1 s |",
        "|---|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for a, b in zip(corpus, big, strict=True):
        params = ", ".join(f"{k}={v}" for k, v in a.params.items()) or "(none: whole store)"
        lines.append(
            f"| {a.query} | {params} | {a.rows} | {a.best:.3f} / {a.median:.3f} | {b.rows} "
            f"| {b.best:.3f} / {b.median:.3f} | {b.cpu:.3f} | {'yes' if b.best < 1 else 'no'} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("TRIALKG_SHARED", ROOT.parent / "shared")))
    ap.add_argument("--trials", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write", type=Path, help="also write the Markdown report to this file")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    corpus_path = build_store(OUT / "corpus-store", args.shared, None)
    big_path = build_store(OUT / f"store-{args.trials}", args.shared, args.trials)
    build_seconds = time.perf_counter() - started
    corpus = ox.Store.read_only(str(corpus_path))
    big = ox.Store.read_only(str(big_path))
    info = describe("pyoxigraph", "SPARQLWrapper")
    corpus_t = measure("corpus", corpus, args.runs)
    big_t = measure(f"{args.trials}", big, args.runs)
    report = "\n".join(
        [
            "# Saved-query latency",
            "",
            f"Produced by `python benchmarks/query_benchmark.py` (--trials {args.trials} --runs {args.runs}).",
            "",
            "## Machine",
            "",
            markdown(info),
            f"- load average when it ended: {load_average()}",
            "",
            "## Results",
            "",
            f"- Corpus store: {trial_count(corpus):,} trials, {len(corpus):,} quads "
            f"({(corpus_path / 'BUILT').read_text().strip()})",
            f"- Scaled store: {trial_count(big):,} trials, {len(big):,} quads "
            f"({(big_path / 'BUILT').read_text().strip()})",
            f"- Store build time this run: {build_seconds:.0f} s (0 when the stores already existed)",
            "",
            table(corpus_t, big_t, args.trials),
            "",
        ]
    )
    print(report)
    if args.write is not None:
        args.write.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
