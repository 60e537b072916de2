"""``trialkg query``: run a saved query from the catalogue by name.

Register with ``kg.cli.query.register(app)``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from kg.cli._options import OutputFormat, StoreOption, open_store
from kg.errors import TrialKGError
from kg.queries import describe_params, list_queries, prepare_query, run_query
from kg.remote import PASSWORD_ENV, credentials_from_env, split_userinfo
from kg.results import render


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _params(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise _fail(f"--param takes NAME=VALUE, got {item!r}")
        if name.strip() in out:
            raise _fail(f"--param {name.strip()} given twice")
        out[name.strip()] = value
    return out


def _catalogue() -> str:
    lines = []
    for q in list_queries():
        lines.append(f"{q.name}\n    {q.title}: {q.question}\n    parameters: {describe_params(q.params)}")
        for p in q.params:
            example = f" (example: {p.example})" if p.example else ""
            lines.append(f"      {p.name}: {p.description}{example}")
    return "\n".join(lines) + "\n"


def query(
    name: Annotated[str | None, typer.Argument(help="The saved query's name (see --list).", show_default=False)] = None,
    *,
    list_: Annotated[bool, typer.Option("--list", help="List the saved queries and their parameters.")] = False,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="A parameter as NAME=VALUE; repeat for several (for example -p condition=D001327 -p exact=true).",
        ),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    endpoint: Annotated[
        str | None,
        typer.Option("--endpoint", help="Query this SPARQL 1.1 endpoint instead of the embedded store."),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help=f"User name for the endpoint; the password is read from ${PASSWORD_ENV}."),
    ] = None,
    digest: Annotated[bool, typer.Option("--digest", help="Use HTTP Digest authentication (Virtuoso).")] = False,
    show_query: Annotated[
        bool, typer.Option("--show-query", help="Print the query with its parameters bound instead of running it.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Run a saved query by name: questions across trials (phases, sponsors, conditions, ...).

    Conditions and interventions are given as a MeSH ID (D001327), a vocabulary IRI, a CURIE
    (CL:0000134) or a label in any letter case, and include narrower concepts unless
    -p exact=true. Results are the same on the embedded store and on any endpoint.
    """
    if list_:
        if name is not None:
            raise _fail("give a query name or --list, not both")
        typer.echo(_catalogue(), nl=False)
        return
    if name is None:
        raise _fail("give a saved query's name; `trialkg query --list` shows them")
    params = _params(param)
    try:
        target: dict[str, object] = {}
        if endpoint is not None:
            url, inline = split_userinfo(endpoint)
            target = {"endpoint": url, "auth": inline or credentials_from_env(user), "digest": digest}
        else:
            target = {"store": open_store(store, read_only=True)}
        if show_query:
            typer.echo(prepare_query(name, params, **target), nl=False)  # type: ignore[arg-type]
            return
        variables, rows = run_query(name, params, **target)  # type: ignore[arg-type]
    except TrialKGError as exc:
        raise _fail(str(exc)) from None
    typer.echo(render(variables, rows, fmt.value), nl=False)


def register(app: typer.Typer) -> None:
    """Add ``trialkg query`` to the CLI."""
    app.command("query")(query)
