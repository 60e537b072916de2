"""Real SPARQL servers for tests, started on free loopback ports in temporary directories.

* :class:`OxigraphServer`: ``oxigraph serve`` from the PyPI package ``oxigraph``
  (the ``test`` extra).
* :class:`VirtuosoServer`: ``virtuoso-t`` from the Debian package
  ``virtuoso-opensource`` with a generated ``virtuoso.ini`` (HTTP and SQL ports on
  127.0.0.1, user ``dba`` / password ``dba``).
* :class:`Proxy`: a small HTTP reverse proxy in front of a server that can demand
  Basic credentials, record every request and answer the next few with an error.

Session fixtures built on these live in the test modules that use them; import the
fixture functions below into a test module to use them there.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server not ready after {timeout}s:\n{_tail(log)}")


def _stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# --------------------------------------------------------------------------
# Oxigraph


def oxigraph_binary() -> str | None:
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.exists():
        return str(beside)
    return shutil.which("oxigraph")


class OxigraphServer:
    def __init__(self, location: Path, port: int | None = None) -> None:
        binary = oxigraph_binary()
        if binary is None:
            raise RuntimeError("the oxigraph command is not installed (pip install oxigraph)")
        self.binary = binary
        self.location = location
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = location.parent / f"{location.name}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def query(self) -> str:
        return self.base + "/query"

    @property
    def update(self) -> str:
        return self.base + "/update"

    @property
    def store(self) -> str:
        return self.base + "/store"

    def start(self, timeout: float = 30.0) -> OxigraphServer:
        self.location.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        _wait_ready(self.query + "?query=ASK%7B%7D", self.proc, self.log, timeout)
        return self

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no chance to flush or say goodbye."""
        _stop(self.proc, signal.SIGKILL)
        self.proc = None

    def __enter__(self) -> OxigraphServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------
# Virtuoso

VIRTUOSO_BINARY = "virtuoso-t"
VIRTUOSO_MISSING = (
    "virtuoso-t is not on PATH: install the Debian package virtuoso-opensource "
    "(apt-get install virtuoso-opensource; .ci/run does this)"
)

_VIRTUOSO_INI = """\
[Database]
DatabaseFile       = {d}/virtuoso.db
ErrorLogFile       = {d}/virtuoso.log
LockFile           = {d}/virtuoso.lck
TransactionFile    = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {d}/virtuoso-temp.db
TransactionFile    = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort         = 127.0.0.1:{sql}
DisableUnixSocket  = 1
CheckpointInterval = 60
CaseMode           = 2
DirsAllowed        = ., {d}
NumberOfBuffers    = 20000
MaxDirtyBuffers    = 15000
ThreadsPerQuery    = 2

[HTTPServer]
ServerPort            = 127.0.0.1:{http}
ServerRoot            = {d}/www
ServerThreads         = 10
MaxClientConnections  = 10
MaxKeepAlives         = 10
KeepAliveTimeout      = 10
Charset               = UTF-8

[SPARQL]
ResultSetMaxRows           = 1000000
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime      = 120
"""


def virtuoso_binary() -> str | None:
    return shutil.which(VIRTUOSO_BINARY)


class VirtuosoServer:
    user = "dba"
    password = "dba"

    def __init__(self, directory: Path, http_port: int | None = None, sql_port: int | None = None) -> None:
        binary = virtuoso_binary()
        if binary is None:
            raise RuntimeError(VIRTUOSO_MISSING)
        self.binary = binary
        self.directory = directory
        self.http_port = http_port or free_port()
        self.sql_port = sql_port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = directory / "stdout.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql(self) -> str:
        """Anonymous, read-only SPARQL endpoint."""
        return self.base + "/sparql"

    @property
    def sparql_auth(self) -> str:
        """SPARQL query and update with Digest authentication."""
        return self.base + "/sparql-auth"

    @property
    def graph_store(self) -> str:
        """SPARQL 1.1 Graph Store HTTP Protocol with Digest authentication."""
        return self.base + "/sparql-graph-crud-auth"

    def start(self, timeout: float = 90.0) -> VirtuosoServer:
        (self.directory / "www").mkdir(parents=True, exist_ok=True)
        ini = self.directory / "virtuoso.ini"
        ini.write_text(_VIRTUOSO_INI.format(d=self.directory, sql=self.sql_port, http=self.http_port), encoding="utf-8")
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [self.binary, "+foreground", "+configfile", str(ini)],
                cwd=self.directory,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        _wait_ready(self.sparql + "?query=ASK%7B%7D", self.proc, self.log, timeout)
        return self

    def stop(self) -> None:
        _stop(self.proc, signal.SIGTERM, timeout=60)
        self.proc = None

    def kill(self) -> None:
        _stop(self.proc, signal.SIGKILL)
        self.proc = None


# --------------------------------------------------------------------------
# A reverse proxy that checks credentials, records requests and injects failures

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


@dataclass
class Seen:
    method: str
    path: str
    status: int


class Proxy:
    """``Proxy(upstream_port, user=..., password=...)``: demands Basic credentials when a
    user is set (HTTP 401 with a Basic challenge otherwise) and forwards the rest.

    ``seen`` lists every request (method, path with query, status answered);
    ``fail_next`` lists answers (a status, or a status and a body) to give instead of
    forwarding, one per request, to the next requests that would write (PUT, POST, DELETE).
    """

    def __init__(self, upstream_port: int, *, user: str | None = None, password: str | None = None) -> None:
        self.upstream_port = upstream_port
        self.expected = (
            "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() if user is not None else None
        )
        self.seen: list[Seen] = []
        self.fail_next: list[int | tuple[int, bytes]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with proxy._lock:
                    proxy.seen.append(Seen(self.command, self.path, status))

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy.expected is not None and self.headers.get("Authorization") != proxy.expected:
                    self._answer(401, b"credentials required", {"WWW-Authenticate": 'Basic realm="trialkg test"'})
                    return
                if self.command in ("PUT", "POST", "DELETE"):
                    with proxy._lock:
                        fail = proxy.fail_next.pop(0) if proxy.fail_next else None
                    if fail is not None:
                        status, text = fail if isinstance(fail, tuple) else (fail, b"injected failure")
                        self._answer(status, text, {"Retry-After": "0"})
                        return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
                try:
                    headers = {
                        k: v
                        for k, v in self.headers.items()
                        if k.lower() not in _HOP_BY_HOP and k.lower() not in ("authorization", "host", "content-length")
                    }
                    headers["Content-Length"] = str(len(body))
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    out = {k: v for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP | {"content-length"}}
                    self._answer(resp.status, data, out)
                except OSError as exc:
                    self._answer(502, f"upstream error: {exc}".encode())
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, name="test-proxy", daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def writes(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.method in ("PUT", "POST", "DELETE") and not s.path.startswith("/query")]

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------
# Fixture building blocks


@contextlib.contextmanager
def running_oxigraph(location: Path) -> Iterator[OxigraphServer]:
    if oxigraph_binary() is None:
        pytest.skip("the oxigraph command is not installed: pip install -e '.[test]'")
    server = OxigraphServer(location).start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def running_virtuoso(directory: Path) -> Iterator[VirtuosoServer]:
    if virtuoso_binary() is None:
        pytest.skip(VIRTUOSO_MISSING)
    server = VirtuosoServer(directory).start()
    try:
        yield server
    finally:
        server.stop()
