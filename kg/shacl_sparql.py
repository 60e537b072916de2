"""SHACL compiled to SPARQL, run on pyoxigraph: the fast validation engine.

The shapes graph is read once and each constraint is compiled into a SPARQL query
that runs over *every* named graph of a store at once, grouped by graph
(``GRAPH ?g { ... }``): one query per constraint instead of one pySHACL run per
trial graph. Each named graph is still validated on its own, exactly as
:mod:`kg.validation` does with pySHACL (a focus node, its values and the classes
of those values are looked up inside the same graph).

The engine covers exactly the SHACL features that ``shapes/`` uses, and refuses
(:class:`UnsupportedShapeError`, raised when the shapes are compiled, before any
data is read) a shape that uses anything else:

- targets: ``sh:targetClass`` (instances of the class or, when a validated graph
  states ``rdfs:subClassOf``, of its subclasses);
- node shapes with ``sh:property`` and ``sh:sparql``;
- property shapes whose ``sh:path`` is an IRI;
- core constraints ``sh:minCount``, ``sh:maxCount``, ``sh:datatype``,
  ``sh:nodeKind``, ``sh:in``, ``sh:class``, ``sh:pattern`` (without ``sh:flags``),
  ``sh:minInclusive``, ``sh:minExclusive`` and ``sh:or`` (of shapes made of those value constraints);
- SHACL-SPARQL constraints (``sh:select`` with ``sh:prefixes``) on node shapes,
  ``$this`` pre-bound by inlining the target pattern into the query's WHERE group;
- ``sh:severity``, ``sh:message`` (with ``{?var}`` / ``{$var}`` substitution in
  SPARQL constraints), ``sh:deactivated``.

pySHACL stays the reference engine (:mod:`kg.validation`); this one must give the
same results, which ``tests/test_validation_engines.py`` proves on the corpus and
on every negative case of ``tests/test_shapes.py``.

Datatype well-formedness follows pySHACL, which takes it from rdflib: a literal
whose lexical form is in a fast, conservative regular expression is well formed;
any other literal of the datatype is checked in Python by rdflib's own lexical
mapping (those are rare).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import rdflib

from kg import resources
from kg import terms as T
from kg.errors import TrialKGError

#: an RDF term as pyoxigraph gives it
Term = ox.NamedNode | ox.BlankNode | ox.Literal

SH = T.SH_NS
_RDF_TYPE = T.RDF_NS + "type"
_RDF_FIRST = T.RDF_NS + "first"
_RDF_REST = T.RDF_NS + "rest"
_RDF_NIL = T.RDF_NS + "nil"
_RDF_LANGSTRING = T.RDF_NS + "langString"
_RDFS_SUBCLASS = T.RDFS_NS + "subClassOf"
_XSD = T.XSD_NS

#: variable names the compiled queries use; a SHACL-SPARQL query must not use them
_G = "shaclGraph"


class UnsupportedShapeError(TrialKGError):
    """A shape uses a SHACL feature that the SPARQL engine does not implement."""


# ---------------------------------------------------------------------------
# Value checks: one SHACL value constraint, as a SPARQL expression and in Python


@dataclass(frozen=True)
class ValueCheck:
    """A constraint on each value node.

    ``sparql(var)`` is an expression that is true when the value surely conforms;
    where it is false or an error, ``python(term)`` (if given) decides exactly.
    Without ``python`` the SPARQL expression is exact.
    """

    component: str
    sparql: Callable[[str], str]
    python: Callable[[Term], bool] | None


def _iri(v: str) -> str:
    return f"<{v}>"


def _sparql_term(t: Term) -> str:
    return str(t)


def _sparql_string(text: str) -> str:
    """The body of a SPARQL string literal ("...") holding ``text``."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


