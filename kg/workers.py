"""Worker processes that end with the command that started them.

``ingest -j``, ``export -j`` and ``validate -w`` (pyshacl) map, read or validate in
worker processes. A command killed outright (SIGKILL, the out-of-memory killer) runs
no clean-up, and its workers would go on as orphans holding memory. Each worker
therefore asks the kernel (Linux ``PR_SET_PDEATHSIG``) to end it when its parent
dies; elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Pool initializer: end this process when its parent dies. ``parent`` is the
    parent's pid as the pool's creator saw it: when it is already gone (it died while
    this worker started), end now."""
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)
