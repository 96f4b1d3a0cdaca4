"""`benchagent tools`: the registered operators a plan may name."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from benchagent.cli.common import UserError, out
from benchagent.cli.listing import JsonOpt, listing_table, print_json, print_table
from benchagent.operators import REGISTRY


def _detail(d: dict[str, Any]) -> None:
    out.print(f"[bold]{d['name']}[/]: {d['description']}", soft_wrap=True)
    out.print(f"  requires: {', '.join(d['requires']) or '-'}; produces: "
              f"{', '.join(d['produces']) or '-'}; calls a model: "
              f"{'yes' if d['calls_model'] else 'no'}; cost: {d['cost_class']}")
    traits = d["traits"]
    out.print(f"  lossy: {traits['lossy']:g}; optional: {'yes' if traits['optional'] else 'no'}; "
              f"varied per sample: {'yes' if traits['varied'] else 'no'}")
    for arg in d["args"]:
        kind = ", ".join(p for p in (arg["type"], f"default {arg['default']}", arg["range"]) if p)
        out.print(f"  {arg['name']} ({kind}): {arg['description']}", soft_wrap=True)


def tools(name: Annotated[str | None, typer.Argument(help="One operator, in full.")] = None,
          as_json: JsonOpt = False) -> None:
    """List the operators: what each requires and produces, its arguments and cost."""
    described = [op.describe() for op in sorted(REGISTRY.values(), key=lambda o: o.name)]
    if name is not None:
        described = [d for d in described if d["name"] == name]
        if not described:
            raise UserError(f"no operator {name!r}: `benchagent tools` lists them")
    if as_json:
        print_json(described)
        return
    if name is not None:
        _detail(described[0])
        return
    table = listing_table("operator", "requires", "produces", "args", "model", "cost")
    for d in described:
        table.add_row(d["name"], ", ".join(d["requires"]) or "-", ", ".join(d["produces"]) or "-",
                      ", ".join(a["name"] for a in d["args"]) or "-",
                      "yes" if d["calls_model"] else "no",
                      d["cost_class"])
    print_table(table)
    out.print("`benchagent tools NAME` describes one operator and its arguments.")
