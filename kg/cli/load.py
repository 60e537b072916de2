"""``trialkg load`` and ``trialkg verify``: put the graph into a SPARQL server and check it there.

Registered on the main app with :func:`register`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from kg.cli._options import StoreOption, TrialOption, interactive, open_store
from kg.errors import AuthenticationError, TrialKGError
from kg.load import DEFAULT_BATCH, LoadMode, LoadReport
from kg.load import load as run_load
from kg.load import verify as run_verify
from kg.remote import PASSWORD_ENV, USER_ENV, credentials_from_env

EndpointOption = Annotated[
    str,
    typer.Option(
        "--endpoint",
        help="SPARQL query endpoint of the target store, e.g. http://localhost:7878/query (Oxigraph) "
        "or http://localhost:8890/sparql-auth (Virtuoso).",
        show_default=False,
    ),
]
UserOption = Annotated[
    str | None,
    typer.Option("--user", envvar=USER_ENV, help=f"User name for the endpoint (or ${USER_ENV}).", show_default=False),
]
PasswordEnvOption = Annotated[
    str,
    typer.Option(
        "--password-env",
        metavar="VAR",
        help="Name of the environment variable that holds the password (never pass a password on the command line).",
    ),
]
VocabOption = Annotated[bool, typer.Option("--vocab", help="Include the vocabulary graphs.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def load(
    *,
    endpoint: EndpointOption,
    graph_store: Annotated[
        str | None,
        typer.Option(
            "--graph-store",
            help="Graph Store Protocol URL (gsp and quads modes; default: --endpoint), "
            "e.g. http://localhost:7878/store or http://localhost:8890/sparql-graph-crud-auth.",
            show_default=False,
        ),
    ] = None,
    update_endpoint: Annotated[
        str | None,
        typer.Option(
            "--update-endpoint",
            help="SPARQL Update URL (update and quads modes; default: --endpoint), e.g. http://localhost:7878/update.",
            show_default=False,
        ),
    ] = None,
    trial: TrialOption = None,
    mode: Annotated[
        LoadMode,
        typer.Option(
            "--mode",
            help="gsp: one HTTP PUT per graph (replaces it); update: DROP + INSERT DATA, --batch graphs per request; "
            "quads: DROP, then POST N-Quads of --batch graphs to the graph store.",
        ),
    ] = LoadMode.gsp,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch",
            min=1,
            help=f"Graphs per request in the update (default {DEFAULT_BATCH[LoadMode.update]}) "
            f"and quads (default {DEFAULT_BATCH[LoadMode.quads]}) modes.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Requests in flight at once.")] = 2,
    user: UserOption = None,
    password_env: PasswordEnvOption = PASSWORD_ENV,
    vocab: VocabOption = False,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="quads mode, Oxigraph server: write with the server's bulk loader (?no_transaction), "
            "several times faster but not atomic; a re-run repairs an interrupted load.",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Send every graph, even those the journal says are loaded already.")
    ] = False,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache", help="Read every graph from the store, not from the N-Quads cache that ingest keeps."
        ),
    ] = False,
    retries: Annotated[
        int, typer.Option("--retries", min=0, help="Retries of a request after a transient failure.")
    ] = 5,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for one request.")] = 300.0,
    store: StoreOption = None,
) -> None:
    """Load the trial graphs into a SPARQL server; a re-run resumes and replaces, never duplicates.

    Each named graph is replaced at the server (an HTTP PUT, or DROP + INSERT DATA).

    A journal in the store directory notes what the server confirmed: a re-run skips what it still holds.

    Credentials: --user or $TRIALKG_ENDPOINT_USER; the password in $TRIALKG_ENDPOINT_PASSWORD (see --password-env).

    Check the result with `trialkg verify`.
    """
    try:
        auth = credentials_from_env(user, password_env)
        ts = open_store(store, read_only=True)

        def go(progress: Callable[[int, int], None] | None = None) -> LoadReport:
            return run_load(
                ts,
                endpoint,
                graph_store=graph_store,
                update_endpoint=update_endpoint,
                nct_ids=trial,
                vocab=vocab,
                batch=batch,
                mode=mode,
                workers=workers,
                auth=auth,
                force=force,
                bulk=bulk,
                use_cache=not no_cache,
                retries=retries,
                timeout=timeout,
                progress=progress,
            )

        if interactive():
            with Progress(
                TextColumn("loading graphs"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                transient=True,
            ) as bar:
                task = bar.add_task("load", total=None)

                def tick(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = go(tick)
        else:
            report = go()
    except AuthenticationError as exc:
        raise _fail(f"authentication failed: {exc}") from None
    except TrialKGError as exc:
        raise _fail(str(exc)) from None
    typer.echo(
        f"{report.graphs_total} graph(s): {report.graphs_sent} sent ({report.triples_sent} triples), "
        f"{report.graphs_skipped} already loaded"
        + (f", {report.graphs_resent} sent again (the server had lost them)" if report.graphs_resent else "")
        + f"; {report.graphs_from_cache} read from the N-Quads cache, the rest from the store"
        + f"; {report.requests} request(s), {report.retries} retried; {report.seconds:.1f} s"
        + (f", {report.triples_per_second:,.0f} triples/s" if report.triples_sent else "")
    )


def verify(
    *,
    endpoint: EndpointOption,
    trial: TrialOption = None,
    vocab: VocabOption = False,
    user: UserOption = None,
    password_env: PasswordEnvOption = PASSWORD_ENV,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    store: StoreOption = None,
) -> None:
    """Compare the endpoint's trial graphs and triple counts with the store: exit 0 equal, 1 different, 2 error.

    One line per difference: a graph missing at the endpoint, an extra one there, or a triple count that differs.

    Only trialkg's graphs are compared (trial graphs; vocabulary graphs with --vocab).
    """
    if fmt not in ("text", "json"):
        raise _fail(f"unknown format {fmt!r}: use text or json")
    try:
        auth = credentials_from_env(user, password_env)
        report = run_verify(open_store(store, read_only=True), endpoint, nct_ids=trial, vocab=vocab, auth=auth)
    except AuthenticationError as exc:
        raise _fail(f"authentication failed: {exc}") from None
    except TrialKGError as exc:
        raise _fail(str(exc)) from None
    if fmt == "json":
        typer.echo(
            json.dumps(
                {
                    "equal": report.equal,
                    "graphs_in_store": report.graphs_in_store,
                    "graphs_at_endpoint": report.graphs_at_endpoint,
                    "triples_in_store": report.triples_in_store,
                    "triples_at_endpoint": report.triples_at_endpoint,
                    "differences": [
                        {
                            "graph": d.graph,
                            "kind": d.kind,
                            "store_triples": d.store_triples,
                            "endpoint_triples": d.endpoint_triples,
                        }
                        for d in report.differences
                    ],
                },
                indent=2,
            )
        )
    else:
        for d in report.differences:
            typer.echo(str(d))
        typer.echo(
            f"store: {report.graphs_in_store} graph(s), {report.triples_in_store} triples; "
            f"endpoint: {report.graphs_at_endpoint} graph(s), {report.triples_at_endpoint} triples; "
            + ("equal" if report.equal else f"{len(report.differences)} difference(s)")
        )
    if not report.equal:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``load`` and ``verify`` to the ``trialkg`` app."""
    app.command("load")(load)
    app.command("verify")(verify)
