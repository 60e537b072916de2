"""Export with worker processes gives what one process gives: the same bytes for the
line formats, the same statements (and one prefix block) for Turtle and TriG. N-Quads
copied from the N-Quads cache are the statements the store holds, and a cached graph
is used only while it is the one in the store."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
import pytest

import kg.export
import kg.nquads_cache
from kg import terms as T
from kg.export import ExportFormat, export, export_chunks
from kg.ingest import ingest
from kg.nquads_cache import FILE_NAME, NQuadsCache, Packer, Row
from kg.store import TrialStore
from kg.vocab import import_paths
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "store"
    ts = TrialStore(path)
    report = ingest(ts, [FIXTURES / "records", FIXTURES / "pages"], workers=1)
    assert report.trials_added >= 8
    ts.flush()
    del ts
    return path


def _export(store_dir: Path, out: Path, fmt: ExportFormat, workers: int, *, use_cache: bool = False) -> int:
    """Reading the store (the N-Quads cache would serve N-Quads without it)."""
    return export(TrialStore(store_dir, read_only=True), out, fmt, workers=workers, use_cache=use_cache)


@pytest.fixture()
def parallel_from_two_graphs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kg.export, "PARALLEL_MIN_GRAPHS", 2)


@pytest.mark.usefixtures("parallel_from_two_graphs")
@pytest.mark.parametrize("fmt", [ExportFormat.nquads, ExportFormat.ntriples], ids=lambda f: f.value)
def test_line_formats_are_byte_identical(store_dir: Path, tmp_path: Path, fmt: ExportFormat) -> None:
    one = _export(store_dir, tmp_path / "one", fmt, workers=1)
    three = _export(store_dir, tmp_path / "three", fmt, workers=3)
    assert one == three > 1000
    assert (tmp_path / "one").read_bytes() == (tmp_path / "three").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "three"]  # no part files left


@pytest.mark.usefixtures("parallel_from_two_graphs")
@pytest.mark.parametrize("fmt", [ExportFormat.turtle, ExportFormat.trig], ids=lambda f: f.value)
def test_turtle_and_trig_hold_the_same_statements_with_one_prefix_block(
    store_dir: Path, tmp_path: Path, fmt: ExportFormat
) -> None:
    one = _export(store_dir, tmp_path / "one", fmt, workers=1)
    three = _export(store_dir, tmp_path / "three", fmt, workers=3)
    assert one == three
    text = (tmp_path / "three").read_bytes()
    assert text.count(b"@prefix rdfs: ") == 1
    parsed = [set(ox.parse(path=str(tmp_path / name), format=fmt.rdf_format)) for name in ("one", "three")]
    assert parsed[0] == parsed[1]
    expected = len(ox.Store.read_only(str(store_dir)))
    if fmt is ExportFormat.trig:  # every quad, in its graph
        assert len(parsed[1]) == expected
    else:  # the trial graphs merged
        assert 0 < len(parsed[1]) <= expected


@pytest.mark.usefixtures("parallel_from_two_graphs")
def test_a_stream_gets_the_parts_in_order(store_dir: Path, tmp_path: Path) -> None:
    sequential = _export(store_dir, tmp_path / "one.nq", ExportFormat.nquads, workers=1)
    stream = io.BytesIO()
    n = export(TrialStore(store_dir, read_only=True), stream, ExportFormat.nquads, workers=2, use_cache=False)
    assert n == sequential
    assert stream.getvalue() == (tmp_path / "one.nq").read_bytes()


def test_small_exports_and_memory_stores_stay_in_one_process(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below PARALLEL_MIN_GRAPHS no worker starts (nothing to gain), and an in-memory
    store cannot be shared with workers: both still export everything."""

    def no_workers(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker pool was started")

    monkeypatch.setattr(kg.export, "ProcessPoolExecutor", no_workers)
    expected = len(ox.Store.read_only(str(store_dir)))
    assert _export(store_dir, tmp_path / "disk.nq", ExportFormat.nquads, workers=4) == expected

    monkeypatch.setattr(kg.export, "PARALLEL_MIN_GRAPHS", 2)
    memory = TrialStore()
    memory.store.extend(ox.Store.read_only(str(store_dir)))
    assert export(memory, tmp_path / "memory.nq", ExportFormat.nquads, workers=4) == expected
    # the in-memory store lists a graph's quads in another order
    assert sorted((tmp_path / "memory.nq").read_bytes().splitlines()) == sorted(
        (tmp_path / "disk.nq").read_bytes().splitlines()
    )


# -- the N-Quads cache ---------------------------------------------------------------


def _lines(path: Path) -> list[bytes]:
    return sorted(path.read_bytes().splitlines())


@pytest.fixture()
def store_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The graphs an export reads from the store rather than from the cache."""
    read: list[str] = []
    real = kg.export._stream_graph  # every read of one graph from the store goes through it

    def streamed(store: TrialStore, graph: str, out: BinaryIO) -> int:
        read.append(graph)
        return real(store, graph, out)

    monkeypatch.setattr(kg.export, "_stream_graph", streamed)
    return read


def test_cached_nquads_are_the_statements_of_the_store(store_dir: Path, tmp_path: Path, store_reads: list[str]) -> None:
    n_store = _export(store_dir, tmp_path / "store.nq", ExportFormat.nquads, workers=1, use_cache=False)
    n_cache = _export(store_dir, tmp_path / "cache.nq", ExportFormat.nquads, workers=1, use_cache=True)
    assert store_reads == []  # every graph came from the cache
    assert n_cache == n_store == len(ox.Store.read_only(str(store_dir)))
    # the same lines: ingest writes every literal in the form the store gives back
    # (decimals, durations such as "P1Y6M" for 18 months), so copying is not a
    # different export
    assert _lines(tmp_path / "cache.nq") == _lines(tmp_path / "store.nq")
    cache = NQuadsCache.for_reading(store_dir)
    assert cache is not None and len(cache) == len(TrialStore(store_dir, read_only=True).trial_graphs())


def test_selected_trials_and_chunks_from_the_cache(store_dir: Path, tmp_path: Path, store_reads: list[str]) -> None:
    ts = TrialStore(store_dir, read_only=True)
    nct = ts.trial_graphs()[0][0]
    quads = [q for n, g in ts.trial_graphs() if n == nct for q in ts.graph_quads(g)]  # every source of the trial
    one = io.BytesIO()
    assert export(ts, one, ExportFormat.nquads, nct_ids=[nct]) == len(quads)
    assert sorted(one.getvalue().splitlines()) == sorted(
        (ox.serialize(quads, None, ox.RdfFormat.N_QUADS) or b"").splitlines()
    )
    cached = export_chunks(ts, tmp_path / "cached", chunk_quads=300)
    read = export_chunks(ts, tmp_path / "read", chunk_quads=300, use_cache=False)
    assert store_reads == [g for _, g in ts.trial_graphs()]  # only the use_cache=False run read the store
    assert [n for _, n in cached] == [n for _, n in read] and len(cached) > 1
    for (a, _), (b, _) in zip(cached, read, strict=True):
        assert _lines(a) == _lines(b)


def test_a_stale_or_missing_row_is_read_from_the_store(tmp_path: Path, store_reads: list[str]) -> None:
    path = tmp_path / "store"
    ingest(TrialStore(path), [FIXTURES / "records"], workers=1)
    ts = TrialStore(path, read_only=True)
    graphs = [g for _, g in ts.trial_graphs()]
    expected = _export(path, tmp_path / "store.nq", ExportFormat.nquads, workers=1)
    store_reads.clear()
    cache = NQuadsCache.for_writing(path)
    bogus = Packer().pack(b"<urn:x:s> <urn:x:p> <urn:x:o> <urn:x:g> .\n")
    row = cache.get(graphs[0])
    assert row is not None
    cache.put([Row(graphs[0], row.stamp + "-older", 1, bogus)])  # a stamp the store does not hold
    with sqlite3.connect(path / FILE_NAME) as conn:
        conn.execute("DELETE FROM graphs WHERE graph = ?", (graphs[1],))  # a graph with no row
    cache.close()
    assert _export(path, tmp_path / "mixed.nq", ExportFormat.nquads, workers=1, use_cache=True) == expected
    assert store_reads == graphs[:2]
    assert b"urn:x:" not in (tmp_path / "mixed.nq").read_bytes()
    assert _lines(tmp_path / "mixed.nq") == _lines(tmp_path / "store.nq")


def test_reingesting_a_changed_source_replaces_its_row(tmp_path: Path, store_reads: list[str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    record = sorted((FIXTURES / "records" / "v2").glob("*.json"))[0]
    target = src / record.name
    target.write_bytes(record.read_bytes())
    path = tmp_path / "store"
    ingest(TrialStore(path), [src], workers=1)
    target.write_bytes(record.read_bytes().replace(b'"briefTitle": "', b'"briefTitle": "Revised: ', 1))
    report = ingest(TrialStore(path), [src], workers=1)
    assert report.trials_replaced == 1
    out = tmp_path / "out.nq"
    export(TrialStore(path, read_only=True), out, ExportFormat.nquads)
    assert store_reads == []
    assert b"Revised: " in out.read_bytes()
    assert _lines(out) == sorted(
        (ox.serialize(list(ox.Store.read_only(str(path))), None, ox.RdfFormat.N_QUADS) or b"").splitlines()
    )


def test_a_cache_that_cannot_be_written_costs_only_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_reads: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    def full(self: NQuadsCache, rows: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    normal = ingest(TrialStore(tmp_path / "normal"), [FIXTURES / "records"], workers=1)
    monkeypatch.setattr(kg.nquads_cache.NQuadsCache, "_insert", full)
    path = tmp_path / "store"
    report = ingest(TrialStore(path), [FIXTURES / "records"], workers=1)
    # the same trials stored, and no more errors than the fixtures' own bad files give
    assert (report.trials_added, len(report.errors)) == (normal.trials_added, len(normal.errors))
    assert "cannot write the N-Quads cache" in caplog.text
    n = _export(path, tmp_path / "out.nq", ExportFormat.nquads, workers=1, use_cache=True)
    assert n == len(ox.Store.read_only(str(path)))
    assert len(store_reads) == report.trials_added


def test_vocabulary_graphs_are_read_from_the_store(tmp_path: Path, store_reads: list[str]) -> None:
    path = tmp_path / "store"
    ts = TrialStore(path)
    import_paths(ts.store, [FIXTURES / "vocab" / "desc2024_mini.xml", FIXTURES / "vocab" / "cl_mini.obo"])
    ingest(ts, [FIXTURES / "records"], workers=1)
    del ts
    vocab_graphs = [g for g in TrialStore(path, read_only=True).named_graphs() if g.startswith(T.VOCAB_GRAPH_PREFIX)]
    assert len(vocab_graphs) >= 2  # the two imported, and the curated vocabulary that comes with them
    with_cache = tmp_path / "cache.nq"
    export(TrialStore(path, read_only=True), with_cache, ExportFormat.nquads, vocab=True)
    assert store_reads == vocab_graphs  # the trial graphs came from the cache
    without = tmp_path / "store.nq"
    export(TrialStore(path, read_only=True), without, ExportFormat.nquads, vocab=True, use_cache=False)
    assert _lines(with_cache) == _lines(without)
    assert len(_lines(with_cache)) == len(ox.Store.read_only(str(path)))
