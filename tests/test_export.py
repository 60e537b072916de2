"""Export with worker processes gives what one process gives: the same bytes for the
line formats, the same statements (and one prefix block) for Turtle and TriG."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.export
from kg.export import ExportFormat, export
from kg.ingest import ingest
from kg.store import TrialStore
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


def _export(store_dir: Path, out: Path, fmt: ExportFormat, workers: int) -> int:
    return export(TrialStore(store_dir, read_only=True), out, fmt, workers=workers)


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
    n = export(TrialStore(store_dir, read_only=True), stream, ExportFormat.nquads, workers=2)
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
