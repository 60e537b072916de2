"""The machine a benchmark ran on, described the same way by every benchmark script.

The scripts run as ``python benchmarks/<name>.py``, which puts this directory on
``sys.path``, so they import it as ``from _machine import ...``.
"""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import kg


def _proc_value(path: str, key: str) -> str | None:
    """The value of the first ``key: value`` line of a /proc file (None if absent or unreadable)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    """The load average now, as ``"0.52 0.61 0.70 (1/5/15 min)"`` ("unknown" where the OS has none)."""
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)"


def describe(*libraries: str) -> dict[str, str]:
    """CPU, usable cores, RAM, OS, Python, the version of each of ``libraries`` (distribution
    names), trialkg's version and the load average now, in that order."""
    memory = _proc_value("/proc/meminfo", "MemTotal")  # "24575684 kB"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": _proc_value("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "usable cores": str(cores),
        "RAM": f"{int(memory.split()[0]) / 1024**2:.1f} GiB" if memory else "unknown",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        **{name: _version(name) for name in libraries},
        "trialkg": kg.__version__,
        "load average": load_average(),
    }


def markdown(info: dict[str, str]) -> str:
    """``info`` as a Markdown bullet list, one ``- key: value`` line per entry."""
    return "\n".join(f"- {key}: {value}" for key, value in info.items())
