"""HTTP access to a remote SPARQL store: credentials, retries, queries, graph counts.

One :class:`SparqlHttp` holds one ``httpx.Client`` (connections are kept alive and
shared by the threads of a load). Every request is retried with exponential backoff
on transient failures (connection refused or reset, timeouts, HTTP 429 and 5xx);
HTTP 401 and 403 raise :class:`~kg.errors.AuthenticationError` at once, without retries.

Credentials never appear in a message, a log record or a ``repr``: URLs are shown
without their user-info part and :class:`Credentials` hides the password. Basic or
Digest authentication is chosen from the server's challenge (Virtuoso's
``/sparql-auth`` and ``/sparql-graph-crud-auth`` ask for Digest; a reverse proxy in
front of Oxigraph usually asks for Basic).
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from kg import __version__
from kg.errors import AuthenticationError, LoadError

log = logging.getLogger(__name__)

USER_ENV = "TRIALKG_ENDPOINT_USER"
PASSWORD_ENV = "TRIALKG_ENDPOINT_PASSWORD"

#: HTTP statuses worth another try: rate limiting and server-side trouble.
#: 501 (not implemented) and 505 (HTTP version) will not get better by waiting.
_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 507, 509})

#: Virtuoso answers HTTP 500 for every SQL error. Only these SQLSTATE classes are
#: worth another try: transaction rollback (40001 deadlock), connection failures
#: (08...), timeouts (S1T00, HYT00); others (22023 bad literal, 37000 syntax, ...) are not.
_VIRTUOSO_ERROR = re.compile(r"Virtuoso (\w{5}) Error")
_VIRTUOSO_TRANSIENT = ("40", "08", "S1T", "HYT")


@dataclass(frozen=True)
class Credentials:
    """A user name and password for the remote store; the password is never shown."""

    user: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, password='***')"

    __str__ = __repr__


def credentials_from_env(
    user: str | None = None,
    password_env: str = PASSWORD_ENV,
    environ: Mapping[str, str] | None = None,
) -> Credentials | None:
    """Credentials from ``user`` (or ``$TRIALKG_ENDPOINT_USER``) and the password in the
    environment variable ``password_env``; ``None`` when neither is set."""
    env = os.environ if environ is None else environ
    user = user or env.get(USER_ENV) or None
    password = env.get(password_env)
    if user is None and password is None:
        return None
    if user is None:
        raise LoadError(f"${password_env} is set but no user name is given: pass --user or set ${USER_ENV}")
    if password is None:
        raise LoadError(f"no password for user {user!r}: put it in the environment variable ${password_env}")
    return Credentials(user, password)


def split_userinfo(url: str) -> tuple[str, Credentials | None]:
    """``http://u:p@host/x`` -> (``http://host/x``, Credentials(u, p)); other URLs unchanged."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise LoadError(f"invalid endpoint URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise LoadError(f"not an http(s) URL: {safe_url(url)}")
    if not parsed.userinfo:
        return url, None
    creds = Credentials(parsed.username, parsed.password) if parsed.username else None
    return str(parsed.copy_with(username=None, password=None)), creds