# Lexical forms that rdflib certainly maps to a value of the datatype (checked by
# tests against rdflib itself); anything else goes to Python.
_FAST_LEXICAL = {
    _XSD + "boolean": "^(true|false|1|0)$",
    _XSD + "integer": "^[+-]?[0-9]+$",
    _XSD + "date": "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$",
    _XSD + "gYearMonth": "^[0-9]{4}-(0[1-9]|1[0-2])$",
    _XSD + "gYear": "^[0-9]{4}$",
    _XSD + "dateTime": "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    "(\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?$",
    _XSD + "duration": "^P([0-9]+[YMWD]|T[0-9]+[HMS])$",
}
#: datatypes whose every lexical form is well formed
_ANY_LEXICAL = {_XSD + "string", _RDF_LANGSTRING}

# pySHACL's extra check of the Python value rdflib gives (``_assert_actual_datatype``)
_VALUE_TYPES: dict[str, type | tuple[type, ...]] = {
    _XSD + "string": (str, bytes),
    _RDF_LANGSTRING: (str, bytes),
    _XSD + "integer": int,
    _XSD + "float": float,
    _XSD + "decimal": Decimal,
    _XSD + "boolean": bool,
    _XSD + "date": date,
    _XSD + "time": time,
    _XSD + "dateTime": datetime,
}


def lexical_ok(lexical: str, datatype: str) -> bool:
    """Whether pySHACL takes ``lexical`` as a well-formed literal of ``datatype``:
    rdflib does not find it ill-typed and maps it to a value of the right type."""
    if datatype in _ANY_LEXICAL:
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rdflib warns about "weird booleans"
        lit = rdflib.Literal(lexical, datatype=rdflib.URIRef(datatype), normalize=False)
    if lit.ill_typed is True:
        return False
    expected = _VALUE_TYPES.get(datatype)
    return expected is None or isinstance(lit.value, expected)


def _datatype_check(dt: str) -> ValueCheck:
    fast = _FAST_LEXICAL.get(dt)

    def sparql(v: str) -> str:
        if dt in _ANY_LEXICAL:
            lexical = "true"
        elif fast is not None:
            lexical = f'REGEX(STR(?{v}), "{_sparql_string(fast)}")'
        else:
            lexical = "false"
        return f"(isLiteral(?{v}) && DATATYPE(?{v}) = {_iri(dt)} && {lexical})"

    def python(t: Term) -> bool:
        return isinstance(t, ox.Literal) and t.datatype.value == dt and lexical_ok(t.value, dt)

    return ValueCheck(SH + "DatatypeConstraintComponent", sparql, python)


_NODE_KINDS: dict[str, tuple[str, tuple[type, ...]]] = {
    SH + "IRI": ("isIRI(?{v})", (ox.NamedNode,)),
    SH + "BlankNode": ("isBlank(?{v})", (ox.BlankNode,)),
    SH + "Literal": ("isLiteral(?{v})", (ox.Literal,)),
    SH + "BlankNodeOrIRI": ("(isIRI(?{v}) || isBlank(?{v}))", (ox.NamedNode, ox.BlankNode)),
    SH + "BlankNodeOrLiteral": ("(isBlank(?{v}) || isLiteral(?{v}))", (ox.BlankNode, ox.Literal)),
    SH + "IRIOrLiteral": ("(isIRI(?{v}) || isLiteral(?{v}))", (ox.NamedNode, ox.Literal)),
}


def _node_kind_check(kind: str, shape: str) -> ValueCheck:
    if kind not in _NODE_KINDS:
        raise UnsupportedShapeError(f"{shape}: sh:nodeKind {kind} is not a SHACL node kind")
    expr, types = _NODE_KINDS[kind]
    return ValueCheck(SH + "NodeKindConstraintComponent", lambda v: expr.format(v=v), lambda t: isinstance(t, types))


def _in_check(members: list[Term]) -> ValueCheck:
    def sparql(v: str) -> str:
        if not members:
            return "false"
        return "(" + " || ".join(f"sameTerm(?{v}, {_sparql_term(m)})" for m in members) + ")"

    def python(t: Term) -> bool:
        return any(_same_term(t, m) for m in members)

    return ValueCheck(SH + "InConstraintComponent", sparql, python)


def _same_term(a: Term, b: Term) -> bool:
    return type(a) is type(b) and str(a) == str(b)


def _class_check(cls: str, subclasses: bool) -> ValueCheck:
    def sparql(v: str) -> str:
        path = f"<{_RDF_TYPE}>/<{_RDFS_SUBCLASS}>*" if subclasses else f"<{_RDF_TYPE}>"
        return f"EXISTS {{ ?{v} {path} {_iri(cls)} }}"

    return ValueCheck(SH + "ClassConstraintComponent", sparql, None)


def _pattern_check(pattern: str) -> ValueCheck:
    rx = re.compile(pattern)
    quoted = _sparql_string(pattern)

    def sparql(v: str) -> str:
        return f'(!isBlank(?{v}) && REGEX(STR(?{v}), "{quoted}"))'

    def python(t: Term) -> bool:
        # pySHACL: re.search on the node's text; a blank node never matches
        return not isinstance(t, ox.BlankNode) and rx.search(t.value) is not None

    return ValueCheck(SH + "PatternConstraintComponent", sparql, python)


def _min_check(bound: ox.Literal, shape: str, *, exclusive: bool) -> ValueCheck:
    """sh:minInclusive (``exclusive`` False) or sh:minExclusive, for numbers."""
    keyword = "minExclusive" if exclusive else "minInclusive"
    numeric = {_XSD + n for n in ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger")}
    if bound.datatype.value not in numeric:
        raise UnsupportedShapeError(f"{shape}: sh:{keyword} is supported for numbers only, not {bound}")
    limit = Decimal(bound.value)
    op = ">" if exclusive else ">="

    def sparql(v: str) -> str:
        return f"(isNumeric(?{v}) && ?{v} {op} {_sparql_term(bound)})"

    def python(t: Term) -> bool:
        # only a well-formed number compares with a number (pySHACL: rdflib's value comparison)
        if not isinstance(t, ox.Literal) or t.datatype.value not in numeric:
            return False
        if not lexical_ok(t.value, t.datatype.value):
            return False
        try:
            value = Decimal(t.value.strip())
        except ArithmeticError:
            return False
        return value > limit if exclusive else value >= limit

    return ValueCheck(SH + keyword[0].upper() + keyword[1:] + "ConstraintComponent", sparql, python)


def _or_check(members: list[list[ValueCheck]], shape: str) -> ValueCheck:
    for checks in members:
        for c in checks:
            if c.python is None:
                raise UnsupportedShapeError(f"{shape}: sh:or of a shape with {short_component(c.component)}")

    def sparql(v: str) -> str:
        return "(" + " || ".join("(" + " && ".join(["true"] + [c.sparql(v) for c in m]) + ")" for m in members) + ")"

    def python(t: Term) -> bool:
        return any(all(c.python(t) for c in m if c.python is not None) for m in members)

    return ValueCheck(SH + "OrConstraintComponent", sparql, python)


def short_component(iri: str) -> str:
    return "sh:" + iri.removeprefix(SH).removesuffix("ConstraintComponent")


# ---------------------------------------------------------------------------
# Compiled shapes


@dataclass
class PropertyShape:
    shape: str  # IRI (or _:id) of the property shape: the result's source shape
    targets: list[str]  # classes of the focus nodes (of the node shape(s) it belongs to)
    path: str
    severity: str
    messages: list[str]
    min_count: int | None = None
    max_count: int | None = None
    checks: list[ValueCheck] = field(default_factory=list)


@dataclass
class SparqlConstraint:
    shape: str
    targets: list[str]
    severity: str
    messages: list[str]
    constraint_messages: list[str]
    prefixes: str  # PREFIX declarations
    head: str  # SELECT ... (before WHERE)
    body: str  # the WHERE group's content, $this free
    projects_path: bool
    projects_value: bool
    extra_vars: list[str]


@dataclass
class CompiledShapes:
    properties: list[PropertyShape]
    sparql: list[SparqlConstraint]
    subclasses: bool = False


@dataclass(frozen=True)
class RawResult:
    """One validation result as the engine finds it, terms as pyoxigraph terms."""

    graph: str
    severity: str
    source_shape: str
    focus: Term
    path: str | None
    value: Term | None
    component: str
    message: str


class _Shapes:
    """Read access to a shapes graph held in a pyoxigraph store."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def objects(self, s: Term, p: str) -> list[Term]:
        return [_plain(q.object) for q in self.store.quads_for_pattern(s, ox.NamedNode(p), None)]  # type: ignore[arg-type]

    def one(self, s: Term, p: str) -> Term | None:
        vals = self.objects(s, p)
        if len(vals) > 1:
            raise UnsupportedShapeError(f"{name(s)} has several values for <{p}>")
        return vals[0] if vals else None

    def subjects(self, p: str, o: Term | None = None) -> list[Term]:
        return sorted(
            {_plain(q.subject) for q in self.store.quads_for_pattern(None, ox.NamedNode(p), o)},
            key=str,
        )

    def predicates(self, s: Term) -> set[str]:
        return {q.predicate.value for q in self.store.quads_for_pattern(s, None, None)}  # type: ignore[arg-type]

    def items(self, head: Term) -> list[Term]:
        out = []
        node = head
        while not (isinstance(node, ox.NamedNode) and node.value == _RDF_NIL):
            first = self.one(node, _RDF_FIRST)
            rest = self.one(node, _RDF_REST)
            if first is None or rest is None:
                raise UnsupportedShapeError(f"{name(head)} is not a well-formed RDF list")
            out.append(first)
            node = rest
        return out


def _plain(t: Term | ox.Triple) -> Term:
    if isinstance(t, ox.Triple):
        raise UnsupportedShapeError(f"a quoted triple in the shapes graph ({t}) is not implemented")
    return t


def name(node: Term) -> str:
    return f"_:{node.value}" if isinstance(node, ox.BlankNode) else node.value


_NON_VALIDATING = {SH + p for p in ("name", "description", "order", "group", "defaultValue")}
_NODE_SHAPE_PREDICATES = {SH + p for p in ("targetClass", "property", "sparql", "severity", "message", "deactivated")}
_VALUE_PREDICATES = {
    SH + p for p in ("datatype", "nodeKind", "in", "class", "pattern", "minInclusive", "minExclusive", "or")
}
_PROPERTY_SHAPE_PREDICATES = {
    SH + p for p in ("path", "severity", "message", "minCount", "maxCount", "deactivated")
} | _VALUE_PREDICATES
_SPARQL_PREDICATES = {SH + p for p in ("select", "prefixes", "message", "deactivated")}


def _check_predicates(sg: _Shapes, node: Term, allowed: set[str], what: str) -> None:
    for p in sorted(sg.predicates(node)):
        if p.startswith(SH) and p not in allowed and p not in _NON_VALIDATING:
            raise UnsupportedShapeError(
                f"{what} {name(node)} uses sh:{p.removeprefix(SH)}, which the SPARQL engine does not implement "
                "(use --engine pyshacl)"
            )


def _deactivated(sg: _Shapes, node: Term) -> bool:
    d = sg.one(node, SH + "deactivated")
    return isinstance(d, ox.Literal) and d.value == "true"


def _messages(sg: _Shapes, node: Term) -> list[str]:
    return sorted(m.value for m in sg.objects(node, SH + "message"))


def _severity(sg: _Shapes, node: Term) -> str:
    sev = sg.one(node, SH + "severity")
    return sev.value if sev is not None else SH + "Violation"


def _int(sg: _Shapes, node: Term, p: str) -> int | None:
    v = sg.one(node, p)
    if v is None:
        return None
    if not isinstance(v, ox.Literal) or not re.fullmatch(r"[0-9]+", v.value):
        raise UnsupportedShapeError(f"{name(node)}: <{p}> must be a non-negative integer, not {v}")
    return int(v.value)


def _value_checks(sg: _Shapes, node: Term, subclasses: bool) -> list[ValueCheck]:
    where = name(node)
    checks: list[ValueCheck] = []
    for dt in sg.objects(node, SH + "datatype"):
        checks.append(_datatype_check(dt.value))
    for kind in sg.objects(node, SH + "nodeKind"):
        checks.append(_node_kind_check(kind.value, where))
    for head in sg.objects(node, SH + "in"):
        checks.append(_in_check(sg.items(head)))
    for cls in sg.objects(node, SH + "class"):
        checks.append(_class_check(cls.value, subclasses))
    for pat in sg.objects(node, SH + "pattern"):
        checks.append(_pattern_check(pat.value))
    for bound_name in ("minInclusive", "minExclusive"):
        for bound in sg.objects(node, SH + bound_name):
            if not isinstance(bound, ox.Literal):
                raise UnsupportedShapeError(f"{where}: sh:{bound_name} must be a literal")
            checks.append(_min_check(bound, where, exclusive=bound_name == "minExclusive"))
    for head in sg.objects(node, SH + "or"):
        members = []
        for member in sg.items(head):
            _check_predicates(sg, member, _VALUE_PREDICATES, "a shape in sh:or of " + where + ",")
            members.append(_value_checks(sg, member, subclasses))
        checks.append(_or_check(members, where))
    return checks


_SPARQL_FORBIDDEN = re.compile(r"\b(MINUS|SERVICE|VALUES)\b|\$(PATH|currentShape|shapesGraph)\b|\?failure\b", re.I)
_SELECT = re.compile(r"^\s*SELECT\s+(DISTINCT\s+|REDUCED\s+)?", re.I)


def _where_body(query: str, shape: str) -> tuple[str, str, str]:
    """Split ``SELECT ... WHERE { body } modifiers`` into (head, body, modifiers),
    skipping braces inside string literals, IRIs and comments."""
    m = re.search(r"\bWHERE\s*\{", query, re.I)
    if m is None:
        raise UnsupportedShapeError(f"{shape}: the SPARQL constraint's query has no WHERE {{ ... }}")
    depth = 1
    i = m.end()
    n = len(query)
    while i < n:
        c = query[i]
        if c in "\"'":
            q3 = query[i : i + 3]
            if q3 in ('"""', "'''"):
                end = query.find(q3, i + 3)
                i = n if end < 0 else end + 3
                continue
            j = i + 1
            while j < n and query[j] != c:
                j += 2 if query[j] == "\\" else 1
            i = j + 1
            continue
        if c == "#":
            nl = query.find("\n", i)
            i = n if nl < 0 else nl + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return query[: m.start()], query[m.end() : i], query[i + 1 :]
        i += 1
    raise UnsupportedShapeError(f"{shape}: unbalanced braces in the SPARQL constraint's query")


def _projected(head: str) -> list[str]:
    return re.findall(r"[?$]([A-Za-z_][A-Za-z0-9_]*)", _SELECT.sub("", head))


def _compile_sparql(sg: _Shapes, shape: Term, c: Term, targets: list[str]) -> SparqlConstraint:
    where = name(shape)
    _check_predicates(sg, c, _SPARQL_PREDICATES, "the SPARQL constraint of")
    select = sg.one(c, SH + "select")
    if not isinstance(select, ox.Literal):
        raise UnsupportedShapeError(f"{where}: a SPARQL constraint needs one sh:select")
    text = select.value
    if _SPARQL_FORBIDDEN.search(text):
        raise UnsupportedShapeError(
            f"{where}: the SPARQL constraint uses {_SPARQL_FORBIDDEN.search(text).group(0)}, "  # type: ignore[union-attr]
            "which the SPARQL engine does not implement"
        )
    if re.search(rf"[?$]{_G}\b", text):
        raise UnsupportedShapeError(f"{where}: the SPARQL constraint uses the reserved variable ?{_G}")
    prefixes = []
    for owner in sg.objects(c, SH + "prefixes"):
        for decl in sg.objects(owner, SH + "declare"):
            prefix, ns = sg.one(decl, SH + "prefix"), sg.one(decl, SH + "namespace")
            if prefix is None or ns is None:
                raise UnsupportedShapeError(f"{where}: a prefix declaration without sh:prefix or sh:namespace")
            prefixes.append(f"PREFIX {prefix.value}: <{ns.value}>")
    head, body, modifiers = _where_body(text, where)
    if not _SELECT.match(head):
        raise UnsupportedShapeError(f"{where}: the SPARQL constraint is not a SELECT query")
    if modifiers.strip():
        raise UnsupportedShapeError(
            f"{where}: solution modifiers after the WHERE group ({modifiers.strip()!r}) are not implemented"
        )
    variables = _projected(head)
    if "this" not in variables:
        raise UnsupportedShapeError(f"{where}: the SPARQL constraint does not select $this")
    return SparqlConstraint(
        shape=where,
        targets=targets,
        severity=_severity(sg, shape),
        messages=_messages(sg, shape),
        constraint_messages=_messages(sg, c),
        prefixes="\n".join(prefixes),
        head=head,
        body=body,
        projects_path="path" in variables,
        projects_value="value" in variables,
        extra_vars=[v for v in variables if v not in ("this", "path", "value")],
    )


def compile_shapes(store: ox.Store, *, subclasses: bool = False) -> CompiledShapes:
    """Compile a shapes graph (in ``store``'s default graph) into queries.

    ``subclasses``: focus nodes and ``sh:class`` follow ``rdfs:subClassOf`` in the
    data graph (needed only where a data graph states subclasses)."""
    sg = _Shapes(store)
    properties: list[PropertyShape] = []
    sparql: list[SparqlConstraint] = []
    node_shapes = set(sg.subjects(_RDF_TYPE, ox.NamedNode(SH + "NodeShape")))
    for p in (SH + "targetClass", SH + "targetNode", SH + "targetSubjectsOf", SH + "targetObjectsOf", SH + "sparql"):
        node_shapes |= set(sg.subjects(p))
    or_lists = [_plain(q.object) for q in store.quads_for_pattern(None, ox.NamedNode(SH + "or"), None)]
    in_or = {member for head in or_lists for member in sg.items(head)}
    owners: dict[Term, list[Term]] = {}
    for q in store.quads_for_pattern(None, ox.NamedNode(SH + "property"), None):
        owners.setdefault(_plain(q.object), []).append(_plain(q.subject))
    for ps in set(sg.subjects(SH + "path")) | set(owners):
        if ps in in_or:
            continue
        if ps not in owners:
            raise UnsupportedShapeError(f"property shape {name(ps)} is not the sh:property of a node shape")
    for shape in sorted(node_shapes - in_or, key=str):
        _check_predicates(sg, shape, _NODE_SHAPE_PREDICATES, "node shape")
        if _deactivated(sg, shape):
            continue
        targets = sorted(t.value for t in sg.objects(shape, SH + "targetClass"))
        if not targets:
            continue  # a shape without targets validates nothing (sh:node and the like are refused above)
        for c in sg.objects(shape, SH + "sparql"):
            if _deactivated(sg, c):
                continue
            sparql.append(_compile_sparql(sg, shape, c, targets))
        for ps in sorted(sg.objects(shape, SH + "property"), key=str):
            _check_predicates(sg, ps, _PROPERTY_SHAPE_PREDICATES, "property shape")
            if _deactivated(sg, ps):
                continue
            path = sg.one(ps, SH + "path")
            if not isinstance(path, ox.NamedNode):
                raise UnsupportedShapeError(
                    f"property shape {name(ps)}: only IRI paths are implemented by the SPARQL engine, not {path}"
                )
            properties.append(
                PropertyShape(
                    shape=name(ps),
                    targets=targets,
                    path=path.value,
                    severity=_severity(sg, ps),
                    messages=_messages(sg, ps),
                    min_count=_int(sg, ps, SH + "minCount"),
                    max_count=_int(sg, ps, SH + "maxCount"),
                    checks=_value_checks(sg, ps, subclasses),
                )
            )
    return CompiledShapes(properties, sparql, subclasses)


def shapes_store(files: Sequence[Path] | None = None) -> ox.Store:
    store = ox.Store()
    for f in files if files is not None else resources.shape_files():
        store.load(path=str(f), format=ox.RdfFormat.TURTLE)
    return store


@cache
def default_shapes(subclasses: bool) -> CompiledShapes:
    """The shipped shapes, compiled once per process."""
    return compile_shapes(shapes_store(), subclasses=subclasses)


# ---------------------------------------------------------------------------
# Running the queries


def _target(targets: list[str], subclasses: bool) -> str:
    """A group pattern binding ``?this`` to every focus node of the shape."""
    typ = f"<{_RDF_TYPE}>/<{_RDFS_SUBCLASS}>*" if subclasses else f"<{_RDF_TYPE}>"
    return " UNION ".join(f"{{ ?this {typ} {_iri(c)} }}" for c in targets)


def _generic_message(component: str, path: str | None, value: Term | None) -> str:
    what = short_component(component)
    where = f" on <{path}>" if path else ""
    return f"{what} not satisfied{where}" + (f" by {value}" if value is not None else "")


def property_queries(ps: PropertyShape, subclasses: bool) -> list[tuple[str, str]]:
    """``(kind, query)`` pairs for one property shape: ``values`` (value checks),
    ``min`` and ``max`` (counts). Each query selects ``?shaclGraph ?this`` and, for
    values, ``?value`` and one ``?okN`` per value check."""
    target = _target(ps.targets, subclasses)
    p = _iri(ps.path)
    out = []
    # The value and maxCount queries scan the path's triples and test whether the
    # subject is a focus node only for the (few) rows that fail: testing every row
    # costs more than the check itself.
    if ps.checks:
        binds = " ".join(f"BIND(COALESCE({c.sparql('value')}, false) AS ?ok{i})" for i, c in enumerate(ps.checks))
        fails = " || ".join(f"!?ok{i}" for i in range(len(ps.checks)))
        oks = " ".join(f"?ok{i}" for i in range(len(ps.checks)))
        out.append(
            (
                "values",
                f"SELECT ?{_G} ?this ?value {oks} WHERE {{ GRAPH ?{_G} {{ ?this {p} ?value . "
                f"{binds} FILTER(({fails}) && EXISTS {{ {target} }}) }} }}",
            )
        )
    if ps.min_count is not None and ps.min_count > 0:
        if ps.min_count == 1:
            q = (
                f"SELECT DISTINCT ?{_G} ?this WHERE {{ GRAPH ?{_G} {{ {target} "
                f"FILTER NOT EXISTS {{ ?this {p} ?v }} }} }}"
            )
        else:
            q = (
                f"SELECT ?{_G} ?this WHERE {{ GRAPH ?{_G} {{ {target} OPTIONAL {{ ?this {p} ?v }} }} }} "
                f"GROUP BY ?{_G} ?this HAVING (COUNT(DISTINCT ?v) < {ps.min_count})"
            )
        out.append(("min", q))
    if ps.max_count == 1:
        q = (
            f"SELECT DISTINCT ?{_G} ?this WHERE {{ GRAPH ?{_G} {{ ?this {p} ?v1 , ?v2 . "
            f"FILTER(!sameTerm(?v1, ?v2) && EXISTS {{ {target} }}) }} }}"
        )
        out.append(("max", q))
    elif ps.max_count is not None:
        q = (
            f"SELECT ?{_G} ?this WHERE {{ GRAPH ?{_G} {{ {target} ?this {p} ?v }} }} "
            f"GROUP BY ?{_G} ?this HAVING (COUNT(DISTINCT ?v) > {ps.max_count})"
        )
        out.append(("max", q))
    return out


def sparql_query(sc: SparqlConstraint, subclasses: bool) -> str:
    """The constraint's query over all graphs: ``$this`` bound by the target pattern
    inlined at the start of the WHERE group, which is matched inside ``GRAPH ?shaclGraph``."""
    return f"{sc.prefixes}\n{_sparql_select(sc, subclasses)}"


def _sparql_select(sc: SparqlConstraint, subclasses: bool) -> str:
    head = _SELECT.sub(lambda m: m.group(0) + f"?{_G} ", sc.head, count=1)
    target = _target(sc.targets, subclasses)
    return f"{head}WHERE {{ GRAPH ?{_G} {{ {target} .\n{sc.body}\n}} }}"


def has_subclass_statements(store: ox.Store, graphs: Iterable[str] | None = None) -> bool:
    """Whether any of ``graphs`` (default: any named graph) states ``rdfs:subClassOf``
    (vocabulary graphs of the same store may; trial graphs do not)."""
    query = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?a <{_RDFS_SUBCLASS}> ?b }} }}"
    found = {sol["g"].value for sol in store.query(query)}  # type: ignore[union-attr]
    return bool(found if graphs is None else found & set(graphs))


