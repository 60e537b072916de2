"""``trialkg load`` / ``trialkg verify`` against a real Oxigraph server.

Expected contents always come from the embedded store (read with pyoxigraph) or
the server itself (its N-Quads dump via ``GET /store``), never from the loader's
own report. Servers run on free loopback ports in temporary directories; a small
proxy (tests/servers.py) demands credentials, records requests or injects failures.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import shutil
import sqlite3
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pyoxigraph as ox
import pytest
import typer
from typer.testing import CliRunner

import kg.load
from kg import terms as T
from kg.cli.load import register
from kg.errors import AuthenticationError, LoadError
from kg.ingest import ingest
from kg.linking import Linker
from kg.load import Journal, LoadMode, _dump, _from_cache, _lines_chunks, load, verify
from kg.nquads_cache import FILE_NAME, NQuadsCache, Packer, Row, Unpacker
from kg.remote import Credentials, SparqlHttp, credentials_from_env, safe_url, split_userinfo
from kg.resources import queries_dir
from kg.store import TrialStore
from kg.vocab import import_paths
from tests.load_support import OPTIONS, make_store, nct, record, store_dataset, write_records
from tests.servers import OxigraphServer, Proxy, free_port, running_oxigraph


def server_dataset(server: OxigraphServer) -> dict[str, set[str]]:
    """Per named graph, its triples, from the server's own N-Quads dump."""
    r = httpx.get(server.store, headers={"Accept": "application/n-quads"}, timeout=120)
    r.raise_for_status()
    out: dict[str, set[str]] = defaultdict(set)
    for q in ox.parse(r.content, format=ox.RdfFormat.N_QUADS):
        if isinstance(q.graph_name, ox.NamedNode):
            out[q.graph_name.value].add(str(ox.Triple(q.subject, q.predicate, q.object)))
    return dict(out)


def trialkg_graphs(dataset: dict[str, set[str]]) -> dict[str, set[str]]:
    return {g: t for g, t in dataset.items() if g.startswith(T.GRAPH_PREFIX)}


def sparql_update(server: OxigraphServer, text: str) -> None:
    httpx.post(
        server.update, content=text.encode(), headers={"Content-Type": "application/sparql-update"}
    ).raise_for_status()


def gsp_puts(proxy: Proxy) -> list[str]:
    """Graph IRIs the proxy saw PUT."""
    return [parse_qs(urlsplit(s.path).query)["graph"][0] for s in proxy.writes() if s.method == "PUT"]


def load_to(ts: TrialStore, server: OxigraphServer | Proxy, **kwargs: object):  # type: ignore[no-untyped-def]
    base = server.base
    kwargs.setdefault("retries", 1)
    kwargs.setdefault("backoff", 0.01)
    return load(ts, base + "/query", graph_store=base + "/store", update_endpoint=base + "/update", **kwargs)  # type: ignore[arg-type]


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


# --------------------------------------------------------------------------
# Without a server


def test_credentials_are_never_shown() -> None:
    c = Credentials("alice", "s3cret-pw")
    assert "s3cret-pw" not in repr(c) and "s3cret-pw" not in str(c) and "alice" in repr(c)
    url, creds = split_userinfo("http://alice:s3cret-pw@localhost:7878/query")
    assert url == "http://localhost:7878/query" and creds == c
    assert safe_url("http://alice:s3cret-pw@localhost:7878/query") == "http://localhost:7878/query"
    assert credentials_from_env(environ={}) is None
    assert credentials_from_env("bob", "PW", environ={"PW": "x"}) == Credentials("bob", "x")
    assert credentials_from_env(environ={"TRIALKG_ENDPOINT_USER": "u", "TRIALKG_ENDPOINT_PASSWORD": "p"}) == (
        Credentials("u", "p")
    )
    with pytest.raises(LoadError, match="no password"):
        credentials_from_env("bob", "PW", environ={})
    with pytest.raises(LoadError, match="no user"):
        credentials_from_env(None, "PW", environ={"PW": "x"})
    with pytest.raises(LoadError, match="not an http"):
        split_userinfo("ftp://host/x")


