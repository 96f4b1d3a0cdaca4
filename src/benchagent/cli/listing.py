"""Listings for people and for scripts: tables that fold a long name onto the next line instead
of cutting it, and `--json` with the same facts."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from benchagent.cli.common import out

JsonOpt = Annotated[bool, typer.Option(
    "--json", help="Print the listing as JSON on stdout (full names, nothing else).")]

# Wide enough for any table row: piped output keeps each row on one line.
PIPED_WIDTH = 100_000


def listing_table(*columns: str, right: tuple[str, ...] = (), title: str | None = None) -> Table:
    """A table whose cells wrap, and fold a word longer than the column, but never ellipsize."""
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left",
                         overflow="fold", no_wrap=False)
    return table


def print_table(table: Table) -> None:
    """In a terminal (or with $COLUMNS) the table fits the width; piped, it is printed at its
    natural width, one line per row, rather than at rich's 80 columns."""
    if out.is_terminal or os.environ.get("COLUMNS"):
        out.print(table)
    else:
        Console(highlight=False, width=PIPED_WIDTH).print(table)


def print_json(data: Any) -> None:
    """The listing as JSON on stdout, with no markup or wrapping."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
