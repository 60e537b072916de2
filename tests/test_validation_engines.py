"""The SPARQL engine (kg.shacl_sparql) gives the same results as pySHACL, the reference.

"The same" is the same multiset of (trial, severity, source shape, focus node,
result path, value, constraint component, graph, message) per trial graph, on:

- every negative case of tests/test_shapes.py (and its conforming graphs), plus
  literals that rdflib and XSD read differently, each case its own named graph of
  one store, validated by both engines as stored;
- the whole shared corpus, in four parts so that test workers share the pySHACL run.

tests/test_shapes.py also runs every case through both engines against its
hand-written expectations, as built (not stored: there the SPARQL engine hands a
graph with literals that the store would rewrite, such as "PT48H", to pySHACL).
Only with these tests passing may the SPARQL engine be the default
(kg.validation.DEFAULT_ENGINE).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import shacl_sparql, validation
from kg import terms as T
from kg.mapping import trial_quads
from kg.store import TrialStore
from kg.validation import (
    DEFAULT_ENGINE,
    Engine,
    ValidationReport,
    validate_named_graphs,
    validate_store,
    validate_triples,
)
from tests.test_shapes import BASE_TRIAL, CASES, NODES, OPTS, SET, Quads, _base, iri, p, tkg, typed

PARTS = 4


def _full(report: ValidationReport) -> Counter[tuple[object, ...]]:
    return Counter((*r.key(), r.graph, r.message) for r in report.results)


# ---------------------------------------------------------------- negative cases


def _odd_literals() -> list[tuple[str, str, str, ox.Literal]]:
    """(id, focus, path, value): literals whose well-formedness rdflib decides
    differently from a plain reading of XSD, or that Oxigraph stores canonically."""
    odd = []
    for lex, dt in (
        ("2019-02-30", "date"),
        ("2019-5-14", "date"),
        ("2019-05-14T00:00", "date"),
        ("2019-05-14Z", "date"),
        ("0000-01-01", "date"),
        ("2019-13", "gYearMonth"),
        ("abc", "gYear"),
        ("2019-05-14 10:00:00", "dateTime"),
    ):
        odd.append((f"startDate={lex}^^{dt}", "trial", "startDate", typed(lex, dt)))
    for lex, dt in (("01", "integer"), ("+5", "integer"), (" 5", "integer"), ("5.0", "integer"), ("abc", "integer")):
        odd.append((f"enrollmentCount={lex}^^{dt}", "trial", "enrollmentCount", typed(lex, dt)))
    for lex in ("True", "1", "0", "yes"):
        odd.append((f"hasResults={lex}", "trial", "hasResults", typed(lex, "boolean")))
    for lex in ("P", "PT", "1Y", "P18M", "PT48H"):
        odd.append((f"minimumAge={lex}", "elig", "minimumAge", typed(lex, "duration")))
    return odd


def _conforming_graphs() -> list[tuple[str, Quads]]:
    """The graphs that tests/test_shapes.py expects to conform."""
    dates = _base()
    SET(typed("2024-06", "gYearMonth"))(dates, iri(NODES["trial"]), tkg("startDate"))
    SET(typed("2024", "gYear"))(dates, iri(NODES["trial"]), tkg("completionDate"))
    arm = _base()
    arm2 = iri(NODES["arm2"])
    arm -= {t for t in arm if t.subject == arm2 and t.predicate == tkg("armIntervention")}
    SET(tkg("ArmType_NO_INTERVENTION"))(arm, arm2, tkg("armType"))
    return [("base", _base()), ("dates-in-order", dates), ("no-intervention-arm", arm)]


def _case_graphs() -> list[tuple[str, Quads]]:
    graphs = _conforming_graphs()
    for c in CASES:
        quads = _base()
        c.mutate(quads, iri(NODES[c.focus]), p(c.path))
        graphs.append((c.id, quads))
    for cid, focus, path, value in _odd_literals():
        quads = _base()
        SET(value)(quads, iri(NODES[focus]), tkg(path))
        graphs.append((cid, quads))
    return graphs


def test_odd_literals_change_the_graph() -> None:
    """Each odd literal replaces a value of the maximal trial (so it is validated)."""
    base = _base()
    for cid, focus, path, value in _odd_literals():
        assert any(t.subject == iri(NODES[focus]) and t.predicate == tkg(path) for t in base), cid
        assert ox.Triple(iri(NODES[focus]), tkg(path), value) not in base, cid


@pytest.mark.parametrize("part", range(PARTS))
def test_engines_agree_on_every_negative_case(part: int) -> None:
    graphs = _case_graphs()[part::PARTS]
    store = ox.Store()
    names: dict[str, str | None] = {}
    for i, (cid, quads) in enumerate(graphs):
        g = f"urn:trialkg:test:case:{part}:{i}:{re.sub(r'[^A-Za-z0-9-]', '_', cid)}"
        names[g] = None
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g)) for t in quads)
    reference = validate_named_graphs(store, names, engine=Engine.PYSHACL)
    fast = validate_named_graphs(store, names, engine=Engine.SPARQL)
    assert fast.graphs == reference.graphs
    assert reference.results, "the broken graphs give results, so the comparison means something"
    assert _full(fast) == _full(reference)


# ---------------------------------------------------------------- the corpus


@pytest.mark.parametrize("part", range(PARTS))
def test_engines_agree_on_the_corpus(corpus_store, part: int) -> None:  # type: ignore[no-untyped-def]
    ts, _ = corpus_store
    ncts = sorted({n for n, _ in ts.trial_graphs()})
    assert len(ncts) > 2000
    mine = ncts[part::PARTS]
    reference = validate_store(ts, mine, engine=Engine.PYSHACL, workers=1)
    fast = validate_store(ts, mine, engine=Engine.SPARQL)
    assert fast.trials == reference.trials == mine
    assert fast.graphs == reference.graphs and len(fast.graphs) >= len(mine)
    assert reference.results, "the corpus gives warnings (unlinked conditions), so the comparison means something"
    assert _full(fast) == _full(reference)


def test_sparql_is_the_default_engine() -> None:
    """The SPARQL engine is the default only because the tests above prove it equal."""
    assert DEFAULT_ENGINE is Engine.SPARQL


# ---------------------------------------------------------------- the engine's own edges


def test_fast_lexical_forms_are_well_formed_for_rdflib() -> None:
    """A literal that the SPARQL side accepts without asking Python must be one that
    rdflib (so pySHACL) takes as well formed."""
    samples = {
        "boolean": ["true", "false", "1", "0"],
        "integer": ["0", "7", "+7", "-7", "0012"],
        "date": ["1000-01-01", "2019-02-28", "2024-12-28", "9999-10-10"],
        "gYearMonth": ["2019-01", "0000-12"],
        "gYear": ["2019", "0000"],
        "dateTime": ["2019-05-14T00:00:00", "2019-05-14T23:59:59.123456Z", "2019-05-14T10:00:00+13:59"],
        "duration": ["P1Y", "P18M", "P2W", "P3D", "PT48H", "PT5M", "PT9S"],
    }
    assert {T.XSD_NS + k for k in samples} == set(shacl_sparql._FAST_LEXICAL)
    for dt, forms in samples.items():
        rx = re.compile(shacl_sparql._FAST_LEXICAL[T.XSD_NS + dt])
        for form in forms:
            assert rx.search(form), (dt, form)
            assert shacl_sparql.lexical_ok(form, T.XSD_NS + dt), (dt, form)


SHAPES_HEAD = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true .", "sh:closed"),
        ("ex:S a sh:NodeShape ; sh:targetNode ex:n ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .", "sh:targetNode"),
        (
            "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ( ex:p ex:q ) ; sh:minCount 1 ] .",
            "only IRI paths",
        ),
        ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:hasValue 1 ] .", "sh:hasValue"),
        (
            'ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:pattern "a" ; '
            'sh:flags "i" ] .',
            "sh:flags",
        ),
        (
            'ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o } '
            'LIMIT 1" ] .',
            "solution modifiers",
        ),
        (
            'ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select "SELECT $this WHERE { MINUS { $this '
            '?p ?o } }" ] .',
            "MINUS",
        ),
        (
            "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; "
            "sh:or ( [ sh:class ex:D ] [ sh:datatype ex:E ] ) ] .",
            "sh:or of a shape with sh:Class",
        ),
    ],
)
def test_unsupported_features_fail_loudly(tmp_path: Path, body: str, message: str) -> None:
    f = tmp_path / "shapes.ttl"
    f.write_text(SHAPES_HEAD + body + "\n", encoding="utf-8")
    with pytest.raises(shacl_sparql.UnsupportedShapeError, match=re.escape(message)):
        shacl_sparql.compile_shapes(shacl_sparql.shapes_store([f]))


def test_subclass_statements_widen_targets_and_classes() -> None:
    """A data graph that states rdfs:subClassOf: focus nodes and sh:class follow it
    in both engines (no shipped graph does; the engine switches its queries)."""
    quads = _base()
    sub = ox.NamedNode("https://example.org/SpecialArm")
    arm2 = iri(NODES["arm2"])
    quads -= {t for t in quads if t.subject == arm2 and t.predicate == T.RDF_TYPE}
    quads.add(ox.Triple(arm2, T.RDF_TYPE, sub))
    quads.add(ox.Triple(sub, ox.NamedNode(T.RDFS_NS + "subClassOf"), T.tkg("Arm")))
    quads.add(ox.Triple(arm2, T.tkg("position"), typed("0", "integer")))  # breaks Arm-position twice
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode("urn:g")) for t in quads)
    assert shacl_sparql.has_subclass_statements(store)
    assert not shacl_sparql.has_subclass_statements(store, ["urn:another-graph"])
    reference = validate_named_graphs(store, {"urn:g": None}, engine=Engine.PYSHACL)
    fast = validate_named_graphs(store, {"urn:g": None}, engine=Engine.SPARQL)
    assert {(r.focus_node, r.source_shape.rsplit("#", 1)[-1]) for r in reference.results} >= {
        (arm2.value, "Arm-position")
    }, "the subclass instance is a focus node of the Arm shapes"
    assert _full(fast) == _full(reference)


def test_each_engine_runs_what_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """engine=pyshacl never runs the compiled queries and engine=sparql never runs
    pySHACL, in every entry point (a regression test: pySHACL worker chunks once
    followed the default engine)."""
    ts = TrialStore(None)
    ts.add_new_graphs(trial_quads(BASE_TRIAL, OPTS))
    ((nct, graph),) = ts.trial_graphs()
    stored = [ox.Triple(q.subject, q.predicate, q.object) for q in ts.graph_quads(graph)]

    def wrong(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the other engine ran")

    with monkeypatch.context() as m:
        m.setattr(shacl_sparql, "run", wrong)
        assert validate_store(ts, engine=Engine.PYSHACL, workers=1).results == []
        assert validate_triples(stored, engine=Engine.PYSHACL).results == []
        assert validate_named_graphs(ts.store, {graph: nct}, engine=Engine.PYSHACL).results == []
    with monkeypatch.context() as m:
        m.setattr(validation, "_engine", wrong)
        assert validate_store(ts, engine=Engine.SPARQL).results == []
        assert validate_store(ts, [nct], engine=Engine.SPARQL).results == []
        assert validate_triples(stored, engine=Engine.SPARQL).results == []
        assert validate_named_graphs(ts.store, {graph: nct}, engine=Engine.SPARQL).results == []
