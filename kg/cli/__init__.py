"""The ``trialkg`` command line: thin commands over library functions."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from kg import __version__
from kg.cli._options import EngineOption, OutputFormat, StoreOption, TrialOption, interactive, open_store
from kg.errors import TrialKGError, TrialsNotInStore

app = typer.Typer(
    name="trialkg",
    help="Turn clinical-trial records into an RDF knowledge graph: ingest, show, query, validate, export, load.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _text_or_json(fmt: str) -> None:
    if fmt not in ("text", "json"):
        raise fail(f"unknown format {fmt!r}: use text or json")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trialkg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """trialkg: clinical trials as a knowledge graph."""


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, directories or zip archives of trial records or pages.")],
    store: StoreOption = None,
    link: Annotated[
        bool, typer.Option("--link/--no-link", help="Link conditions and interventions to vocabularies.")
    ] = True,
    include_contacts: Annotated[
        bool, typer.Option("--include-contacts", help="Also store contacts' phone numbers and e-mail addresses.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict-values", help="Reject a record with any value that cannot be mapped.")
    ] = False,
    validate: Annotated[
        bool,
        typer.Option(
            "--validate", help="Validate each trial graph with the SHACL shapes; keep violating trials apart."
        ),
    ] = False,
    reject: Annotated[
        bool, typer.Option("--strict", help="With --validate: reject violating trials instead of keeping them apart.")
    ] = False,
    engine: EngineOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-j",
            min=1,
            help="Worker processes for parsing and mapping (default: one per core, up to 4).",
        ),
    ] = None,
) -> None:
    """Read trial records and pages into the store (re-ingesting a source replaces its graph)."""
    from kg.ingest import default_workers, ingest_time
    from kg.ingest import ingest as run
    from kg.mapping import MappingOptions

    try:
        ts = open_store(store)
        linker = None
        if link:
            from kg.ingest import store_linker

            linker = store_linker(ts)
        gate = None
        quarantine = None
        if validate:
            from kg.validation import DEFAULT_ENGINE, IngestGate

            gate = quarantine = IngestGate(ts, reject=reject, engine=engine or DEFAULT_ENGINE)
        opts = MappingOptions(include_contacts=include_contacts, ingest_time=ingest_time())
        n = workers if workers is not None else default_workers()
        if interactive():
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            with Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
            ) as bar:
                task = bar.add_task("ingesting", total=None)
                seen = 0

                def tick(nct: str) -> None:
                    nonlocal seen
                    seen += 1
                    bar.update(task, description=f"ingesting: {seen} trials ({nct})")

                report = run(
                    ts, paths, linker=linker, options=opts, gate=gate, strict_parse=strict, workers=n, on_trial=tick
                )
        else:
            report = run(ts, paths, linker=linker, options=opts, gate=gate, strict_parse=strict, workers=n)
    except TrialKGError as exc:
        raise fail(str(exc)) from None
    for err in report.errors:
        typer.echo(f"skipped: {err}", err=True)
    for nct, file, reason in report.kept_apart:
        typer.echo(f"{'rejected' if reject else 'kept apart'}: {nct} from {file}: {reason}", err=True)
    per_format = ", ".join(f"{k} {v}" for k, v in sorted(report.per_format.items()))
    typer.echo(
        f"{report.trials_seen} trials ({per_format or 'none'}): {report.trials_added} added, "
        f"{report.trials_replaced} replaced, {report.trials_unchanged} unchanged"
        + (f", {len(report.kept_apart)} {'rejected' if reject else 'kept apart'}" if validate else "")
        + f"; {report.quads_written} quads written; {len(report.errors)} file(s) or record(s) skipped"
        + (f"; {report.notes} unmapped value(s) noted" if report.notes else "")
    )
    if quarantine is not None and not reject and report.kept_apart:
        typer.echo(f"violating trials are stored apart in graph {quarantine.quarantine_prefix}...", err=True)
    if report.errors or (validate and report.kept_apart):
        raise typer.Exit(1)


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="turtle, ntriples, nquads or trig.")] = "turtle",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output file (default: standard output).")
    ] = None,
    trial: TrialOption = None,
    vocab: Annotated[bool, typer.Option("--vocab", help="Also export the vocabulary graphs.")] = False,
    chunk_quads: Annotated[
        int | None,
        typer.Option(
            "--chunk-quads",
            min=1,
            help="N-Quads only: write files of about this many quads into --output (a directory).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-j",
            min=1,
            help="Processes reading the store for large exports (default: one per core, up to 4).",
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="N-Quads: read every graph from the store, not from the N-Quads cache that ingest keeps.",
        ),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Export the graph (streaming; Turtle and TriG with prefixes). N-Quads are copied from
    the N-Quads cache that ingest keeps beside the store, for every graph it holds as the
    store does; the rest is read from the store."""
    from kg.export import ExportFormat, export_chunks
    from kg.export import export as run
    from kg.ingest import default_workers

    try:
        f = ExportFormat(fmt)
    except ValueError:
        raise fail(f"unknown format {fmt!r}: use turtle, ntriples, nquads or trig") from None
    try:
        ts = open_store(store, read_only=True)
        trial = ts.require_trials(trial)
        if chunk_quads is not None:
            if f is not ExportFormat.nquads or output is None:
                raise fail("--chunk-quads needs --format nquads and --output DIRECTORY")
            files = export_chunks(
                ts, output, chunk_quads=chunk_quads, nct_ids=trial, vocab=vocab, use_cache=not no_cache
            )
            typer.echo(f"{sum(n for _, n in files)} quads in {len(files)} file(s) under {output}", err=True)
            return
        n_workers = workers if workers is not None else default_workers()
        if output is None:
            n = run(ts, sys.stdout.buffer, f, nct_ids=trial, vocab=vocab, workers=n_workers, use_cache=not no_cache)
            sys.stdout.buffer.flush()
        else:
            n = run(ts, output, f, nct_ids=trial, vocab=vocab, workers=n_workers, use_cache=not no_cache)
            typer.echo(f"{n} statements written to {output}", err=True)
    except TrialKGError as exc:
        raise fail(str(exc)) from None