_MSG_VAR = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def _substitute(message: str, bindings: dict[str, Term | None]) -> str:
    def repl(m: re.Match[str]) -> str:
        t = bindings.get(m.group(1))
        return m.group(0) if t is None else t.value

    return _MSG_VAR.sub(repl, message)


Handler = Callable[[ox.QuerySolution, list[RawResult]], None]


def _property_handler(ps: PropertyShape, kind: str) -> Handler:
    message = " ".join(ps.messages)

    def handle(sol: ox.QuerySolution, out: list[RawResult]) -> None:
        g, focus = sol[_G], sol["this"]
        if kind == "values":
            value = sol["value"]
            for i, c in enumerate(ps.checks):
                ok = sol[f"ok{i}"]
                if ok is not None and ok.value == "true":
                    continue
                if c.python is not None and c.python(value):
                    continue
                msg = message or _generic_message(c.component, ps.path, value)
                out.append(RawResult(g.value, ps.severity, ps.shape, focus, ps.path, value, c.component, msg))
        else:
            comp = SH + ("MinCountConstraintComponent" if kind == "min" else "MaxCountConstraintComponent")
            msg = message or _generic_message(comp, ps.path, None)
            out.append(RawResult(g.value, ps.severity, ps.shape, focus, ps.path, None, comp, msg))

    return handle