def test_bodies_are_cut_at_line_ends() -> None:
    body = b"".join(b'<s> <p> "%d" .\n' % i for i in range(1000))
    pieces = list(_lines_chunks(body, 100))
    assert b"".join(pieces) == body
    assert all(p.endswith(b"\n") and len(p) <= 100 for p in pieces)
    long_line = b'<s> <p> "' + b"x" * 500 + b'" .\n'
    assert list(_lines_chunks(b"<a> <b> <c> .\n" + long_line, 100)) == [b"<a> <b> <c> .\n", long_line]


def test_a_cached_graph_is_the_stored_graph_with_the_same_checksum(tmp_path: Path) -> None:
    ts = make_store(tmp_path, 5)
    cache = NQuadsCache.for_reading(ts.path)  # type: ignore[arg-type]
    assert cache is not None
    for _, g in ts.trial_graphs():
        row = cache.get(g)
        assert row is not None
        cached, stored = _from_cache(row, Unpacker()), _dump(ts, g)
        # N-Triples of the graph's own statements, in another order
        assert b" <%s> ." % g.encode() not in cached.ntriples
        assert sorted(cached.ntriples.splitlines()) == sorted(stored.ntriples.splitlines())
        assert cached.triples == stored.triples == len(store_dataset(ts, [g])[g])
        assert cached.sha256 == stored.sha256  # what the journal keeps does not depend on the source


