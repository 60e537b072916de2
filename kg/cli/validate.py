"""``trialkg validate``: SHACL validation of the store's trial graphs.

Register with :func:`register` (``app.command("validate")(validate)``).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kg.cli._options import EngineOption, StoreOption, TrialOption, interactive, open_store
from kg.errors import TrialKGError
from kg.validation import DEFAULT_ENGINE, Engine, Severity, ValidationReport, short, sparql_query_count, validate_store


class ReportFormat(StrEnum):
    text = "text"
    turtle = "turtle"
    json = "json"


def validate(
    trial: TrialOption = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            "-f",
            help="text: one line per result, grouped by trial and shape; turtle: a standard sh:ValidationReport; "
            "json: the results with trial ID and graph.",
        ),
    ] = ReportFormat.text,
    store: StoreOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            help="How much runs at once: SPARQL queries (sparql engine, in threads) or trial graphs "
            "(pyshacl, in processes); default: one per usable core.",
        ),
    ] = None,
    engine: EngineOption = None,
) -> None:
    """Validate trial graphs with the SHACL shapes, each trial graph on its own.

    The sparql engine (default) runs each constraint of the shapes as one SPARQL query
    over all trial graphs; pyshacl (the reference engine) validates one graph at a time.
    Both give the same results.

    Exit status: 0 when no result is a Violation (warnings and infos are reported but
    allowed), 1 when there are violations, 2 on an error (no store, unknown trial).
    """
    try:
        ts = open_store(store, read_only=True)
        wanted = ts.require_trials(trial, incomplete=True)  # an interrupted write is reported too
        chosen = Engine(engine or DEFAULT_ENGINE)
        if interactive():
            sparql = chosen is Engine.SPARQL
            total = sparql_query_count() if sparql else len(ts.trial_graphs(wanted, incomplete=True))
            unit = "queries" if sparql else "trial graphs"
            with Progress(
                TextColumn(f"validating ({unit})"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            ) as bar:
                task = bar.add_task("validating", total=total)
                report = validate_store(
                    ts,
                    wanted,
                    workers=workers,
                    engine=chosen,
                    on_graph=lambda _g: bar.advance(task),
                    on_query=lambda: bar.advance(task),
                )
        else:
            report = validate_store(ts, wanted, workers=workers, engine=chosen)
    except TrialKGError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if fmt is ReportFormat.turtle:
        sys.stdout.write(report.to_turtle())
    elif fmt is ReportFormat.json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        sys.stdout.write(report_text(report))
    sys.stdout.flush()
    raise typer.Exit(0 if report.conforms else 1)


def report_text(report: ValidationReport) -> str:
    """Readable text: results grouped by trial, then by shape, one line per result,
    and a closing summary line."""
    lines: list[str] = []
    for nct, results in sorted(report.by_trial().items(), key=lambda kv: kv[0] or ""):
        lines.append(f"{nct or '(no trial)'}")
        by_shape: dict[str, list] = {}
        for r in results:
            by_shape.setdefault(r.source_shape, []).append(r)
        for shape, rs in sorted(by_shape.items(), key=lambda kv: (kv[1][0].severity.rank, kv[0])):
            lines.append(f"  {short(shape)}: {rs[0].message}")
            for r in rs:
                graph = r.graph.rsplit("/", 2)[-2] + "/" + r.graph.rsplit("/", 1)[-1] if r.graph else "-"
                value = f" = {r.value}" if r.value is not None else ""
                lines.append(
                    f"    {r.severity.value.upper():<9} {short(r.focus_node)} {short(r.result_path)}{value}"
                    f"  [{short(r.constraint_component).removesuffix('ConstraintComponent')}; {graph}]"
                )
    counts = ", ".join(f"{report.count(s)} {s.value.lower()}{'s' if report.count(s) != 1 else ''}" for s in Severity)
    verdict = "conforms" if report.conforms else "does not conform"
    lines.append(f"{len(report.graphs)} trial graph(s) of {len(report.trials)} trial(s) validated: {counts}; {verdict}")
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    """Add ``validate`` to the trialkg command line."""
    app.command("validate")(validate)