def _sparql_handler(sc: SparqlConstraint) -> Handler:
    seen: set[tuple[str, ...]] = set()  # pySHACL reports each distinct solution once

    def handle(sol: ox.QuerySolution, out: list[RawResult]) -> None:
        g, focus = sol[_G], sol["this"]
        path = sol["path"] if sc.projects_path else None
        value = sol["value"] if sc.projects_value else None
        extra = {v: sol[v] for v in sc.extra_vars}
        key = (g.value, str(focus), str(path), str(value), *(str(extra[v]) for v in sc.extra_vars))
        if key in seen:
            return
        seen.add(key)
        if value is None:
            value = focus  # a node shape's result without ?value reports its focus node
        bindings = {"this": focus, "path": path, "value": value, **extra}
        msgs = sorted(set(sc.messages) | {_substitute(m, bindings) for m in sc.constraint_messages})
        out.append(
            RawResult(
                g.value,
                sc.severity,
                sc.shape,
                focus,
                path.value if isinstance(path, ox.NamedNode) else None,
                value,
                SH + "SPARQLConstraintComponent",
                " ".join(msgs) or _generic_message(SH + "SPARQLConstraintComponent", None, value),
            )
        )

    return handle


def _plans(shapes: CompiledShapes) -> list[tuple[str, str, Handler]]:
    """``(prefixes, select, handler)`` for every query of the compiled shapes."""
    sub = shapes.subclasses
    plans = [("", q, _property_handler(ps, kind)) for ps in shapes.properties for kind, q in property_queries(ps, sub)]
    plans += [(sc.prefixes, _sparql_select(sc, sub), _sparql_handler(sc)) for sc in shapes.sparql]
    return plans


