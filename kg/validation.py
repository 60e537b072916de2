"""SHACL validation of trial graphs: reports, not booleans.

The shapes (``shapes/*.ttl``, see :mod:`kg.resources`) validate ONE trial graph at
a time: the data graph is the content of one named graph. That keeps results tied
to a trial and a source file.

Two engines (:class:`Engine`) give the same results:

- ``sparql`` (the default): the shapes compiled to SPARQL queries
  (:mod:`kg.shacl_sparql`), each run once over all trial graphs of the store on
  pyoxigraph, results grouped by graph;
- ``pyshacl``, the reference: pySHACL on one trial graph at a time, in parallel
  worker processes; rdflib is used here only to hand pySHACL its data graph.

``tests/test_validation_engines.py`` proves them equal on the whole corpus and on
every negative case of ``tests/test_shapes.py``; the SPARQL engine is the default
only because of that test.

A report *conforms* when it has no result of severity Violation: warnings and
infos are reported but do not make data non-conforming (``ingest --validate``
keeps such trials, and ``trialkg validate`` exits 0).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar

import pyoxigraph as ox
import rdflib
from pyshacl import Validator
from pyshacl.graph_abstraction import DataGraph
from rdflib import plugin
from rdflib.namespace import SH
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.evaluate import evalQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.query import Processor

from kg import resources, shacl_sparql
from kg import terms as T
from kg.model import Trial
from kg.store import TrialStore
from kg.workers import die_with_parent

log = logging.getLogger(__name__)

_XSD_STRING = T.XSD_STRING.value
_TRIAL_PREFIX = T.DATA_NS + "trial/"


class Severity(StrEnum):
    """SHACL severities, most serious first."""

    VIOLATION = "Violation"
    WARNING = "Warning"
    INFO = "Info"

    @property
    def iri(self) -> str:
        return T.SH_NS + self.value

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def from_iri(cls, iri: str) -> Severity:
        return cls(iri.removeprefix(T.SH_NS))


_RANK = {Severity.VIOLATION: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True, order=True)
class ValidationResult:
    """One SHACL validation result. Nodes and paths are IRIs; ``value`` is the
    offending value in N-Triples syntax (``"2019-13"^^<...#gYearMonth>``, ``<iri>``)."""

    trial_id: str | None
    severity: Severity
    source_shape: str
    focus_node: str
    result_path: str | None
    value: str | None
    constraint_component: str
    message: str
    graph: str | None = None

    def key(self) -> tuple[str | None, str, str, str, str | None, str | None, str]:
        """Everything but the graph and the message: what identifies the finding."""
        return (
            self.trial_id,
            self.severity.value,
            self.source_shape,
            self.focus_node,
            self.result_path,
            self.value,
            self.constraint_component,
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


@dataclass
class ValidationReport:
    """The results of validating one or more trial graphs."""

    results: list[ValidationResult] = field(default_factory=list)
    graphs: list[str] = field(default_factory=list)  # graphs validated
    trials: list[str] = field(default_factory=list)  # NCT IDs validated (sorted, unique)

    @property
    def conforms(self) -> bool:
        """No result of severity Violation (warnings and infos are allowed)."""
        return not any(r.severity is Severity.VIOLATION for r in self.results)

    def count(self, severity: Severity) -> int:
        return sum(1 for r in self.results if r.severity is severity)

    def by_trial(self) -> dict[str | None, list[ValidationResult]]:
        out: dict[str | None, list[ValidationResult]] = {}
        for r in self.results:
            out.setdefault(r.trial_id, []).append(r)
        return out

    def extend(self, other: ValidationReport) -> None:
        self.results.extend(other.results)
        self.graphs.extend(other.graphs)
        self.trials = sorted(set(self.trials) | set(other.trials))

    def sort(self) -> None:
        self.results.sort(
            key=lambda r: (
                r.trial_id or "",
                r.graph or "",
                r.severity.rank,
                r.source_shape,
                r.focus_node,
                r.result_path or "",
                r.value or "",
            )
        )

    # -- serialisations ----------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(
            {
                "conforms": self.conforms,
                "graphs_validated": len(self.graphs),
                "trials_validated": len(self.trials),
                "counts": {s.value: self.count(s) for s in Severity},
                "results": [r.to_dict() for r in self.results],
            },
            indent=2,
            ensure_ascii=False,
        )

    def to_turtle(self) -> str:
        """A standard ``sh:ValidationReport`` (``sh:conforms`` follows :attr:`conforms`)."""
        report = ox.BlankNode("report")
        triples = [
            ox.Triple(report, T.RDF_TYPE, ox.NamedNode(T.SH_NS + "ValidationReport")),
            ox.Triple(
                report,
                ox.NamedNode(T.SH_NS + "conforms"),
                ox.Literal(str(self.conforms).lower(), datatype=T.XSD_BOOLEAN),
            ),
        ]
        sh = T.SH_NS
        for i, r in enumerate(self.results, start=1):
            node = ox.BlankNode(f"r{i}")
            triples.append(ox.Triple(report, ox.NamedNode(sh + "result"), node))
            triples.append(ox.Triple(node, T.RDF_TYPE, ox.NamedNode(sh + "ValidationResult")))
            triples.append(ox.Triple(node, ox.NamedNode(sh + "resultSeverity"), ox.NamedNode(r.severity.iri)))
            triples.append(ox.Triple(node, ox.NamedNode(sh + "focusNode"), _term(r.focus_node)))
            if r.result_path is not None:
                triples.append(ox.Triple(node, ox.NamedNode(sh + "resultPath"), _term(r.result_path)))
            if r.value is not None:
                triples.append(ox.Triple(node, ox.NamedNode(sh + "value"), _parse_term(r.value)))
            triples.append(ox.Triple(node, ox.NamedNode(sh + "sourceShape"), _term(r.source_shape)))
            triples.append(
                ox.Triple(node, ox.NamedNode(sh + "sourceConstraintComponent"), _term(r.constraint_component))
            )
            triples.append(ox.Triple(node, ox.NamedNode(sh + "resultMessage"), ox.Literal(r.message)))
        prefixes = {
            "sh": sh,
            "tkg": T.TKG_NS,
            "tkgsh": SHAPES_NS,
            "xsd": T.XSD_NS,
            "rdf": T.RDF_NS,
            "rdfs": T.RDFS_NS,
            "schema": T.SCHEMA_NS,
            "prov": T.PROV_NS,
        }
        return bytes(ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b"").decode("utf-8")


#: The namespace of the shapes' own IRIs (only used to shorten them in output).
SHAPES_NS = "https://w3id.org/trialkg/shapes#"


def _term(iri_or_bnode: str) -> ox.NamedNode | ox.BlankNode:
    if iri_or_bnode.startswith("_:"):
        return ox.BlankNode(iri_or_bnode[2:])
    return ox.NamedNode(iri_or_bnode)


def _parse_term(nt: str) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    triple = next(iter(ox.parse(f"<urn:s> <urn:p> {nt} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    return triple.object


# ---------------------------------------------------------------------------
# The engine: pySHACL with the shapes parsed and harvested once per process


@cache
def shapes_graph() -> rdflib.Graph:
    """Every shapes file, parsed once per process."""
    g = rdflib.Graph()
    for path in resources.shape_files():
        g.parse(path, format="turtle")
    return g


class _CachingSPARQLProcessor:
    """rdflib's SPARQL processor, with each query parsed and translated once.

    pySHACL hands rdflib the text of a SHACL-SPARQL constraint for every focus
    node, and rdflib parses it again each time: that parse was 85% of validation
    time. Evaluation is unchanged (rdflib's own ``evalQuery`` on a prepared query).
    """

    _prepared: ClassVar[dict[tuple[str, str | None, frozenset[tuple[str, str]]], Any]] = {}

    def __init__(self, graph: Any) -> None:
        self.graph = graph

    def query(
        self, str_or_query: Any, initBindings: Any = None, initNs: Any = None, base: Any = None, DEBUG: bool = False
    ) -> Any:
        if isinstance(str_or_query, str):
            key = (str_or_query, base, frozenset((k, str(v)) for k, v in (initNs or {}).items()))
            prepared = self._prepared.get(key)
            if prepared is None:
                prepared = self._prepared[key] = translateQuery(parseQuery(str_or_query), base, initNs)
            str_or_query = prepared
        return evalQuery(self.graph, str_or_query, initBindings, base)


def _use_caching_sparql_processor() -> None:
    plugin.register("sparql", Processor, __name__, "_CachingSPARQLProcessor")


class _Engine:
    """A pySHACL validator built once: shapes parsed and harvested on the first
    call, then reused for every data graph (building a ``Validator`` per trial
    would re-harvest the shapes each time)."""

    def __init__(self) -> None:
        _use_caching_sparql_processor()
        self._data_graph = DataGraph
        self._validator = Validator(
            DataGraph.from_rdflib(rdflib.Graph()),
            shacl_graph=shapes_graph(),
            options={"inference": "none", "advanced": False, "allow_warnings": True, "allow_infos": True},
        )

    def report_graph(self, data: rdflib.Graph) -> rdflib.Graph:
        v = self._validator
        v.data_graph = self._data_graph.from_rdflib(data)
        v.data_graph_is_multigraph = False
        v._target_graph = None
        v.inplace = True
        v.pre_inferenced = False
        _conforms, report, _text = v.run()
        return report


@cache
def _engine() -> _Engine:
    return _Engine()


_RDF_TYPE = T.RDF_TYPE.value


def to_rdflib(triples: Iterable[ox.Triple | ox.Quad]) -> rdflib.Graph:
    """An rdflib Graph of the triples (quads: their graph names dropped), for pySHACL.

    ``xsd:string`` literals become plain rdflib literals, as rdflib parses them."""
    g = rdflib.Graph()
    add = g.add
    uri_cache: dict[str, rdflib.URIRef] = {}

    def node(t: Any) -> Any:
        if isinstance(t, ox.NamedNode):
            u = uri_cache.get(t.value)
            if u is None:
                u = uri_cache[t.value] = rdflib.URIRef(t.value)
            return u
        if isinstance(t, ox.BlankNode):
            return rdflib.BNode(t.value)
        if t.language:
            return rdflib.Literal(t.value, lang=t.language)
        dt = t.datatype.value
        if dt == _XSD_STRING:
            return rdflib.Literal(t.value)
        # normalize=False: report values as written ("PT48H" stays "PT48H", not "P2D")
        return rdflib.Literal(t.value, datatype=node(t.datatype), normalize=False)

    for t in triples:
        add((node(t.subject), node(t.predicate), node(t.object)))
    return g


def _n3(term: Any) -> str:
    """N-Triples syntax of an rdflib term (rdflib's own ``n3()`` may write Turtle's
    long strings); simple literals are written with their xsd:string datatype."""
    if isinstance(term, rdflib.Literal):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        dt = str(term.datatype) if term.datatype is not None else _XSD_STRING
        return f"{ox.Literal(str(term))}^^<{dt}>"
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    return str(ox.NamedNode(str(term)))


def _node_str(term: Any) -> str:
    return f"_:{term}" if isinstance(term, rdflib.BNode) else str(term)


def results_from_report(
    report: rdflib.Graph, *, graph: str | None = None, nct_id: str | None = None
) -> list[ValidationResult]:
    """:class:`ValidationResult` objects from a pySHACL report graph."""
    out = []
    for r in report.objects(None, SH.result):
        focus = report.value(r, SH.focusNode)
        path = report.value(r, SH.resultPath)
        value = report.value(r, SH.value)
        shape = report.value(r, SH.sourceShape)
        messages = sorted(str(m) for m in report.objects(r, SH.resultMessage))
        focus_s = _node_str(focus)
        out.append(
            ValidationResult(
                trial_id=nct_id or trial_of(focus_s),
                severity=Severity.from_iri(str(report.value(r, SH.resultSeverity))),
                source_shape=_node_str(shape),
                focus_node=focus_s,
                result_path=None if path is None else _node_str(path),
                value=None if value is None else _n3(value),
                constraint_component=str(report.value(r, SH.sourceConstraintComponent)),
                message=" ".join(messages),
                graph=graph,
            )
        )
    return out


def trial_of(node: str) -> str | None:
    """The NCT ID of a trial-scoped node IRI (``.../trial/NCT01234567/arm/1`` -> NCT01234567);
    a graph IRI (``.../graph/NCT01234567/...``) gives its trial too."""
    for prefix in (_TRIAL_PREFIX, T.GRAPH_PREFIX):
        if node.startswith(prefix):
            head = node[len(prefix) :].split("/", 1)[0]
            return head or None
    return None


class Engine(StrEnum):
    """The validation engine. ``pyshacl`` is the reference; ``sparql`` compiles the
    shapes to SPARQL queries run on pyoxigraph over all trial graphs at once
    (:mod:`kg.shacl_sparql`), and is proven to give the same results by
    ``tests/test_validation_engines.py``."""

    PYSHACL = "pyshacl"
    SPARQL = "sparql"


DEFAULT_ENGINE = Engine.SPARQL


def validate_triples(
    triples: Iterable[ox.Triple | ox.Quad],
    *,
    graph: str | None = None,
    nct_id: str | None = None,
    engine: Engine | str = DEFAULT_ENGINE,
) -> ValidationReport:
    """Validate one data graph (the triples of one trial graph)."""
    if Engine(engine) is Engine.SPARQL:
        results = _sparql_triples(list(triples), graph=graph, nct_id=nct_id)
    else:
        report = _engine().report_graph(to_rdflib(triples))
        results = results_from_report(report, graph=graph, nct_id=nct_id)
    rep = ValidationReport(results=results, graphs=[graph] if graph else [], trials=[nct_id] if nct_id else [])
    rep.sort()
    return rep


def validate_trial(
    trial: Trial,
    quads: Sequence[ox.Quad],
    graph: ox.NamedNode | str | None = None,
    *,
    engine: Engine | str = DEFAULT_ENGINE,
) -> ValidationReport:
    g = graph.value if isinstance(graph, ox.NamedNode) else graph
    return validate_triples(quads, graph=g, nct_id=trial.nct_id, engine=engine)


# ---------------------------------------------------------------------------
# The SPARQL engine's results as ValidationResult objects


def _nt(term: shacl_sparql.Term) -> str:
    """N-Triples syntax, simple literals with their xsd:string datatype (as :func:`_n3`)."""
    if isinstance(term, ox.Literal) and not term.language and term.datatype.value == _XSD_STRING:
        return f"{term}^^<{_XSD_STRING}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def _from_raw(
    raws: Iterable[shacl_sparql.RawResult],
    *,
    graph: str | None,
    nct_of: Callable[[str], str | None],
) -> list[ValidationResult]:
    out = []
    for r in raws:
        focus = shacl_sparql.name(r.focus)
        value = r.value
        out.append(
            ValidationResult(
                trial_id=nct_of(r.graph) or trial_of(focus),
                severity=Severity.from_iri(r.severity),
                source_shape=r.source_shape,
                focus_node=focus,
                result_path=r.path,
                value=None if value is None else _nt(value),
                constraint_component=r.component,
                message=r.message,
                graph=graph if graph is not None else r.graph,
            )
        )
    return out


_DATA_GRAPH = ox.NamedNode("urn:trialkg:data-graph")


def _sparql_triples(
    triples: list[ox.Triple | ox.Quad], *, graph: str | None, nct_id: str | None
) -> list[ValidationResult]:
    """One data graph through the SPARQL engine, loaded into a scratch store.

    Oxigraph stores numbers, booleans, dates and durations in canonical form ("PT48H"
    is read back as "P2D", "P18M" as "P1Y6M"), and a SHACL-SPARQL constraint may look
    at the lexical form. pySHACL sees these triples as written; so a graph holding a
    literal that the store would rewrite is handed to pySHACL, and the SPARQL engine
    validates exactly the graphs that it sees as pySHACL does. (Graphs read from a
    store are canonical already: :func:`validate_store` has no such case.)"""
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, _DATA_GRAPH) for t in triples)
    if _rewrites_literals(store, triples):
        report = _engine().report_graph(to_rdflib(triples))
        return results_from_report(report, graph=graph, nct_id=nct_id)
    return _from_raw(shacl_sparql.run(store), graph=graph, nct_of=lambda _g: nct_id)


def _rewrites_literals(store: ox.Store, triples: list[ox.Triple | ox.Quad]) -> bool:
    """Whether ``store`` (holding ``triples``) gives back a literal other than as written."""
    written = {t.object for t in triples if isinstance(t.object, ox.Literal) and t.object.datatype != T.XSD_STRING}
    stored = {q.object for q in store if isinstance(q.object, ox.Literal) and q.object.datatype != T.XSD_STRING}
    return written != stored


# ---------------------------------------------------------------------------
# Whole-store validation, per trial graph, in worker processes


def _graph_ntriples(ts: TrialStore, graph: str) -> bytes:
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ts.graph_quads(graph)]
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def _validate_chunk(chunk: list[tuple[str, str, bytes]]) -> list[ValidationReport]:
    out = []
    for nct, graph, data in chunk:
        triples: Iterable[ox.Triple | ox.Quad] = ox.parse(data, format=ox.RdfFormat.N_TRIPLES) if data else []
        out.append(validate_triples(triples, graph=graph, nct_id=nct, engine=Engine.PYSHACL))
    return out


