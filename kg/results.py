"""SPARQL results as plain rows, and rows rendered as a table, CSV, TSV or JSON.

Used by ``trialkg sparql`` and ``trialkg query``, for the embedded store and for
remote endpoints alike, so that both print the same thing for the same rows.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pyoxigraph as ox

from kg import terms as T

Row = dict[str, str | None]


def term_text(term: Any) -> str | None:
    """A result term as the text users see: IRIs in full, literals by their lexical form."""
    if term is None:
        return None
    return str(term.value)


def solutions_to_rows(result: Any) -> tuple[list[str], list[Row]]:
    """``(variables, rows)`` from a pyoxigraph SELECT result."""
    if isinstance(result, ox.QueryBoolean):
        return ["result"], [{"result": "true" if bool(result) else "false"}]
    if isinstance(result, ox.QueryTriples):
        variables = ["subject", "predicate", "object"]
        return variables, [
            {"subject": term_text(t.subject), "predicate": term_text(t.predicate), "object": term_text(t.object)}
            for t in result
        ]
    variables = [v.value for v in result.variables]
    rows = [{v: term_text(sol[v]) for v in variables} for sol in result]
    return variables, rows


def render(variables: list[str], rows: list[Row], fmt: str, *, compact_iris: bool = True) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt in ("csv", "tsv"):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        w.writerow(variables)
        for r in rows:
            w.writerow(["" if r.get(v) is None else r[v] for v in variables])
        return buf.getvalue()
    return _table(variables, rows, compact_iris)


def _table(variables: list[str], rows: list[Row], compact: bool) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(*variables, show_lines=False)
    for r in rows:
        table.add_row(*[_short(r.get(v), compact) for v in variables])
    buf = io.StringIO()
    Console(file=buf, width=200, color_system=None).print(table)
    return buf.getvalue() + f"{len(rows)} row{'s' if len(rows) != 1 else ''}\n"


def _short(value: str | None, compact: bool) -> str:
    if value is None:
        return ""
    if compact:
        for prefix, ns in T.PREFIXES.items():
            if value.startswith(ns):
                return f"{prefix}:{value[len(ns) :]}"
    return value
