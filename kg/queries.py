"""Saved SPARQL queries: the cross-trial question catalogue, run by name.

Each query is a ``.rq`` file in :func:`kg.resources.queries_dir` that starts with a
header of ``#`` comment lines in this layout (continuation lines start with ``#``
and at least two spaces)::

    # title: Phase distribution
    # question: How many trials are in each phase?
    # param: condition | concept | none | D001327 | The condition: MeSH ID, IRI, CURIE or label
    # param: exact | bool | false | true | Match only the condition itself, not narrower ones
    # columns: phase, trials

A ``param`` line is ``name | type | default | example | description``. The default is
``required``, ``none`` (optional, no value) or a value; the example is a value or ``-``.
Types: ``string``, ``label`` (text matched in any letter case), ``int``, ``bool``,
``date`` (YYYY-MM-DD), ``iri``, ``concept`` (a condition or intervention: a MeSH ID
such as ``D001327``, a vocabulary IRI, a CURIE such as ``CL:0000134`` or a label such as
``Autoimmune Diseases``) and ``term`` (given the same ways, but matched as vocabulary
concepts only, never as names in the trials: a cell type, a tissue).

**Binding.** Parameters are bound as RDF terms, never pasted into the query as text:
each parameter owns one or more *parameter variables*, and every ``VALUES`` clause of
the query whose variables are all parameter variables gets its data block replaced by
rows built from pyoxigraph terms (whose ``str()`` is their N-Triples form, with every
quote and control character escaped). A value that is not a valid term of the
parameter's type is rejected before any query runs. The query author places those
``VALUES`` clauses where the variables are needed, so a clause is always joined with
the patterns that use its variables; the data written in the file are those of the
default parameters, so a ``.rq`` file runs as it is on any SPARQL 1.1 store.

Parameter variables: a parameter ``p`` of a scalar type binds ``?p`` (``UNDEF`` when it
is optional, has no default and is not given); a ``label`` parameter also binds
``?p_key``, its lower-cased form (:func:`kg.terms.lookup_key`), to look up the
``tkg:nameKey`` and ``tkg:labelKey`` statements by index (SPARQL stores do not index
``LCASE``, and Oxigraph does not push a ``BIND`` into a pattern). A ``concept`` parameter binds
``?p_iri`` (the concept IRIs it names) and ``?p_name`` (the names in the trials that
equal a label in any letter case): a label is resolved to concept IRIs with the
``concepts-by-label`` query and to names with the ``names-by-label`` query. A ``term``
parameter binds ``?p_iri`` only (a label: the concepts ``concepts-by-label`` finds). A
``condition`` parameter binds ``?trial`` to the trials the ``condition-trials`` query
selects for it (passing on ``exact``), and an
``intervention`` parameter binds ``?intervention`` to the intervention nodes the
``intervention-matches`` query selects (a selector query runs without its final
``ORDER BY`` line: only the set it selects is used); when optional, these also bind ``?p_any``
(``true`` when the parameter is not given: the query then takes every trial). A clause
over a variable with no values has an empty data block and matches nothing; a concept-IRI
variable (``?p_iri``) with no values is bound instead to ``<urn:trialkg:no-value>``, an
IRI that names nothing, so that a property path ending in it has a bound end (Virtuoso
refuses to compile one with neither end bound) and still matches nothing.

**Same rows everywhere.** Every step runs on the same backend, an embedded store or an
endpoint, with the same query texts, and every query names its graphs (``GRAPH ?g``),
so a store whose default graph is not the union of the named graphs gives the same rows.

**Plans.** A query that takes a condition is written twice over, as two ``UNION``
branches of which one is empty: for every trial (``?condition_any``) each pattern is
its own sub-select, so that Oxigraph joins whole index scans by hashing; for selected
trials (``?trial``) the patterns follow the ``VALUES`` of trial IRIs, so that each is
looked up trial by trial. Both give the same rows on any store.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any
from urllib.error import URLError

import pyoxigraph as ox
from SPARQLWrapper import BASIC, DIGEST, JSON, POST, SELECT, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from kg import terms as T
from kg.errors import QueryError
from kg.remote import Credentials, safe_url
from kg.resources import queries_dir
from kg.results import Row, solutions_to_rows
from kg.sources._common import normalise_mesh_id

#: The queries that resolve a concept parameter given as a label: to the concepts with
#: that label, and to the names in the trials that are that label in any letter case.
LABEL_QUERY = "concepts-by-label"
NAMES_QUERY = "names-by-label"

Term = ox.NamedNode | ox.Literal


class ParamType(StrEnum):
    string = "string"
    label = "label"
    int = "int"
    bool = "bool"
    date = "date"
    iri = "iri"
    concept = "concept"
    term = "term"
    condition = "condition"
    intervention = "intervention"
    trial = "trial"


#: Parameter types given as a concept (an ID, CURIE, IRI or label): ``concept`` also
#: matches names in the trials, ``term`` vocabulary concepts only.
_CONCEPT_TYPES = (ParamType.concept, ParamType.term)


#: Parameter types whose value selects RDF nodes by running another saved query:
#: type -> (that query, the parameter it is given, the column read, the variable bound).
#: A ``trial`` parameter's query runs even when the parameter is not given (it then
#: selects every trial it answers for); the others select every trial when not given.
SELECTORS: dict[ParamType, tuple[str, str, str, str]] = {
    ParamType.condition: ("condition-trials", "condition", "trial", "trial"),
    ParamType.intervention: ("intervention-matches", "intervention", "intervention", "intervention"),
    ParamType.trial: ("trials-with-several-sources", "nct_id", "trial", "trial"),
}
#: The parameter that tells a selector to match the concept itself only.
EXACT = "exact"


@dataclass(frozen=True)
class Param:
    name: str
    type: ParamType
    required: bool
    default: str | None  # the default value as text; None when there is none
    example: str | None
    description: str

    @property
    def variables(self) -> tuple[str, ...]:
        """The parameter variables this parameter binds (without ``?``)."""
        if self.type is ParamType.concept:
            own: tuple[str, ...] = (f"{self.name}_iri", f"{self.name}_name")
        elif self.type is ParamType.term:
            own = (f"{self.name}_iri",)
        elif self.type in SELECTORS:
            own = (SELECTORS[self.type][3],)
            if self.type is ParamType.trial:
                return own
        elif self.type is ParamType.label:
            return (self.name, f"{self.name}_key")
        else:
            return (self.name,)
        return own if self.required else (*own, f"{self.name}_any")

    def describe(self) -> str:
        """``condition (concept, optional)``, ``exact (bool, default false)``."""
        if self.required:
            state = "required"
        elif self.default is None:
            state = "optional"
        else:
            state = f"default {self.default}"
        return f"{self.name} ({self.type.value}, {state})"


@dataclass(frozen=True)
class SavedQuery:
    name: str
    title: str
    question: str
    params: tuple[Param, ...]
    columns: tuple[str, ...]
    path: Path
    text: str = field(repr=False)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise QueryError(f"query {self.name!r} has no parameter {name!r} (parameters: {known})")

    @property
    def variables(self) -> dict[str, Param]:
        """Parameter variable -> the parameter that binds it."""
        return {v: p for p in self.params for v in p.variables}

    @property
    def selects(self) -> bool:
        """Whether a parameter of this query is resolved by a selector query (which then
        takes the ``exact`` parameter)."""
        return any(p.type in SELECTORS for p in self.params)


# --------------------------------------------------------------------------
# Reading query files

_HEADER_LINE = re.compile(r"^#\s?([a-z]+):\s*(.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(\S.*)$")
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS = {"title", "question", "param", "columns"}


def parse_header(text: str, path: Path) -> tuple[dict[str, str], list[str]]:
    """The header's single-valued fields and its ``param`` lines (see the module doc)."""
    fields: dict[str, str] = {}
    params: list[str] = []
    last: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            break
        if line.strip() == "#":
            last = None
            continue
        if (m := _CONTINUATION.match(line)) and last is not None:
            if last == "param":
                params[-1] += " " + m.group(1).strip()
            else:
                fields[last] += " " + m.group(1).strip()
            continue
        m = _HEADER_LINE.match(line)
        if m is None or m.group(1) not in _KEYS:
            raise QueryError(f"{path.name} line {lineno}: not a header line ({', '.join(sorted(_KEYS))}): {line!r}")
        key, value = m.group(1), m.group(2).strip()
        if key == "param":
            params.append(value)
        elif key in fields:
            raise QueryError(f"{path.name} line {lineno}: {key!r} given twice")
        else:
            fields[key] = value
        last = key
    for key in ("title", "question", "columns"):
        if not fields.get(key):
            raise QueryError(f"{path.name}: the header has no {key!r} line")
    return fields, params