def test_journal_ignores_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"graph": "http://g/1", "sha256": "aa"}\n{"graph": "http://g/2", "sha2', encoding="utf-8")
    assert Journal(path).entries == {"http://g/1": "aa"}


def test_an_unwritable_journal_only_costs_a_resend(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    journal = Journal(blocker / "load-journal" / "j.jsonl")
    with caplog.at_level(logging.WARNING, logger="kg.load"):
        journal.record([("http://g/1", "aa")])
        journal.close(compact=True)
    assert journal.path is None and "cannot write the load journal" in caplog.text


def test_bad_options_fail_before_anything_is_sent(tmp_path: Path) -> None:
    ts = make_store(tmp_path, 2)
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(LoadError, match="--batch applies to the update and quads modes"):
        load(ts, closed + "/query", batch=10, mode=LoadMode.gsp)
    with pytest.raises(LoadError, match="not in the store: NCT00000001"):
        load(ts, closed + "/query", nct_ids=["NCT00000001", nct(0)])
    with pytest.raises(LoadError, match="unknown mode"):
        load(ts, closed + "/query", mode="bulk")
    with pytest.raises(LoadError, match="--bulk applies to the quads mode"):
        load(ts, closed + "/query", mode="update", bulk=True)
    path = ts.path
    ts.flush()
    del ts  # the command opens the store itself; a second handle on a live store is not reliable
    result = CliRunner().invoke(cli(), ["load", "--endpoint", closed, "--batch", "5", "--store", str(path)])
    assert result.exit_code == 2 and "--batch applies" in result.output


def test_unreachable_server_is_a_load_error_after_retries(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ts = make_store(tmp_path, 1)
    closed = f"http://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING, logger="kg.remote"), pytest.raises(LoadError, match="giving up after 3"):
        load(ts, closed + "/query", graph_store=closed + "/store", retries=2, backoff=0.01)
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 2


# --------------------------------------------------------------------------
# The corpus, loaded once per session (through a recording proxy)


@pytest.fixture(scope="session")
def corpus_store(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TrialStore:
    """The API v2 JSON corpus, linked to trialkg's curated vocabulary (small and bundled,
    so that vocabulary graphs and links are part of what is loaded)."""
    src = corpus_dir / "ctgov-v2-json"
    if not src.is_dir():
        pytest.skip(f"no API v2 JSON folder in the corpus at {src}")
    ts = TrialStore(tmp_path_factory.mktemp("corpus") / "store")
    import_paths(ts.store, [])  # the curated vocabulary only
    report = ingest(ts, [src], linker=Linker.from_store(ts.store), options=OPTIONS)
    assert report.trials_added == len(list(src.glob("*.json"))) and not report.errors
    return ts


def all_graphs(ts: TrialStore) -> list[str]:
    return [g for _, g in ts.trial_graphs()] + [g for g in ts.named_graphs() if g.startswith(T.VOCAB_GRAPH_PREFIX)]


@pytest.fixture(scope="session")
def oxigraph_corpus(corpus_store: TrialStore, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with running_oxigraph(tmp_path_factory.mktemp("oxigraph") / "data") as server, Proxy(server.port) as proxy:
        load_to(corpus_store, proxy, workers=2, vocab=True)
        yield server, proxy


@pytest.mark.server
def test_corpus_loads_completely(corpus_dir: Path, corpus_store: TrialStore, oxigraph_corpus) -> None:  # type: ignore[no-untyped-def]
    server, _ = oxigraph_corpus
    graphs = all_graphs(corpus_store)
    assert len(graphs) == len(list((corpus_dir / "ctgov-v2-json").glob("*.json"))) + 1  # a graph per file, + curated
    expected = store_dataset(corpus_store, graphs)
    actual = trialkg_graphs(server_dataset(server))
    assert actual.keys() == expected.keys()
    for g, triples in expected.items():
        assert actual[g] == triples, g
    report = verify(corpus_store, server.query, vocab=True)
    assert report.equal and report.graphs_at_endpoint == len(expected)
    assert report.triples_at_endpoint == sum(len(t) for t in expected.values()) == len(corpus_store)


def _rows(result: tuple[list[str], list[dict]]) -> tuple[list[str], list[tuple]]:
    variables, rows = result
    return variables, sorted((tuple(r.get(v) for v in variables) for r in rows), key=repr)


@pytest.mark.server
def test_saved_queries_agree(corpus_store: TrialStore, oxigraph_corpus) -> None:  # type: ignore[no-untyped-def]
    """Every saved query (with its example parameters) and every quality check gives
    the same rows on the server as on the embedded store."""
    queries = pytest.importorskip("kg.queries", reason="the saved-query catalogue (kg/queries.py) is not here")
    server, _ = oxigraph_corpus
    catalogue = queries.list_queries()
    assert catalogue
    # each query with its example parameters, and the label lookup with a label the
    # curated vocabulary has (read from the store)
    label = next(iter(corpus_store.store.quads_for_pattern(None, T.SKOS_PREF_LABEL, None, None))).object.value
    runs = [(q.name, {p.name: p.example for p in q.params if p.example is not None}) for q in catalogue]
    runs.append((queries.LABEL_QUERY, {"label": label.upper()}))
    non_empty = 0
    for name, params in runs:
        here = _rows(queries.run_query(name, params, store=corpus_store))
        there = _rows(queries.run_query(name, params, endpoint=server.query))
        assert there == here, (name, params)
        non_empty += bool(here[1])
    assert non_empty, "every saved query returned no rows: the comparison proved nothing"
    checks = sorted((queries_dir() / "qc").glob("*.rq"))
    assert checks
    with SparqlHttp() as http:
        for path in checks:
            text = path.read_text(encoding="utf-8")
            result = corpus_store.store.query(text)
            assert isinstance(result, ox.QuerySolutions)
            variables = [v.value for v in result.variables]
            here = sorted((tuple(None if s[v] is None else str(s[v]) for v in variables) for s in result), key=repr)
            there = sorted((tuple(_nt(b.get(v)) for v in variables) for b in http.select(server.query, text)), key=repr)
            assert there == here, path.name


def _nt(binding: dict | None) -> str | None:
    """A SPARQL JSON binding in N-Triples form (as pyoxigraph's ``str()`` of a term)."""
    if binding is None:
        return None
    value, kind = binding["value"], binding["type"]
    if kind == "uri":
        return str(ox.NamedNode(value))
    if kind == "bnode":
        return "_:" + value
    if "xml:lang" in binding:
        return str(ox.Literal(value, language=binding["xml:lang"]))
    if "datatype" in binding:
        return str(ox.Literal(value, datatype=ox.NamedNode(binding["datatype"])))
    return str(ox.Literal(value))


@pytest.mark.server
def test_reload_changes_nothing(corpus_store: TrialStore, oxigraph_corpus) -> None:  # type: ignore[no-untyped-def]
    server, proxy = oxigraph_corpus
    before = server_dataset(server)
    proxy.seen.clear()
    load_to(corpus_store, proxy, vocab=True)
    assert proxy.writes() == []  # every graph was confirmed and is still there: nothing sent
    assert server_dataset(server) == before
    some = [n for n, _ in corpus_store.trial_graphs()][::10]
    load_to(corpus_store, proxy, force=True, nct_ids=some)  # sent again: PUT replaces, so still one copy each
    assert sorted(gsp_puts(proxy)) == sorted(g for _, g in corpus_store.trial_graphs(some))
    assert server_dataset(server) == before


@pytest.mark.server
def test_verify_pages_through_graphs(
    corpus_store: TrialStore, oxigraph_corpus, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    server, _ = oxigraph_corpus
    some = [n for n, _ in corpus_store.trial_graphs()][:5]
    paged = verify(corpus_store, server.query, page_size=150, vocab=True)
    assert paged.equal and paged.graphs_at_endpoint == len(all_graphs(corpus_store))
    # a server that answers at most 100 rows (as Virtuoso with ResultSetMaxRows = 100)
    real_select = SparqlHttp.select

    def capped(self: SparqlHttp, endpoint: str, query: str, what: str = "") -> list[dict]:
        return real_select(self, endpoint, query, what)[:100]

    monkeypatch.setattr(SparqlHttp, "select", capped)
    capped_report = verify(corpus_store, server.query, vocab=True)
    assert capped_report.equal and capped_report.graphs_at_endpoint == len(all_graphs(corpus_store))
    monkeypatch.undo()
    subset = verify(corpus_store, server.query, nct_ids=some)
    assert subset.equal and subset.graphs_at_endpoint == len(corpus_store.trial_graphs(some))


# --------------------------------------------------------------------------
# Hand-written records, a fresh server per test


@pytest.fixture
def oxigraph(tmp_path: Path):  # type: ignore[no-untyped-def]
    with running_oxigraph(tmp_path / "oxigraph") as server:
        yield server


@pytest.mark.server
@pytest.mark.parametrize(("mode", "bulk"), [(LoadMode.update, False), (LoadMode.quads, False), (LoadMode.quads, True)])
def test_update_and_quads_modes(tmp_path: Path, oxigraph: OxigraphServer, mode: LoadMode, bulk: bool) -> None:
    ts = make_store(tmp_path, 7)
    # stale content at the server must be replaced, not added to
    g0 = ts.trial_graphs([nct(0)])[0][1]
    sparql_update(oxigraph, f"INSERT DATA {{ GRAPH <{g0}> {{ <http://example.org/stale> <http://example.org/p> 1 }} }}")
    load_to(ts, oxigraph, mode=mode, bulk=bulk, batch=3, max_request_bytes=4000)  # several graphs/request, cut
    assert trialkg_graphs(server_dataset(oxigraph)) == store_dataset(ts)


@pytest.mark.server
def test_changed_trial_replaces_only_its_graphs(tmp_path: Path, oxigraph: OxigraphServer) -> None:
    src = tmp_path / "records"
    paths = write_records(src, 6)
    # trial 3 also comes from a second file: two graphs for one trial
    second = src / "copy-of-3.json"
    shutil.copy(paths[3], second)
    ts = TrialStore(tmp_path / "store")
    ingest(ts, [src], options=OPTIONS)
    graphs_of_3 = [g for _, g in ts.trial_graphs([nct(3)])]
    assert len(graphs_of_3) == 2
    with Proxy(oxigraph.port) as proxy:
        load_to(ts, proxy)
        before = server_dataset(oxigraph)
        # the record in one file changes; ingest replaces that graph in the store
        changed = copy.deepcopy(record(nct(3), 3, title="A new title for trial 3"))
        second.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
        assert ingest(ts, [src], options=OPTIONS).trials_replaced == 1
        changed_graph = next(g for g in graphs_of_3 if any("A new title" in t for t in store_dataset(ts, [g])[g]))
        proxy.seen.clear()
        load_to(ts, proxy)
        assert gsp_puts(proxy) == [changed_graph]
    after = server_dataset(oxigraph)
    assert after[changed_graph] == store_dataset(ts, [changed_graph])[changed_graph] != before[changed_graph]
    assert {g: t for g, t in after.items() if g != changed_graph} == {
        g: t for g, t in before.items() if g != changed_graph
    }


@pytest.mark.server
@pytest.mark.parametrize(
    "how", [{"mode": LoadMode.gsp}, {"mode": LoadMode.quads, "batch": 4, "bulk": True}], ids=["gsp", "quads-bulk"]
)
def test_killed_server_then_rerun_completes(tmp_path: Path, how: dict) -> None:
    ts = make_store(tmp_path, 40)
    expected = store_dataset(ts)
    server = OxigraphServer(tmp_path / "oxigraph").start()
    try:
        seen: list[int] = []

        def kill_after_ten(done: int, total: int) -> None:
            seen.append(done)
            if done >= 10 and server.proc is not None:
                server.kill()

        with pytest.raises(LoadError, match="giving up"):
            load_to(ts, server, workers=2, progress=kill_after_ten, **how)
        assert seen and seen[-1] < len(expected)
        server.start()  # same directory, same port
        partial = trialkg_graphs(server_dataset(server))
        assert 0 < len(partial) < len(expected)  # the kill really was mid-load
        if how["mode"] is LoadMode.gsp:
            assert all(partial[g] == expected[g] for g in partial)  # PUT never leaves half a graph
        report = load_to(ts, server, **how)
        assert report.graphs_skipped >= 10  # the journal spared the confirmed ones
        assert trialkg_graphs(server_dataset(server)) == expected
        assert verify(ts, server.query).equal
    finally:
        server.stop()


@pytest.fixture
def store_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Graphs the loader reads from the store (all others come from the N-Quads cache)."""
    read: list[str] = []
    real = kg.load._dump

    def dumped(store: TrialStore, graph: str):  # type: ignore[no-untyped-def]
        read.append(graph)
        return real(store, graph)

    monkeypatch.setattr(kg.load, "_dump", dumped)
    return read


@pytest.mark.server
def test_trial_graphs_come_from_the_nquads_cache(
    tmp_path: Path, oxigraph: OxigraphServer, store_reads: list[str]
) -> None:
    ts = make_store(tmp_path, 6)
    graphs = [g for _, g in ts.trial_graphs()]
    vocab = T.vocab_graph_iri("mesh")
    ts.store.add(ox.Quad(T.mesh_iri("D012859"), T.SKOS_PREF_LABEL, ox.Literal("Sjogren's Syndrome"), vocab))
    # one row stale (a stamp the store does not hold, bogus content), one missing
    cache = NQuadsCache.for_writing(ts.path)  # type: ignore[arg-type]
    row = cache.get(graphs[0])
    assert row is not None
    bogus = Packer().pack(f"<urn:x:s> <urn:x:p> <urn:x:o> <{graphs[0]}> .\n".encode())
    cache.put([Row(graphs[0], row.stamp + "-older", 1, bogus)])
    cache.close()
    with sqlite3.connect(ts.path / FILE_NAME) as conn:  # type: ignore[operator]
        conn.execute("DELETE FROM graphs WHERE graph = ?", (graphs[1],))
    with Proxy(oxigraph.port) as proxy:
        report = load_to(ts, proxy, vocab=True)
        assert sorted(store_reads) == sorted([graphs[0], graphs[1], vocab.value])
        assert report.graphs_from_cache == len(graphs) - 2
        assert trialkg_graphs(server_dataset(oxigraph)) == store_dataset(ts, [*graphs, vocab.value])
        assert verify(ts, oxigraph.query, vocab=True).equal
        # the journal's checksums do not depend on where a graph was read: reading
        # every graph from the store finds all of them loaded
        store_reads.clear()
        proxy.seen.clear()
        report = load_to(ts, proxy, vocab=True, use_cache=False)
        assert sorted(store_reads) == sorted([*graphs, vocab.value])
        assert proxy.writes() == [] and report.graphs_skipped == len(graphs) + 1
        assert report.graphs_from_cache == 0
    # the command line's --no-cache
    store_reads.clear()
    args = ["load", "--endpoint", oxigraph.query, "--graph-store", oxigraph.store, "--store", str(ts.path)]
    assert CliRunner().invoke(cli(), [*args, "--force", "--no-cache"]).exit_code == 0
    assert sorted(store_reads) == sorted(graphs)
    store_reads.clear()
    cached = CliRunner().invoke(cli(), [*args, "--force"])
    assert cached.exit_code == 0
    assert sorted(store_reads) == sorted(graphs[:2])
    assert f"{len(graphs) - 2} read from the N-Quads cache" in cached.output
    assert trialkg_graphs(server_dataset(oxigraph)) == store_dataset(ts, [*graphs, vocab.value])


@pytest.mark.server
def test_journal_alone_is_not_trusted(tmp_path: Path, oxigraph: OxigraphServer) -> None:
    ts = make_store(tmp_path, 6)
    with Proxy(oxigraph.port) as proxy:
        load_to(ts, proxy)
        lost = [g for _, g in ts.trial_graphs([nct(1), nct(4)])]
        sparql_update(oxigraph, " ; ".join(f"DROP GRAPH <{g}>" for g in lost))  # the server lost two graphs
        trimmed = ts.trial_graphs([nct(2)])[0][1]
        sparql_update(oxigraph, f"DELETE WHERE {{ GRAPH <{trimmed}> {{ ?s {T.briefTitle} ?o }} }}")  # and a triple
        proxy.seen.clear()
        report = load_to(ts, proxy)
        assert sorted(gsp_puts(proxy)) == sorted([*lost, trimmed])
        assert report.graphs_resent == 3
    assert trialkg_graphs(server_dataset(oxigraph)) == store_dataset(ts)


@pytest.mark.server
def test_transient_errors_are_retried_and_others_are_not(
    tmp_path: Path, oxigraph: OxigraphServer, caplog: pytest.LogCaptureFixture
) -> None:
    ts = make_store(tmp_path, 5)
    with Proxy(oxigraph.port) as proxy:
        proxy.fail_next = [503, 429, 502]
        with caplog.at_level(logging.WARNING, logger="kg.remote"):
            load_to(ts, proxy, workers=1, retries=3)
        assert [s.status for s in proxy.writes()][:3] == [503, 429, 502]
        assert sum("retrying" in r.getMessage() for r in caplog.records) == 3
        assert trialkg_graphs(server_dataset(oxigraph)) == store_dataset(ts)

        proxy.seen.clear()
        proxy.fail_next = [400]
        with pytest.raises(LoadError, match="HTTP 400"):
            load_to(ts, proxy, workers=1, retries=3, force=True)
        statuses = [s.status for s in proxy.writes()]
        assert statuses.count(400) == 1 and statuses[0] == 400  # not retried
        assert gsp_puts(proxy).count(gsp_puts(proxy)[0]) == 1

        # Virtuoso answers HTTP 500 to every SQL error: a deadlock is worth another try,
        # a literal it cannot store is not
        proxy.seen.clear()
        proxy.fail_next = [(500, b"Virtuoso 40001 Error SR172: Transaction deadlocked")]
        load_to(ts, proxy, workers=1, retries=3, force=True)
        assert [s.status for s in proxy.writes()][:2] == [500, 204]
        proxy.seen.clear()
        proxy.fail_next = [(500, b"Virtuoso 22023 Error SR553: Literal of type xsd:duration can not be created")]
        with pytest.raises(LoadError, match="SR553"):
            load_to(ts, proxy, workers=1, retries=3, force=True)
        assert [s.status for s in proxy.writes()].count(500) == 1


@pytest.mark.server
def test_wrong_password_fails_cleanly_and_is_never_shown(
    tmp_path: Path, oxigraph: OxigraphServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    ts = make_store(tmp_path, 4)
    user, right, wrong = "loader", "right-Pa55word-xyz", "wrong-Pa55word-abc"
    secrets = [right, wrong] + [base64.b64encode(f"{user}:{p}".encode()).decode() for p in (right, wrong)]
    caplog.set_level(logging.DEBUG)  # httpx and httpcore too
    runner = CliRunner()
    with Proxy(oxigraph.port, user=user, password=right) as proxy:
        args = ["load", "--endpoint", proxy.base + "/query", "--graph-store", proxy.base + "/store"]
        args += ["--user", user, "--store", str(ts.path), "--retries", "3"]
        bad = runner.invoke(cli(), args, env={"TRIALKG_ENDPOINT_PASSWORD": wrong})
        assert bad.exit_code == 2, bad.output
        assert "authentication failed" in bad.output and "401" in bad.output and user in bad.output
        assert {s.status for s in proxy.seen} == {401}
        tried = gsp_puts(proxy)
        # no retries: each graph at most once unauthenticated and once with the credentials
        # (Basic is chosen after the server's first challenge), and only those already queued
        assert max(tried.count(g) for g in tried) <= 2 and len(set(tried)) <= 2 * 2
        assert trialkg_graphs(server_dataset(oxigraph)) == {}  # nothing written

        with pytest.raises(AuthenticationError, match="wants credentials"):
            load_to(ts, proxy)
        assert trialkg_graphs(server_dataset(oxigraph)) == {}

        good = runner.invoke(cli(), args, env={"TRIALKG_ENDPOINT_PASSWORD": right})
        assert good.exit_code == 0, good.output
        verified = runner.invoke(
            cli(),
            ["verify", "--endpoint", proxy.base + "/query", "--user", user, "--store", str(ts.path)],
            env={"TRIALKG_ENDPOINT_PASSWORD": right},
        )
        assert verified.exit_code == 0, verified.output
    assert trialkg_graphs(server_dataset(oxigraph)) == store_dataset(ts)
    captured = capfd.readouterr()
    shown = "\n".join([bad.output, good.output, verified.output, caplog.text, captured.out, captured.err])
    assert "HTTP Request" in caplog.text  # httpx did log its requests, and we looked at them
    for secret in secrets:
        assert secret not in shown


@pytest.mark.server
def test_verify_reports_each_difference(tmp_path: Path, oxigraph: OxigraphServer) -> None:
    ts = make_store(tmp_path, 5)
    load_to(ts, oxigraph)
    runner = CliRunner()
    args = ["verify", "--endpoint", oxigraph.query, "--store", str(ts.path)]
    ok = runner.invoke(cli(), args)
    assert ok.exit_code == 0 and "equal" in ok.output
    counts = {g: len(t) for g, t in store_dataset(ts).items()}
    missing = ts.trial_graphs([nct(0)])[0][1]
    longer = ts.trial_graphs([nct(1)])[0][1]
    extra = T.GRAPH_PREFIX + "NCT99999999/ctgov-v2-json/000000000000"
    sparql_update(
        oxigraph,
        f"DROP GRAPH <{missing}> ; "
        f"INSERT DATA {{ GRAPH <{longer}> {{ <http://example.org/x> <http://example.org/p> 1 }} "
        f"GRAPH <{extra}> {{ <http://example.org/x> <http://example.org/p> 1, 2 }} "
        "GRAPH <http://example.org/not-ours> { <http://example.org/x> <http://example.org/p> 1 } }",
    )
    report = verify(ts, oxigraph.query)
    found = {(d.graph, d.kind, d.store_triples, d.endpoint_triples) for d in report.differences}
    assert found == {
        (missing, "missing", counts[missing], None),
        (longer, "count", counts[longer], counts[longer] + 1),
        (extra, "extra", None, 2),
    }
    different = runner.invoke(cli(), args)
    assert different.exit_code == 1
    assert f"missing  {missing}" in different.output and f"extra    {extra}" in different.output
    as_json = json.loads(runner.invoke(cli(), [*args, "--format", "json"]).output)
    assert not as_json["equal"] and len(as_json["differences"]) == 3
    unreachable = runner.invoke(cli(), ["verify", "--endpoint", f"http://127.0.0.1:{free_port()}/query"])
    assert unreachable.exit_code == 2 and "error:" in unreachable.output


@pytest.mark.server
def test_trial_selection_and_vocabulary_graphs(tmp_path: Path, oxigraph: OxigraphServer) -> None:
    ts = make_store(tmp_path, 4)
    vocab = T.vocab_graph_iri("mesh")
    ts.store.add(ox.Quad(T.mesh_iri("D012859"), T.SKOS_PREF_LABEL, ox.Literal("Sjogren's Syndrome"), vocab))
    runner = CliRunner()
    base = ["--endpoint", oxigraph.query, "--graph-store", oxigraph.store, "--store", str(ts.path)]
    one = runner.invoke(cli(), ["load", *base, "--trial", nct(2)])
    assert one.exit_code == 0, one.output
    assert set(trialkg_graphs(server_dataset(oxigraph))) == {g for _, g in ts.trial_graphs([nct(2)])}
    assert (
        runner.invoke(cli(), ["verify", "--endpoint", oxigraph.query, "--store", str(ts.path), "-t", nct(2)]).exit_code
        == 0
    )
    assert runner.invoke(cli(), ["verify", "--endpoint", oxigraph.query, "--store", str(ts.path)]).exit_code == 1
    everything = runner.invoke(cli(), ["load", *base, "--vocab"])
    assert everything.exit_code == 0, everything.output
    assert trialkg_graphs(server_dataset(oxigraph)) == store_dataset(
        ts, [*(g for _, g in ts.trial_graphs()), vocab.value]
    )
    assert (
        runner.invoke(cli(), ["verify", "--endpoint", oxigraph.query, "--store", str(ts.path), "--vocab"]).exit_code
        == 0
    )
