"""One store, several processes: a command that reads refuses a store another process
is writing (Oxigraph's read-only open is undefined while a writer works), and a
writer waits for the readers. Each side runs in a process of its own."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.errors import StoreError
from kg.ingest import ingest
from kg.store import TrialStore
from tests.conftest import FIXTURES

V2_FIXTURE = FIXTURES / "records" / "v2" / "NCT09900101.json"
HOLD = """
import sys, time
from kg.store import TrialStore
store = TrialStore(sys.argv[1], read_only=sys.argv[2] == "read")
print("holding", flush=True)
time.sleep(float(sys.argv[3]))
"""


def _hold(path: Path, mode: str, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), mode, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    ingest(TrialStore(path), [V2_FIXTURE])
    return path


def test_readers_refuse_a_store_being_written(store_path: Path) -> None:
    writer = _hold(store_path, "write", 60)
    try:
        with pytest.raises(StoreError, match="being written by another trialkg command"):
            TrialStore(store_path, read_only=True)
        shown = CliRunner().invoke(app, ["show", "NCT09900101", "--store", str(store_path)])
        assert shown.exit_code != 0
        assert "being written by another trialkg command" in shown.output
        assert "Traceback" not in shown.output
    finally:
        writer.kill()
        writer.wait()
    assert TrialStore(store_path, read_only=True).trial_graphs() != []


def test_readers_share_and_a_writer_waits_for_them(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readers = [_hold(store_path, "read", 1.5) for _ in range(2)]
    started = time.monotonic()
    TrialStore(store_path)  # waits until both readers have gone
    waited = time.monotonic() - started
    assert all(r.wait() == 0 for r in readers)
    assert waited > 0.5
    assert "waiting for the other trialkg commands using the store" in capsys.readouterr().err


def test_one_process_may_open_its_store_twice(store_path: Path) -> None:
    writer = TrialStore(store_path)
    reader = TrialStore(store_path, read_only=True)  # the process already holds the lock
    assert [g for _, g in reader.trial_graphs()] == [g for _, g in writer.trial_graphs()]