def _chunks(ts: TrialStore, graphs: list[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str, bytes]]]:
    chunk: list[tuple[str, str, bytes]] = []
    for nct, g in graphs:
        chunk.append((nct, g, _graph_ntriples(ts, g)))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def validate_store(
    ts: TrialStore,
    nct_ids: Iterable[str] | None = None,
    *,
    workers: int | None = None,
    chunk_size: int = 25,
    on_graph: Callable[[str], None] | None = None,
    engine: Engine | str = DEFAULT_ENGINE,
    on_query: Callable[[], None] | None = None,
) -> ValidationReport:
    """Validate every trial graph of the store (or those of ``nct_ids``), each on its
    own. Results are in a stable order whatever the engine and number of workers.

    ``workers`` (default: the usable cores) sets how much runs at once. pySHACL runs
    one trial graph at a time in that many processes (1 validates in this process),
    calling ``on_graph`` after each. The SPARQL engine runs each compiled constraint
    once over all trial graphs of the store (or of a scratch copy holding only the
    selected graphs, when they are fewer than half of the store's), that many
    queries at once in threads of this process, calling ``on_query`` after each
    query."""
    graphs = ts.trial_graphs(nct_ids, incomplete=True)  # an interrupted write is reported too
    n = workers if workers is not None else default_workers()
    if Engine(engine) is Engine.SPARQL:
        return _sparql_store(ts, graphs, selected=nct_ids is not None, on_query=on_query, workers=n)
    report = ValidationReport()
    chunks = _chunks(ts, graphs, chunk_size)
    if n <= 1 or len(graphs) <= chunk_size:
        parts: Iterable[list[ValidationReport]] = (_validate_chunk(c) for c in chunks)
        for part in parts:
            for rep in part:
                report.extend(rep)
                if on_graph is not None:
                    on_graph(rep.graphs[0] if rep.graphs else "")
    else:
        ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(
            max_workers=n, mp_context=ctx, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            for part in pool.map(_validate_chunk, chunks):
                for rep in part:
                    report.extend(rep)
                    if on_graph is not None:
                        on_graph(rep.graphs[0] if rep.graphs else "")
    report.trials = sorted({nct for nct, _ in graphs})
    report.sort()
    return report


def _sparql_store(
    ts: TrialStore,
    graphs: list[tuple[str, str]],
    *,
    selected: bool,
    on_query: Callable[[], None] | None,
    workers: int = 1,
) -> ValidationReport:
    store = ts.store
    if selected and len(graphs) * 2 < len(ts.trial_graphs(incomplete=True)):
        store = ox.Store()
        for _, g in graphs:
            store.bulk_extend(ts.graph_quads(g))
    return validate_named_graphs(
        store, {g: n for n, g in graphs}, engine=Engine.SPARQL, on_query=on_query, workers=workers
    )


def validate_named_graphs(
    store: ox.Store,
    graphs: dict[str, str | None],
    *,
    engine: Engine | str = DEFAULT_ENGINE,
    on_query: Callable[[], None] | None = None,
    workers: int = 1,
) -> ValidationReport:
    """Validate named graphs of any pyoxigraph store, each on its own: ``graphs``
    maps each graph IRI to its trial's NCT ID (None: read from the focus node);
    ``workers``: SPARQL queries run at once (:func:`kg.shacl_sparql.run`)."""
    if Engine(engine) is Engine.SPARQL:
        raws = shacl_sparql.run(store, graphs, on_query=on_query, workers=workers)
        report = ValidationReport(results=_from_raw(raws, graph=None, nct_of=graphs.get))
    else:
        report = ValidationReport()
        for g, nct in graphs.items():
            quads = store.quads_for_pattern(None, None, None, ox.NamedNode(g))
            triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
            report.results.extend(validate_triples(triples, graph=g, nct_id=nct, engine=Engine.PYSHACL).results)
    report.graphs = list(graphs)
    report.trials = sorted({n for n in graphs.values() if n})
    report.sort()
    return report


def sparql_query_count() -> int:
    """How many queries the SPARQL engine runs for a store (for progress bars)."""
    return shacl_sparql.query_count(shacl_sparql.default_shapes(False))


def validate_merged(
    ts: TrialStore, nct_ids: Iterable[str] | None = None, *, engine: Engine | str = DEFAULT_ENGINE
) -> ValidationReport:
    """Validate all trial graphs merged into ONE data graph (the reference that
    per-graph validation is compared with). Results carry the trial ID read from
    the focus node IRI and no graph."""
    graphs = ts.trial_graphs(nct_ids, incomplete=True)
    triples = (ox.Triple(q.subject, q.predicate, q.object) for _, g in graphs for q in ts.graph_quads(g))
    if Engine(engine) is Engine.SPARQL:
        # read from the store, so already as the store writes them: no literal to compare
        merged = ox.Store()
        merged.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, _DATA_GRAPH) for t in triples)
        rep = validate_named_graphs(merged, {_DATA_GRAPH.value: None}, engine=engine)
        rep.results = [replace(r, graph=None) for r in rep.results]
    else:
        rep = validate_triples(triples, engine=engine)
    rep.trials = sorted({nct for nct, _ in graphs})
    rep.graphs = [g for _, g in graphs]
    return rep