def run(
    store: ox.Store,
    graphs: Iterable[str] | None = None,
    *,
    shapes: CompiledShapes | None = None,
    on_query: Callable[[], None] | None = None,
    workers: int = 1,
) -> list[RawResult]:
    """Validate the named graphs of ``store`` (each on its own): the results for
    ``graphs`` (default: every named graph), in the order of the queries.

    With ``workers`` > 1, that many queries run at once, in threads: pyoxigraph
    evaluates a query without holding Python's lock, and each query has its own
    result handler. The results are the same, in the same order."""
    wanted = set(graphs) if graphs is not None else None
    if shapes is None:
        shapes = default_shapes(has_subclass_statements(store, wanted))

    def execute(plan: tuple[str, str, Handler]) -> list[RawResult]:
        prefixes, select, handle = plan
        found: list[RawResult] = []
        for sol in store.query(f"{prefixes}\n{select}" if prefixes else select):  # type: ignore[union-attr]
            g = sol[_G]
            if isinstance(g, ox.NamedNode) and (wanted is None or g.value in wanted):
                handle(sol, found)
        return found

    out: list[RawResult] = []
    plans = _plans(shapes)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        parts = pool.map(execute, plans) if workers > 1 else map(execute, plans)
        for part in parts:  # in the order of the queries, whatever order they finish in
            out.extend(part)
            if on_query is not None:
                on_query()
    return out


def query_count(shapes: CompiledShapes) -> int:
    return sum(len(property_queries(ps, shapes.subclasses)) for ps in shapes.properties) + len(shapes.sparql)
