"""`benchagent judge RUN --model SPEC ...`: LLM judges score the run's benchmark on the
paper's dimensions, with their agreement when there are several."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from benchagent import api
from benchagent.cli.common import err, out, warn
from benchagent.cli.listing import JsonOpt, listing_table, print_json, print_table
from benchagent.judging import DIMENSIONS, JudgeScore

Row = dict[str, Any]


@contextlib.contextmanager
def score_bar(total: int, done: int) -> Iterator[Callable[[JudgeScore], None]]:
    columns = (TextColumn("scores"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not sys.stderr.isatty() and
                  not os.environ.get("BENCHAGENT_PROGRESS")) as progress:
        task = progress.add_task("scores", total=total, completed=done)
        yield lambda score: progress.advance(task)


def parse_weights(values: list[str] | None) -> dict[str, float]:
    """`--weight DIM=W` flags as a mapping."""
    weights = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise typer.BadParameter(f"--weight takes DIM=NUMBER, got {item!r}")
    return weights


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _print(summary: Row) -> None:
    judges = summary["judges"]
    columns = ("dimension", "weight", "mean", *(["α"] if len(judges) > 1 else []))
    table = listing_table(*columns, title="judged", right=columns[1:])
    for dim in DIMENSIONS:
        row = summary["dimensions"][dim]
        cells = [dim, f"{summary['weights'][dim]:g}", _fmt(row["mean"])]
        table.add_row(*cells, *([_fmt(row["alpha"])] if len(judges) > 1 else []))
    print_table(table)
    out.print(f"benchmark UIA (against the request): {_fmt(summary['benchmark_uia'])}; "
              f"Overall: {_fmt(summary['overall'])}")
    if len(judges) > 1:
        for name, row in summary["per_judge"].items():
            out.print(f"  {escape(name)}: Overall {_fmt(row['overall'])}", soft_wrap=True)
    media = summary["media"]
    if media["not_seen"]:
        out.print(f"[yellow]{media['not_seen']}/{media['judged']} judgements of image or audio "
                  f"items were made without the media: "
                  f"{escape('; '.join(media['reasons'][:3]))}[/]", soft_wrap=True)
    if summary["unscored"]:
        out.print(f"[yellow]{summary['unscored']} judgement(s) gave no valid scores; first: "
                  f"{escape(summary['errors'][0])}[/]", soft_wrap=True)


def judge_cmd(run_dir: Annotated[Path, typer.Argument(help="The run directory.")],
              model: Annotated[list[str], typer.Option(
                  "--model", help="A judge (repeatable: agreement and the mean): mock, "
                                  "openai:MODEL, local:PATH.gguf, or a name from the config.")],
              weight: Annotated[list[str] | None, typer.Option(
                  "--weight", help="A dimension's weight in Overall, DIM=W (repeatable; the "
                                   "rest keep theirs, all are scaled to sum 1). Also "
                                   "[judge] weights in the config.")] = None,
              concurrency: Annotated[int | None, typer.Option(
                  "--concurrency", "-j", min=1, max=256,
                  help="Requests in flight per judge (default: each model's own limit).")
              ] = None,
              base_url: Annotated[str | None, typer.Option(
                  "--base-url", help="OpenAI-compatible endpoint (else $OPENAI_BASE_URL).")
              ] = None,
              config: Annotated[Path | None, typer.Option(
                  "--config", help="Config file with [models] and [judge] weights.")] = None,
              as_json: JsonOpt = False) -> None:
    """Judge a run's benchmark on UIA, FSQ, QAC, CQC, TSD and SSC; a cut-off judge resumes
    where it stopped."""
    result = api.judge(run_dir, model, weights=parse_weights(weight), concurrency=concurrency,
                       config=config, base_url=base_url, progress=score_bar, warn=warn)
    if as_json:
        print_json(result.summary)
        return
    _print(result.summary)
    out.print(f"scores → {result.scores_path}; summary → {result.summary_path}", soft_wrap=True)