def safe_url(url: str) -> str:
    """The URL without user name and password, for messages."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid URL>"
    return str(parsed.copy_with(username=None, password=None)) if parsed.userinfo else url


class _ChallengeAuth(httpx.Auth):
    """Basic or Digest, whichever the server asks for in its first 401 challenge.

    Until the scheme is known a request goes out without credentials; once the server
    has said which scheme it wants, Basic is sent up front and Digest reuses the last
    challenge (httpx's ``DigestAuth``), so later requests need one round trip.
    """

    def __init__(self, creds: Credentials) -> None:
        self._basic = httpx.BasicAuth(creds.user, creds.password)
        self._digest = httpx.DigestAuth(creds.user, creds.password)
        self._scheme: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} scheme={self._scheme}>"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._scheme == "basic":
            yield from self._basic.auth_flow(request)
            return
        if self._scheme == "digest":
            with self._lock:  # httpx's DigestAuth counts nonces in shared state
                flow = self._digest.auth_flow(request)
                first = next(flow)
            response = yield first
            try:
                with self._lock:
                    retry = flow.send(response)
            except StopIteration:
                return
            yield retry
            return
        response = yield request
        if response.status_code != 401:
            return
        challenges = [h.strip().lower() for h in response.headers.get_list("www-authenticate")]
        if any(c.startswith("digest") for c in challenges):
            self._scheme = "digest"
            with self._lock:
                flow = self._digest.auth_flow(request)
                next(flow)  # the unauthenticated request, already answered by `response`
                try:
                    retry = flow.send(response)
                except StopIteration:  # pragma: no cover - httpx answers a digest challenge
                    return
            yield retry
        elif any(c.startswith("basic") for c in challenges) or not challenges:
            self._scheme = "basic"
            yield from self._basic.auth_flow(request)


class SparqlHttp:
    """A keep-alive HTTP client for SPARQL endpoints, with retries.

    ``requests`` and ``retries`` count every HTTP exchange this client made and
    every retry after a transient failure (thread-safe).
    """

    def __init__(
        self,
        auth: Credentials | None = None,
        *,
        timeout: float = 300.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        connections: int = 4,
    ) -> None:
        self.auth = auth
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.requests = 0
        self.retried = 0
        self._count_lock = threading.Lock()
        self._http = httpx.Client(
            auth=_ChallengeAuth(auth) if auth is not None else None,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"User-Agent": f"trialkg/{__version__}"},
            follow_redirects=False,
        )

    def __enter__(self) -> SparqlHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _count(self, retried: bool) -> None:
        with self._count_lock:
            self.requests += 1
            if retried:
                self.retried += 1

    def request(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request, retrying transient failures; ``what`` names it in messages."""
        shown = safe_url(url)
        attempts = self.retries + 1
        for attempt in range(attempts):
            self._count(attempt > 0)
            wait_at_least = 0.0
            try:
                response = self._http.request(method, url, params=params, content=content, data=data, headers=headers)
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.UnsupportedProtocol):
                    raise LoadError(f"{what}: {shown}: {exc}") from None
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                status = response.status_code
                if status in (401, 403):
                    raise AuthenticationError(self._auth_message(status, shown, what))
                if response.is_success:
                    return response
                body = _excerpt(response)
                if status not in _TRANSIENT_STATUS or _permanent_server_error(body):
                    raise LoadError(f"{what}: {shown} answered HTTP {status}{body}")
                problem = f"HTTP {status}{body}"
                wait_at_least = _retry_after(response)
            if attempt + 1 == attempts:
                raise LoadError(f"{what}: {shown}: giving up after {attempts} attempt(s): {problem}")
            delay = min(self.max_backoff, self.backoff * 2**attempt)
            delay = max(wait_at_least, delay * random.uniform(0.75, 1.25))  # jitter
            log.warning(
                "%s: %s: %s; retrying in %.1fs (attempt %d of %d)", what, shown, problem, delay, attempt + 2, attempts
            )
            time.sleep(min(delay, self.max_backoff))
        raise AssertionError("unreachable")  # pragma: no cover

    def _auth_message(self, status: int, shown: str, what: str) -> str:
        if status == 403:
            who = f"user {self.auth.user!r}" if self.auth else "an anonymous client"
            return f"{what}: {shown} answered HTTP 403: {who} may not do this (check the user's write permissions)"
        if self.auth is None:
            return (
                f"{what}: {shown} answered HTTP 401: the endpoint wants credentials: "
                f"pass --user (or set ${USER_ENV}) and put the password in ${PASSWORD_ENV}"
            )
        return f"{what}: {shown} answered HTTP 401: it refused the credentials of user {self.auth.user!r}"

    # -- SPARQL protocol ----------------------------------------------------

    def select(self, endpoint: str, query: str, what: str = "SPARQL query") -> list[dict[str, Any]]:
        """Run a SELECT query (POST, URL-encoded); the JSON result bindings."""
        r = self.request(
            "POST",
            endpoint,
            what,
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        try:
            doc = r.json()
            return list(doc["results"]["bindings"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LoadError(f"{what}: {safe_url(endpoint)} did not return SPARQL JSON results: {exc}") from None

    def update(self, endpoint: str, text: str | bytes, what: str = "SPARQL update") -> None:
        """Run a SPARQL update (POST, ``application/sparql-update``, UTF-8)."""
        body = text.encode("utf-8") if isinstance(text, str) else text
        self.request(
            "POST",
            endpoint,
            what,
            content=body,
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
        )

    def graph_counts(self, endpoint: str, graphs: Iterable[str], *, chunk: int = 200) -> dict[str, int]:
        """Triples per named graph at ``endpoint``, for the given graphs; absent graphs are left out."""
        wanted = list(graphs)
        out: dict[str, int] = {}
        for i in range(0, len(wanted), chunk):
            values = " ".join(f"<{g}>" for g in wanted[i : i + chunk])
            rows = self.select(
                endpoint,
                f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g",
                "counting triples per graph",
            )
            out.update(_count_rows(rows))
        return out

    def all_graph_counts(self, endpoint: str, prefix: str, *, page_size: int | None = None) -> dict[str, int]:
        """Triples per named graph whose IRI starts with ``prefix``.

        The prefix test is a ``HAVING`` on the groups, not a ``FILTER`` on every quad
        (several times faster). First the number of such graphs is asked, then all their
        counts in one query; a server that caps result sizes (Virtuoso's
        ``ResultSetMaxRows``, 10000 in its default configuration) answers with fewer
        rows, and the counts are then read in pages of that many graphs, by graph IRI
        (never with OFFSET, which such servers also cap). ``page_size`` pages from the start.
        """
        having = f"STRSTARTS(STR(?g), {_string(prefix)})"
        if page_size is None:
            total = self.select(
                endpoint,
                "SELECT (COUNT(*) AS ?k) WHERE { { SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } "
                f"GROUP BY ?g HAVING ({having}) }} }}",
                "counting graphs",
            )
            try:
                expected = int(total[0]["k"]["value"])
            except (IndexError, KeyError, TypeError, ValueError) as exc:
                raise LoadError(f"unexpected answer to a graph count: {total!r} ({exc})") from None
            rows = self.select(
                endpoint,
                f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g HAVING ({having})",
                "counting triples per graph",
            )
            out = _count_rows(rows)
            if len(out) >= expected:
                return out
            log.info("%s gave %d of %d graphs: reading them in pages", safe_url(endpoint), len(out), expected)
            page_size = len(out) or 10000  # what the server gave is its cap
        out = {}
        after = ""
        while True:
            rows = self.select(
                endpoint,
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                f"GROUP BY ?g HAVING ({having} && STR(?g) > {_string(after)}) "
                f"ORDER BY (STR(?g)) LIMIT {page_size}",
                "counting triples per graph",
            )
            page = _count_rows(rows)
            out.update(page)
            if len(page) < page_size:
                return out
            after = max(page)


def _count_rows(rows: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        try:
            out[row["g"]["value"]] = int(row["n"]["value"])
        except (KeyError, TypeError, ValueError) as exc:
            raise LoadError(f"unexpected row in graph counts: {row!r} ({exc})") from None
    return out


def _string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _excerpt(response: httpx.Response, limit: int = 300) -> str:
    try:
        text = " ".join(response.text.split())
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    if not text:
        return ""
    return ": " + (text if len(text) <= limit else text[:limit] + "...")


def _permanent_server_error(body: str) -> bool:
    m = _VIRTUOSO_ERROR.search(body[:200])
    return m is not None and not m.group(1).startswith(_VIRTUOSO_TRANSIENT)


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0
