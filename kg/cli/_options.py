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
