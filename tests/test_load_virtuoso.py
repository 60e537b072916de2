"""``trialkg load`` / ``trialkg verify`` against a real Virtuoso Open Source server.

Virtuoso comes from the Debian package ``virtuoso-opensource`` (``.ci/run`` installs
it); these tests skip, saying so, when ``virtuoso-t`` is not on PATH. The server is
started on free loopback ports with a generated ``virtuoso.ini`` (tests/servers.py).
Writes go to ``/sparql-graph-crud-auth`` (Graph Store Protocol) and ``/sparql-auth``
(SPARQL Update), both with Digest authentication as ``dba``/``dba``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from kg import terms as T
from kg.errors import AuthenticationError, LoadError
from kg.ingest import ingest
from kg.load import LoadMode, load, verify
from kg.remote import Credentials
from kg.store import TrialStore
from tests.load_support import OPTIONS, make_store, nct, store_dataset
from tests.servers import VirtuosoServer, running_virtuoso

pytestmark = pytest.mark.server

DBA = Credentials(VirtuosoServer.user, VirtuosoServer.password)


def _term(b: dict) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    kind = b["type"]
    if kind == "uri":
        return ox.NamedNode(b["value"])
    if kind == "bnode":
        return ox.BlankNode(b["value"])
    if "xml:lang" in b:
        return ox.Literal(b["value"], language=b["xml:lang"])
    if b.get("datatype") == T.XSD_BOOLEAN.value and b["value"] in ("0", "1"):
        # Virtuoso stores booleans as numbers and answers "0"/"1": the same values
        return ox.Literal("true" if b["value"] == "1" else "false", datatype=T.XSD_BOOLEAN)
    if "datatype" in b:
        return ox.Literal(b["value"], datatype=ox.NamedNode(b["datatype"]))
    return ox.Literal(b["value"])


def virtuoso_dataset(server: VirtuosoServer, graphs: list[str] | None = None) -> dict[str, set[str]]:
    """Per trialkg graph, its triples as Virtuoso returns them (SPARQL JSON results)."""
    where = (
        f"VALUES ?g {{ {' '.join(f'<{g}>' for g in graphs)} }}"
        if graphs is not None
        else f'FILTER(STRSTARTS(STR(?g), "{T.GRAPH_PREFIX}"))'
    )
    r = httpx.post(
        server.sparql,
        data={"query": f"SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {where} }}"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=300,
    )
    r.raise_for_status()
    out: dict[str, set[str]] = defaultdict(set)
    for row in r.json()["results"]["bindings"]:
        triple = ox.Triple(_term(row["s"]), _term(row["p"]), _term(row["o"]))  # type: ignore[arg-type]
        out[row["g"]["value"]].add(str(triple))
    return dict(out)


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with running_virtuoso(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


def test_corpus_through_the_graph_store_protocol(
    corpus_dir: Path, virtuoso: VirtuosoServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    src = corpus_dir / "ctgov-v2-json"
    ts = TrialStore(tmp_path_factory.mktemp("vcorpus") / "store")
    ingest(ts, [src], options=OPTIONS)
    load(ts, virtuoso.sparql_auth, graph_store=virtuoso.graph_store, auth=DBA, workers=4)
    report = verify(ts, virtuoso.sparql)
    assert report.equal, [str(d) for d in report.differences[:10]]
    assert report.graphs_at_endpoint == len(list(src.glob("*.json")))
    assert report.triples_at_endpoint == len(ts)

    # Content, for every 6th graph: each triple comes back as it went, except xsd:duration
    # literals, which Virtuoso 7.2 turns into numbers of months ("P18Y" comes back as
    # "216"): a known limitation (docs/loading.md), pinned so that any other change shows.
    sample = [g for _, g in ts.trial_graphs()][::6]
    expected = store_dataset(ts, sample)
    actual = virtuoso_dataset(virtuoso, sample)
    assert actual.keys() == expected.keys()
    duration = f"^^<{T.XSD_DURATION.value}>"
    changed = 0
    for g, triples in expected.items():
        missing, added = triples - actual[g], actual[g] - triples
        assert all(t.endswith(duration) for t in missing), (g, sorted(missing)[:3])
        assert len(added) == len(missing), (g, sorted(added)[:3])
        assert all(t.endswith(duration) and t.rsplit('"', 2)[-2].isdigit() for t in added), (g, sorted(added)[:3])
        changed += len(missing)
    assert changed > 0


def test_wrong_password_writes_nothing(tmp_path: Path, virtuoso: VirtuosoServer) -> None:
    ts = make_store(tmp_path, 5, first=100)
    graphs = [g for _, g in ts.trial_graphs()]
    with pytest.raises(AuthenticationError, match="401") as caught:
        load(ts, virtuoso.sparql_auth, graph_store=virtuoso.graph_store, auth=Credentials("dba", "not-dba-pw"))
    assert "not-dba-pw" not in str(caught.value)
    assert virtuoso_dataset(virtuoso, graphs) == {}
    load(ts, virtuoso.sparql_auth, graph_store=virtuoso.graph_store, auth=DBA)
    assert verify(ts, virtuoso.sparql, nct_ids=[nct(i) for i in range(100, 105)]).equal


def test_sparql_update_mode(tmp_path: Path, virtuoso: VirtuosoServer) -> None:
    ts = make_store(tmp_path, 7, first=200, with_age=False)
    load(ts, virtuoso.sparql_auth, mode=LoadMode.update, batch=3, auth=DBA, max_request_bytes=5000)
    assert verify(ts, virtuoso.sparql, nct_ids=[nct(i) for i in range(200, 207)]).equal
    graphs = [g for _, g in ts.trial_graphs()]
    assert virtuoso_dataset(virtuoso, graphs) == store_dataset(ts)


def test_killed_virtuoso_then_rerun_completes(tmp_path: Path) -> None:
    ts = make_store(tmp_path, 30, first=400)
    with running_virtuoso(tmp_path / "virtuoso") as server:

        def kill_after_eight(done: int, total: int) -> None:
            if done >= 8 and server.proc is not None:
                server.kill()

        with pytest.raises(LoadError, match="giving up"):
            load(
                ts,
                server.sparql_auth,
                graph_store=server.graph_store,
                auth=DBA,
                progress=kill_after_eight,
                retries=1,
                backoff=0.01,
            )
        server.start()  # same database files and ports: Virtuoso rolls its transaction log forward
        before = verify(ts, server.sparql)
        assert 0 < before.graphs_at_endpoint < before.graphs_in_store
        load(ts, server.sparql_auth, graph_store=server.graph_store, auth=DBA)
        assert verify(ts, server.sparql).equal