def _parse_param(spec: str, path: Path) -> Param:
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) != 5:
        raise QueryError(f"{path.name}: a param line is 'name | type | default | example | description', got {spec!r}")
    name, type_, default, example, description = parts
    if not _PARAM_NAME.match(name):
        raise QueryError(f"{path.name}: parameter name {name!r} is not lower_snake_case")
    try:
        ptype = ParamType(type_)
    except ValueError:
        raise QueryError(
            f"{path.name}: parameter {name!r} has unknown type {type_!r} (use {', '.join(t.value for t in ParamType)})"
        ) from None
    required = default == "required"
    param = Param(
        name=name,
        type=ptype,
        required=required,
        default=None if default in ("required", "none") else default,
        example=None if example == "-" else example,
        description=description,
    )
    if param.default is not None:
        try:
            _convert(param, param.default)
        except ValueError as exc:
            raise QueryError(f"{path.name}: the default of parameter {name!r} is not valid: {exc}") from None
    return param


def load_query(path: Path) -> SavedQuery:
    text = path.read_text(encoding="utf-8")
    fields, param_specs = parse_header(text, path)
    params = tuple(_parse_param(s, path) for s in param_specs)
    if len({p.name for p in params}) != len(params):
        raise QueryError(f"{path.name}: a parameter is declared twice")
    query = SavedQuery(
        name=path.stem,
        title=fields["title"],
        question=fields["question"],
        params=params,
        columns=tuple(c.strip() for c in fields["columns"].split(",")),
        path=path,
        text=text,
    )
    if not re.match(r"\s*(?:(?:PREFIX\s+[^:\s]*:\s*x+|BASE\s*x+)\s*)*SELECT\b", _mask(text), re.IGNORECASE):
        raise QueryError(f"{path.name}: a saved query must be a SELECT query")
    _check_values_clauses(query)
    return query


