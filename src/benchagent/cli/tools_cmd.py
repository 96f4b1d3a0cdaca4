"""`benchagent tools`: the registered operators a plan may name."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from benchagent.cli.common import out
from benchagent.operators import REGISTRY


def tools(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the operators: what each requires and produces, its parameters and cost."""
    described = [op.describe() for op in sorted(REGISTRY.values(), key=lambda o: o.name)]
    if as_json:
        out.print_json(json.dumps(described))
        return
    table = Table()
    for col in ("operator", "requires", "produces", "params", "model", "cost", "description"):
        table.add_column(col)
    for d in described:
        table.add_row(d["name"], ", ".join(d["requires"]) or "-", ", ".join(d["produces"]) or "-",
                      ", ".join(f"{k}: {v}" for k, v in d["params"].items()) or "-",
                      "yes" if d["calls_model"] else "no", d["cost_class"], d["description"])
    out.print(table)
