"""`benchagent review RUN`: a local web page to accept, reject or edit the benchmark's items;
`--summary` prints the acceptance rates and agreement without serving."""

from __future__ import annotations

import os
import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from benchagent import api
from benchagent.cli.common import out, warn
from benchagent.cli.listing import JsonOpt, listing_table, print_json, print_table
from benchagent.records import safe_slug

Row = dict[str, Any]


def _default_reviewer() -> str:
    return safe_slug(os.environ.get("USER") or "", fallback="reviewer")[:40]


def _rate(row: Row) -> str:
    return "–" if row["acceptance_rate"] is None else f"{row['acceptance_rate']:.3f}"


def _counts(row: Row) -> list[str]:
    return [str(row[k]) for k in ("decided", "accepted", "edited", "rejected")]


def _print_summary(run_dir: Path, summary: Row) -> None:
    overall = summary["overall"]
    out.print(f"review of {escape(str(run_dir))}: {summary['items']} items, reviewers "
              f"{escape(', '.join(summary['reviewers']))}", soft_wrap=True)
    plural = "" if overall["decided"] == 1 else "s"
    out.print(f"overall: {overall['decided']} decision{plural}, acceptance {_rate(overall)} "
              f"({overall['accepted']} accepted, {overall['edited']} edited, "
              f"{overall['rejected']} rejected)")
    columns = ("subtask", "items", "decided", "accepted", "edited", "rejected", "acceptance")
    table = listing_table(*columns, title="per subtask", right=columns[1:])
    for name, row in summary["per_subtask"].items():
        table.add_row(escape(name), str(row["items"]), *_counts(row), _rate(row))
    print_table(table)
    columns = ("reviewer", "decided", "accepted", "edited", "rejected", "remaining",
               "acceptance")
    table = listing_table(*columns, title="per reviewer", right=columns[1:])
    for name, row in summary["per_reviewer"].items():
        table.add_row(escape(name), *_counts(row), str(row["remaining"]), _rate(row))
    print_table(table)
    for reason, count in summary["rejection_reasons"].items():
        out.print(f"rejected: {count} × {escape(reason)}", soft_wrap=True)
    agreement = summary["agreement"]
    if agreement is not None:
        name = "Cohen's κ" if agreement["method"] == "cohen_kappa" else "Fleiss' κ"
        kappa = "–" if agreement["kappa"] is None else f"{agreement['kappa']:.3f}"
        out.print(f"agreement: {name} {kappa} over the {agreement['items']} items every "
                  "reviewer decided")
    reviewed = summary["reviewed_benchmark"]
    out.print(f"reviewed benchmark → {escape(str(run_dir / reviewed['path']))} "
              f"({reviewed['items']} items, {reviewed['edited']} edited, {reviewed['dropped']} "
              "left out; the original is unchanged)", soft_wrap=True)


def review(run_dir: Annotated[Path, typer.Argument(help="The run directory.")],
           reviewer: Annotated[str | None, typer.Option(
               "--reviewer", help="Your name: your decisions go to review/NAME.jsonl "
                                  "(default: your user name).")] = None,
           host: Annotated[str, typer.Option(
               "--host", help="Address to bind; beyond 127.0.0.1 every request needs the "
                              "token.")] = "127.0.0.1",
           port: Annotated[int, typer.Option(
               "--port", min=0, max=65535, help="Port (0: any free port).")] = 0,
           no_open: Annotated[bool, typer.Option(
               "--no-open", help="Do not open the page in a browser.")] = False,
           summary: Annotated[bool, typer.Option(
               "--summary", help="Print the review's acceptance rates and agreement (and "
                                 "rewrite review/summary.json) without serving.")] = False,
           as_json: JsonOpt = False) -> None:
    """Review the benchmark item by item in a local web page: accept, reject with a reason,
    or edit; every decision is saved as it is made."""
    if summary or as_json:
        result = api.review_summary(run_dir)
        if as_json:
            print_json(result)
        elif result is None:
            out.print(f"nobody has reviewed {escape(str(run_dir))} yet: run `benchagent review "
                      f"{escape(str(run_dir))}`", soft_wrap=True)
        else:
            _print_summary(run_dir, result)
        return
    _serve(run_dir, reviewer or _default_reviewer(), host, port, not no_open)


def _serve(run_dir: Path, reviewer: str, host: str, port: int, open_page: bool) -> None:
    session = api.review(run_dir, reviewer, host=host, port=port)
    try:
        if not session.loopback_only:
            warn(f"bound to {host}: every request needs the token in the address below")
        out.print(f"reviewing {session.items} items as {escape(reviewer)} "
                  f"({session.decided} decided); Ctrl-C stops", soft_wrap=True)
        out.print(f"review: {session.url}", soft_wrap=True, markup=False)
        if open_page:
            webbrowser.open(session.url)
        try:
            session.serve()
        except KeyboardInterrupt:
            out.print(f"stopped; {session.decided}/{session.items} decided, every decision "
                      f"is saved in {escape(str(session.app.log.path))}", soft_wrap=True)
    finally:
        session.close()
