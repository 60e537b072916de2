"""Options shared by every subcommand, defined once."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kg.store import STORE_ENV, TrialStore, default_store_path

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        envvar=STORE_ENV,
        help="Store directory (default: ./trialkg-store, or $TRIALKG_STORE).",
        show_default=False,
    ),
]

TrialOption = Annotated[
    list[str] | None,
    typer.Option("--trial", "-t", help="Only this trial (NCT ID); repeat for several."),
]


class ValidationEngine(StrEnum):
    """The names of :class:`kg.validation.Engine` (kept here so that the CLI starts
    without importing pySHACL)."""

    sparql = "sparql"
    pyshacl = "pyshacl"


EngineOption = Annotated[
    ValidationEngine | None,
    typer.Option(
        "--engine",
        help="SHACL engine: sparql (the shapes compiled to SPARQL queries on the embedded store; fast) or "
        "pyshacl (the reference engine). Both give the same results. Default: sparql.",
        show_default=False,
    ),
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"


def open_store(path: Path | None, *, read_only: bool = False) -> TrialStore:
    return TrialStore(path or default_store_path(), read_only=read_only)


def interactive() -> bool:
    """Progress bars only when a person is watching (stderr is a terminal)."""
    return sys.stderr.isatty()