# ---------------------------------------------------------------------------
# The ingest gate


class IngestGate:
    """A :data:`kg.ingest.Gate`: validates each trial graph before it is stored.

    Returns None for a conforming trial (no Violation; warnings are fine).
    Otherwise returns the reason, and unless ``reject`` is set writes the trial's
    quads into its quarantine graph (``quarantine_prefix`` + the trial graph's
    path), outside every trial graph, so neighbours still land and nothing
    invalid enters the main graphs. The copy holds the trial's statements except the
    trial-level name-key shortcuts (:data:`kg.terms.TRIAL_SHORTCUTS`). A trial that validates again later has its
    stale quarantine graph dropped.
    """

    quarantine_prefix: str = T.quarantine_prefix

    def __init__(self, ts: TrialStore, *, reject: bool = False, engine: Engine | str = DEFAULT_ENGINE) -> None:
        self.ts = ts
        self.reject = reject
        self.engine = Engine(engine)
        self.reports: dict[str, ValidationReport] = {}  # graph IRI -> report, for trials kept apart

    def __call__(self, trial: Trial, graph: ox.NamedNode, quads: list[ox.Quad]) -> str | None:
        report = validate_trial(trial, quads, graph, engine=self.engine)
        quarantine = T.quarantine_graph_iri(graph.value)
        if report.conforms:
            if self.ts.store.contains_named_graph(quarantine):
                self.ts.drop_graph(quarantine)
            return None
        self.reports[graph.value] = report
        if not self.reject:
            # the copy leaves out the trial-level name-key shortcuts, which saved queries
            # read across the whole store as trial-graph statements only
            self.ts.replace_graph(quarantine, [q for q in quads if q.predicate not in T.TRIAL_SHORTCUTS])
        return reason(report)


def reason(report: ValidationReport) -> str:
    """A one-line summary of a report's violations."""
    violations = [r for r in report.results if r.severity is Severity.VIOLATION]
    first = violations[0]
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    where = f"{short(first.source_shape)} on {short(first.focus_node)}"
    return f"{len(violations)} SHACL violation(s): {where}: {first.message}{more}"


def quarantined_graphs(ts: TrialStore) -> list[str]:
    """Quarantine graphs in the store (trials kept apart by ``ingest --validate``)."""
    return [g for g in ts.named_graphs() if g.startswith(T.quarantine_prefix)]


def short(iri: str | None) -> str:
    """A compact form of a shape, node or path IRI for text output."""
    if iri is None:
        return "-"
    for ns, prefix in (
        (SHAPES_NS, "tkgsh:"),
        (T.TKG_NS, "tkg:"),
        (T.SH_NS, "sh:"),
        (T.SCHEMA_NS, "schema:"),
        (T.PROV_NS, "prov:"),
        (T.RDFS_NS, "rdfs:"),
    ):
        if iri.startswith(ns):
            return prefix + iri[len(ns) :]
    if iri.startswith(_TRIAL_PREFIX):
        return iri[len(_TRIAL_PREFIX) :]
    return iri
