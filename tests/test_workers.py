"""Workers end with the command that started them, even when it is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from kg.workers import die_with_parent

def pid(_):
    return os.getpid()

if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1])
    pool = ProcessPoolExecutor(2, mp_context=ctx, initializer=die_with_parent, initargs=(os.getpid(),))
    print(*sorted(set(pool.map(pid, range(40)))), flush=True)
    time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # not a zombie
    except FileNotFoundError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_workers_end_when_their_command_is_killed(method: str, tmp_path: Path) -> None:
    script = tmp_path / "command.py"  # a file: spawned workers import their task from it
    script.write_text(SCRIPT)
    cmd = subprocess.Popen([sys.executable, str(script), method], stdout=subprocess.PIPE, text=True)
    assert cmd.stdout is not None
    workers = [int(p) for p in cmd.stdout.readline().split()]
    assert workers and all(_alive(p) for p in workers)
    os.kill(cmd.pid, signal.SIGKILL)
    cmd.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers)