@cache
def _catalogue(directory: Path) -> dict[str, SavedQuery]:
    return {p.stem: load_query(p) for p in sorted(directory.glob("*.rq"))}


def list_queries(directory: Path | None = None) -> list[SavedQuery]:
    """Every saved query (``queries/*.rq``; the quality checks in ``qc/`` are not listed), by name."""
    return list(_catalogue(directory or queries_dir()).values())


def get_query(name: str, directory: Path | None = None) -> SavedQuery:
    queries = _catalogue(directory or queries_dir())
    if name not in queries:
        raise QueryError(f"no saved query named {name!r}: run `trialkg query --list` (known: {', '.join(queries)})")
    return queries[name]


# --------------------------------------------------------------------------
# VALUES clauses, found outside comments, strings and IRIs

_IRIREF = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_VAR = r"[?$][A-Za-z_][A-Za-z0-9_]*"
_VALUES = re.compile(
    rf"\bVALUES\s*(?P<vars>\((?:\s*{_VAR})*\s*\)|{_VAR})\s*\{{(?P<data>[^{{}}]*)\}}",
    re.IGNORECASE,
)


def _mask(text: str) -> str:
    """``text`` with comments blanked and string and IRI contents overwritten, same length,
    so that keywords and braces can be found by position in code only."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int, fill: str) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = fill

    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j, " ")
            i = j
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if text[j] == "\\":
                    j += 1
                elif len(quote) == 1 and text[j] == "\n":
                    raise QueryError(f"unterminated string at character {i}")
                j += 1
            if j >= n:
                raise QueryError(f"unterminated string at character {i}")
            blank(i, j + len(quote), "x")
            i = j + len(quote)
        elif c == "<" and (m := _IRIREF.match(text, i)):
            blank(i, m.end(), "x")
            i = m.end()
        else:
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class _ValuesClause:
    variables: tuple[str, ...]
    tuple_form: bool
    start: int  # of the data block's content (after "{")
    end: int  # of the data block's content (before "}")


def values_clauses(text: str) -> list[_ValuesClause]:
    masked = _mask(text)
    out = []
    for m in _VALUES.finditer(masked):
        raw = m.group("vars")
        names = tuple(v[1:] for v in re.findall(_VAR, raw))
        out.append(_ValuesClause(names, raw.startswith("("), m.start("data"), m.end("data")))
    return out


def _check_values_clauses(query: SavedQuery) -> None:
    owned = query.variables
    used: set[str] = set()
    for clause in values_clauses(query.text):
        mine = [v for v in clause.variables if v in owned]
        if mine and len(mine) != len(clause.variables):
            others = ", ".join("?" + v for v in clause.variables if v not in owned)
            raise QueryError(f"{query.path.name}: a VALUES clause mixes parameter variables with {others}")
        used.update(mine)
    # with a selector parameter, "exact" goes to the selector query
    missing = [v for v in owned if v not in used and not (v == EXACT and query.selects)]
    if missing:
        raise QueryError(
            f"{query.path.name}: no VALUES clause binds the parameter variable(s) {', '.join('?' + v for v in missing)}"
        )


def render(query: SavedQuery, data: Mapping[str, Sequence[Term | None]]) -> str:
    """The query text with the data block of every parameter VALUES clause replaced
    by rows of ``data`` (variable -> its values; ``None`` is ``UNDEF``)."""
    text = query.text
    pieces: list[str] = []
    pos = 0
    for clause in values_clauses(text):
        if not clause.variables or clause.variables[0] not in query.variables:
            continue
        # a concept-IRI variable with no values gets one IRI that names nothing: Virtuoso
        # refuses to compile a property path with neither end bound, as an empty VALUES
        # leaves its end ("?narrower skos:broader+ ?condition_iri")
        columns = [data[v] or ([_NO_VALUE] if v.endswith("_iri") else []) for v in clause.variables]
        rows = list(itertools.product(*columns))
        cells = [[_sparql_term(t) for t in row] for row in rows]
        block = " ".join(("(" + " ".join(c) + ")") if clause.tuple_form else c[0] for c in cells)
        pieces.append(text[pos : clause.start])
        pieces.append(f" {block} " if block else " ")
        pos = clause.end
    pieces.append(text[pos:])
    return "".join(pieces)


#: The value of a concept-IRI parameter variable that has none (see :func:`render`).
_NO_VALUE = ox.NamedNode("urn:trialkg:no-value")

#: A query's final ORDER BY clause (the last line of every saved query that has one)
_FINAL_ORDER_BY = re.compile(r"\nORDER BY [^\n{}]*\s*\Z")


def unordered(text: str) -> str:
    """The query without its final ``ORDER BY`` line: what a parameter's selector query
    runs as, since only the set of nodes it selects is used. For a query with many rows,
    sorting is a large share of the time (Oxigraph evaluates the order expressions at
    each comparison). A query without that line is returned as it is."""
    return _FINAL_ORDER_BY.sub("\n", text)


def _sparql_term(term: Term | None) -> str:
    """A term as SPARQL text: N-Triples form (every quote and control character escaped),
    booleans and integers in their short form, ``UNDEF`` for no value."""
    if term is None:
        return "UNDEF"
    if isinstance(term, ox.Literal) and term.datatype in (T.XSD_BOOLEAN, T.XSD_INTEGER):
        if not _SHORT_FORM.match(term.value):
            raise QueryError(f"not a canonical {term.datatype.value} value: {term.value!r}")
        return term.value
    return str(term)


_SHORT_FORM = re.compile(r"^(?:true|false|[+-]?\d+)$")


# --------------------------------------------------------------------------
# Parameter values

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
_INT = re.compile(r"^[+-]?\d+$")
_MESH_ID = re.compile(r"^[DC]\d{6,9}$", re.IGNORECASE)
_DRUGBANK_ID = re.compile(r"^DB\d{5}$", re.IGNORECASE)
_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*):([A-Za-z0-9_.-]+)$")
_OBO_LOCAL = re.compile(r"^\d+$")


@dataclass(frozen=True)
class ConceptValue:
    """A concept parameter's value: an IRI, or a label to match case-insensitively."""

    iri: ox.NamedNode | None = None
    label: str | None = None


