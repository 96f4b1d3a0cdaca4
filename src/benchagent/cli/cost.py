"""The cost estimate of a plan as a table (or JSON), and the --max-calls / --max-cost options."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from benchagent.api import Estimate
from benchagent.cli.common import out
from benchagent.cli.listing import listing_table, print_json, print_table

EstimateJsonOpt = Annotated[bool, typer.Option(
    "--json", help="With a plan (`plan`, `build --dry-run`): print its cost estimate as JSON on "
                   "stdout, nothing else.")]

MaxCallsOpt = Annotated[int | None, typer.Option(
    "--max-calls", min=1, help="Stop cleanly once this many model calls were made (cached "
                               "answers are free); resume with a higher cap to finish.")]
MaxCostOpt = Annotated[float | None, typer.Option(
    "--max-cost", min=0.0, help="Stop cleanly once the calls cost this many US dollars, at "
                                "the configured prices (price_in_per_mtok, "
                                "price_out_per_mtok); resume with a higher cap to finish.")]


def _cost(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def print_estimate(estimate: Estimate | None, as_json: bool = False) -> None:
    """Calls, tokens and cost per role; the planner's roles as measured, the rest expected."""
    if estimate is None:
        return
    if as_json:
        print_json(estimate.as_dict())
        return
    if not estimate.roles:
        out.print("cost estimate: no model calls (every role runs its rules policy)")
        return
    columns = ("role", "model", "basis", "calls", "cached", "prompt tokens",
               "completion tokens", "cost")
    table = listing_table(*columns, title="cost estimate", right=columns[3:])
    for r in estimate.roles:
        table.add_row(r.role, escape(r.model), r.basis, str(r.calls), str(r.cached_calls),
                      f"{r.prompt_tokens:,}", f"{r.completion_tokens:,}", _cost(r.cost_usd))
    total = estimate.totals()
    table.add_row("total", "", "", str(total["calls"]), str(total["cached_calls"]),
                  f"{total['prompt_tokens']:,}", f"{total['completion_tokens']:,}",
                  _cost(total["cost_usd"]))
    print_table(table)
    unpriced = "; cost is unknown without a configured price" if total["cost_usd"] is None \
        else ""
    out.print(f"expected candidates: {estimate.candidates} (acceptance "
              f"{estimate.acceptance:.0%}){unpriced}")