@app.command()
def show(
    nct_id: Annotated[str, typer.Argument(help="The trial's NCT ID.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="json or text.")] = "text",
    store: StoreOption = None,
) -> None:
    """Show one trial's facts, read back from the graph, with per-source values where sources disagree."""
    from kg.readback import show as run

    if fmt not in ("json", "text"):
        raise fail(f"unknown format {fmt!r}: use json or text")
    try:
        rec = run(open_store(store, read_only=True), nct_id.strip().upper())
    except TrialKGError as exc:
        raise fail(str(exc), 1) from None
    if fmt == "json":
        typer.echo(json.dumps(rec, indent=2, ensure_ascii=False))
    else:
        from kg.cli._text import trial_text

        typer.echo(trial_text(rec))


@app.command()
def conflicts(
    nct_ids: Annotated[
        list[str] | None, typer.Argument(help="NCT IDs (default: every trial with several sources).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    store: StoreOption = None,
) -> None:
    """List every field on which sources of the same trial disagree, with each source's value and date."""
    from kg.readback import conflicts as run

    _text_or_json(fmt)
    try:
        ts = open_store(store, read_only=True)
        rows = run(ts, ts.require_trials(nct_ids))
    except TrialsNotInStore as exc:
        raise fail(str(exc)) from None
    except TrialKGError as exc:
        raise fail(str(exc), 1) from None
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no conflicts")
        return
    for row in rows:
        typer.echo(f"{row['nct_id']}  {row['field']}")
        for s in row["sources"]:
            typer.echo(f"    {s['format']:<20} {s['file']}  (updated {s['last_update'] or 'unknown'}): {s['value']}")


@app.command()
def stats(
    store: StoreOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Counts: trials, graphs, quads, per-source-format trials, linked and unlinked conditions."""
    from kg.statistics import store_stats

    _text_or_json(fmt)
    try:
        s = store_stats(open_store(store, read_only=True))
    except TrialKGError as exc:
        raise fail(str(exc)) from None
    if fmt == "json":
        typer.echo(json.dumps(s, indent=2))
        return
    for k, v in s.items():
        if isinstance(v, dict):
            typer.echo(f"{k}:")
            for kk, vv in v.items():
                typer.echo(f"  {kk}: {vv}")
        else:
            typer.echo(f"{k}: {v}")
    older = sum(n for v, n in s["trial graphs per trialkg version"].items() if v != __version__)
    if older:
        typer.echo(
            f"{older} trial graph(s) were written by another trialkg version than this one ({__version__}): "
            "run `trialkg ingest` on their sources again to rewrite them; saved queries rely on "
            "statements the current version writes",
            err=True,
        )


@app.command()
def sparql(
    query: Annotated[str | None, typer.Argument(help="A SPARQL query (or use --file).")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Read the query from this file.", exists=True, dir_okay=False, readable=True),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
    store: StoreOption = None,
) -> None:
    """Run an ad-hoc SPARQL query on the store (the default graph is the union of all graphs)."""
    from kg.results import render, solutions_to_rows

    if query is None and file is None:
        raise fail("give a query, or --file with one")
    if query is not None and file is not None:
        raise fail("give a query or --file, not both")
    if file is not None:
        text = file.read_text(encoding="utf-8")
    else:
        assert query is not None  # exactly one of the two, checked above
        text = query
    try:
        ts = open_store(store, read_only=True)
        result = ts.store.query(text, use_default_graph_as_union=True)
        variables, rows = solutions_to_rows(result)
    except SyntaxError as exc:
        if _UPDATE.match(_PROLOGUE.sub("", text)):
            raise fail("this is a SPARQL update: sparql runs queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only") from None
        raise fail(f"SPARQL syntax error: {exc}") from None
    except (OSError, TrialKGError) as exc:
        raise fail(str(exc)) from None
    typer.echo(render(variables, rows, fmt.value), nl=False)


#: A query's prologue (comments, BASE and PREFIX declarations) and the words that start an update.
_PROLOGUE = re.compile(r"^(?:\s+|#[^\n]*\n?|(?:BASE\s*<[^>]*>|PREFIX\s+[^:\s]*:\s*<[^>]*>))*", re.IGNORECASE)
_UPDATE = re.compile(r"(?:INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.IGNORECASE)


def _register_subcommands() -> None:
    """Subcommands that live in their own modules: each module's ``register(app)``."""
    from kg.cli import load, query, validate, vocab

    for module in (vocab, validate, load, query):
        module.register(app)


_register_subcommands()