def parse_concept(value: str) -> ConceptValue:
    """``D001327``, ``mesh:D001327``, ``CL:0000134``, ``DB00001``, a full IRI, or else a label."""
    s = value.strip()
    if not s:
        raise ValueError("an empty condition or intervention")
    if "://" in s or s.startswith("urn:"):
        return ConceptValue(iri=_named_node(s))
    if _MESH_ID.match(s):
        return ConceptValue(iri=T.mesh_iri(normalise_mesh_id(s)))
    if _DRUGBANK_ID.match(s):
        return ConceptValue(iri=T.drugbank_iri(s.upper()))
    if m := _CURIE.match(s):
        prefix, local = m.group(1), m.group(2)
        low = prefix.lower()
        if low == "mesh" and _MESH_ID.match(local):
            return ConceptValue(iri=T.mesh_iri(normalise_mesh_id(local)))
        if low == "drugbank" and _DRUGBANK_ID.match(local):
            return ConceptValue(iri=T.drugbank_iri(local.upper()))
        if low not in ("mesh", "drugbank") and _OBO_LOCAL.match(local):
            return ConceptValue(iri=T.obo_iri(f"{prefix.upper()}:{local}"))
    return ConceptValue(label=s)


def _named_node(value: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(value)
    except ValueError as exc:
        raise ValueError(f"not a valid IRI: {exc}") from None


def _convert(param: Param, value: object) -> Term | ConceptValue:
    """A parameter value as an RDF term (or a concept value); ValueError when invalid."""
    match param.type:
        case ParamType.bool:
            if isinstance(value, bool):
                flag = value
            elif (s := str(value).strip().lower()) in _TRUE | _FALSE:
                flag = s in _TRUE
            else:
                raise ValueError("expected true or false")
            return ox.Literal("true" if flag else "false", datatype=T.XSD_BOOLEAN)
        case ParamType.int:
            if isinstance(value, bool) or not _INT.match(str(value).strip()):
                raise ValueError("expected a whole number")
            return ox.Literal(str(int(str(value).strip())), datatype=T.XSD_INTEGER)
        case ParamType.date:
            try:
                day = datetime.date.fromisoformat(str(value).strip())
            except ValueError:
                raise ValueError("expected a date as YYYY-MM-DD") from None
            return ox.Literal(day.isoformat(), datatype=T.XSD_DATE)
        case ParamType.iri:
            return _named_node(str(value).strip())
        case ParamType.string | ParamType.label:
            if not isinstance(value, str):
                raise ValueError("expected text")
            return ox.Literal(value)
        case ParamType.concept | ParamType.term | ParamType.condition | ParamType.intervention:
            return parse_concept(str(value))
        case ParamType.trial:
            nct = str(value).strip().upper()
            if not re.fullmatch(r"NCT\d{8}", nct):
                raise ValueError("expected an NCT ID such as NCT01234567")
            return ox.Literal(nct)
    raise AssertionError(param.type)  # pragma: no cover - exhaustive match


def check_params(query: SavedQuery, params: Mapping[str, object] | None) -> dict[str, Term | ConceptValue | None]:
    """Validate ``params`` against the query's declared parameters; apply defaults."""
    given = dict(params or {})
    for name in given:
        query.param(name)  # raises for an unknown parameter
    out: dict[str, Term | ConceptValue | None] = {}
    for p in query.params:
        raw = given.get(p.name)
        if raw is None or (isinstance(raw, str) and not raw.strip() and p.type is not ParamType.string):
            if p.required:
                example = f" (for example {p.name}={p.example})" if p.example else ""
                raise QueryError(f"query {query.name!r} needs the parameter {p.name!r}{example}")
            raw = p.default
        if raw is None:
            out[p.name] = None
            continue
        try:
            out[p.name] = _convert(p, raw)
        except ValueError as exc:
            raise QueryError(f"parameter {p.name!r} ({p.type.value}) of query {query.name!r}: {raw!r}: {exc}") from None
    return out


#: Turns a label into the IRIs of the concepts it names and (when the flag is set) the
#: names in the trials that equal it.
Resolver = Callable[[str, bool], tuple[list[ox.NamedNode], list[ox.Literal]]]


def bindings(
    query: SavedQuery, values: Mapping[str, Term | ConceptValue | None], resolve: Resolver | None = None
) -> dict[str, list[Term | None]]:
    """Parameter variable -> its values for the scalar and concept parameters (see the
    module doc). ``resolve`` turns a label into concept IRIs and names; without it a
    label matches nothing."""
    data: dict[str, list[Term | None]] = {}
    for p in query.params:
        v = values.get(p.name)
        if p.type in SELECTORS:
            continue  # bound by _bound_text, which runs the selector query
        if p.type is ParamType.label:
            assert v is None or isinstance(v, ox.Literal)
            data[p.name] = [v]
            data[f"{p.name}_key"] = [None if v is None else ox.Literal(T.lookup_key(v.value))]
            continue
        if p.type not in _CONCEPT_TYPES:
            assert not isinstance(v, ConceptValue)
            data[p.name] = [v]
            continue
        assert v is None or isinstance(v, ConceptValue)
        iris: list[Term | None] = []
        names: list[Term | None] = []
        if v is not None and v.iri is not None:
            iris = [v.iri]
        elif v is not None and v.label is not None and resolve is not None:
            found_iris, found_names = resolve(v.label, p.type is ParamType.concept)
            iris = [ox.NamedNode(x) for x in sorted({n.value for n in found_iris})]
            names = [ox.Literal(x) for x in sorted({n.value for n in found_names})]
        data[f"{p.name}_iri"] = iris
        if p.type is ParamType.concept:
            data[f"{p.name}_name"] = names
        if not p.required:
            data[f"{p.name}_any"] = [ox.Literal("true", datatype=T.XSD_BOOLEAN)] if v is None else []
    return data


# --------------------------------------------------------------------------
# Running queries


class _Backend:
    def select(self, text: str) -> tuple[list[str], list[Row]]:
        raise NotImplementedError


class _Embedded(_Backend):
    def __init__(self, store: Any) -> None:
        self.store: ox.Store = getattr(store, "store", store)

    def select(self, text: str) -> tuple[list[str], list[Row]]:
        try:
            # The SPARQL default: the default graph is not the union of the named graphs,
            # as on every endpoint; saved queries name their graphs.
            result = self.store.query(text, use_default_graph_as_union=False)
            return solutions_to_rows(result)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from None
        except OSError as exc:
            raise QueryError(f"query failed on the store: {exc}") from None


class _Endpoint(_Backend):
    def __init__(self, url: str, auth: tuple[str, str] | None, digest: bool) -> None:
        self.url = url
        self.auth = auth
        self.digest = digest

    def select(self, text: str) -> tuple[list[str], list[Row]]:
        client = SPARQLWrapper(self.url)
        client.setQuery(text)
        # Saved queries are SELECT queries. SPARQLWrapper guesses the form from the first
        # keyword it finds in the text, comments included ("described" reads as DESCRIBE,
        # "address" as ADD, an update): never let it guess.
        client.queryType = SELECT
        client.setMethod(POST)
        client.setRequestMethod(URLENCODED)
        client.setReturnFormat(JSON)
        client.setTimeout(600)
        if self.auth is not None:
            client.setHTTPAuth(DIGEST if self.digest else BASIC)
            client.setCredentials(*self.auth)
        try:
            doc = client.queryAndConvert()
        except SPARQLWrapperException as exc:
            raise QueryError(f"the endpoint {safe_url(self.url)} refused the query: {exc}") from None
        except (URLError, OSError) as exc:
            raise QueryError(f"cannot query {safe_url(self.url)}: {exc}") from None
        if not isinstance(doc, dict) or "head" not in doc:
            raise QueryError(f"the endpoint {safe_url(self.url)} did not answer with SPARQL JSON results")
        if "boolean" in doc:
            return ["result"], [{"result": "true" if doc["boolean"] else "false"}]
        variables = list(doc["head"].get("vars", []))
        rows = [
            {v: (b[v]["value"] if v in b else None) for v in variables}
            for b in doc.get("results", {}).get("bindings", [])
        ]
        return variables, rows


Auth = tuple[str, str] | Credentials | None


def _backend(store: Any, endpoint: str | None, auth: Auth, digest: bool) -> _Backend:
    if (store is None) == (endpoint is None):
        raise QueryError("give either a store or an endpoint")
    if endpoint is not None:
        if isinstance(auth, Credentials):
            auth = (auth.user, auth.password)
        return _Endpoint(endpoint, auth, digest)
    return _Embedded(store)


def _bound_text(backend: _Backend, name: str, params: Mapping[str, object] | None, directory: Path | None) -> str:
    query = get_query(name, directory)
    values = check_params(query, params)
    labels = [v for p in query.params if p.type in _CONCEPT_TYPES and isinstance(v := values[p.name], ConceptValue)]
    resolve: Resolver | None = None
    if any(v.label is not None for v in labels):

        def resolve(label: str, names: bool) -> tuple[list[ox.NamedNode], list[ox.Literal]]:
            # the names lookup only for a concept parameter: a term matches concepts only
            def lookup(query_name: str, column: str) -> list[str]:
                q = get_query(query_name, directory)
                _, rows = backend.select(render(q, bindings(q, check_params(q, {"label": label}))))
                return [x for r in rows if (x := r.get(column)) is not None]

            found_names = lookup(NAMES_QUERY, "name") if names else []
            return [ox.NamedNode(x) for x in lookup(LABEL_QUERY, "concept")], [ox.Literal(x) for x in found_names]

    data = bindings(query, values, resolve)
    for p in query.params:
        if p.type not in SELECTORS:
            continue
        selector, concept, column, variable = SELECTORS[p.type]
        found: list[Term | None] = []
        given = values[p.name]
        if given is not None or p.type is ParamType.trial:
            forwarded: dict[str, object] = {}
            if isinstance(given, ox.Literal):
                forwarded[concept] = given.value
            elif given is not None:
                assert params is not None
                forwarded[concept] = params[p.name]
            exact = values.get(EXACT)
            if isinstance(exact, ox.Literal) and p.type is not ParamType.trial:
                forwarded[EXACT] = exact.value
            _, rows = backend.select(unordered(_bound_text(backend, selector, forwarded, directory)))
            selected = {r[column] for r in rows if r.get(column) is not None}
            found = [ox.NamedNode(iri) for iri in sorted(str(x) for x in selected)]
        data[variable] = found
        if not p.required and p.type is not ParamType.trial:
            data[f"{p.name}_any"] = [ox.Literal("true", datatype=T.XSD_BOOLEAN)] if values[p.name] is None else []
    return render(query, data)


def prepare_query(
    name: str,
    params: Mapping[str, object] | None = None,
    *,
    store: Any = None,
    endpoint: str | None = None,
    auth: Auth = None,
    digest: bool = False,
    directory: Path | None = None,
) -> str:
    """The query text with its parameters bound, as it would run (a label is resolved to
    concept IRIs on the store or endpoint); for ``trialkg query --show-query``."""
    return _bound_text(_backend(store, endpoint, auth, digest), name, params, directory)


def run_query(
    name: str,
    params: Mapping[str, object] | None = None,
    *,
    store: Any = None,
    endpoint: str | None = None,
    auth: Auth = None,
    digest: bool = False,
    directory: Path | None = None,
) -> tuple[list[str], list[Row]]:
    """Run a saved query on an embedded store (a :class:`~kg.store.TrialStore` or a
    pyoxigraph ``Store``) or on a SPARQL 1.1 endpoint (``auth``: ``(user, password)`` or
    :class:`kg.remote.Credentials`; Basic authentication, or Digest with ``digest``).
    Returns ``(variables, rows)``, each row mapping a variable to its text (None when unbound)."""
    backend = _backend(store, endpoint, auth, digest)
    return backend.select(_bound_text(backend, name, params, directory))


def describe_params(params: Iterable[Param]) -> str:
    """``condition (concept, optional), exact (bool, default false)``, or ``-``."""
    return ", ".join(p.describe() for p in params) or "-"
