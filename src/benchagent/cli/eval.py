"""`benchagent eval RUN --model SPEC ...`: models answer the run's benchmark; accuracy per model
and subtask with intervals, and what the items and the benchmark are worth."""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from benchagent import api
from benchagent.cli.common import err, out, warn
from benchagent.cli.cost import MaxCallsOpt, MaxCostOpt
from benchagent.cli.listing import JsonOpt, listing_table, print_json, print_table
from benchagent.evaluation import Answer

Row = dict[str, Any]


@contextlib.contextmanager
def answer_bar(total: int, done: int) -> Iterator[Callable[[Answer], None]]:
    """Answers against the tasks (every model, with and without media), and how many of them
    the model could not take."""
    columns = (TextColumn("answers"), BarColumn(), MofNCompleteColumn(),
               TextColumn("unsupported {task.fields[unsupported]}"), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not sys.stderr.isatty() and
                  not os.environ.get("BENCHAGENT_PROGRESS")) as progress:
        task = progress.add_task("answers", total=total, completed=done, unsupported=0)
        unsupported: Counter[str] = Counter()

        def tick(answer: Answer) -> None:
            unsupported[answer.model] += answer.unsupported is not None
            progress.update(task, advance=1, unsupported=sum(unsupported.values()))

        yield tick


def _accuracy(row: Row) -> str:
    return "–" if row["accuracy"] is None else f"{row['accuracy']:.3f}"


def _interval(row: Row) -> str:
    ci = row["ci95"]
    return "–" if ci is None else f"{ci[0]:.3f}–{ci[1]:.3f}"


def _counts(row: Row) -> list[str]:
    return [str(row[k]) for k in ("items", "correct", "wrong", "unscored", "unsupported")]


def _print_models(summary: Row) -> None:
    columns = ("model", "items", "correct", "wrong", "unscored", "unsupported", "accuracy",
               "95% CI")
    table = listing_table(*columns, title="models", right=columns[1:])
    for m in summary["models"]:
        table.add_row(escape(m["model"]), *_counts(m), _accuracy(m), _interval(m))
    print_table(table)
    sub_columns = ("model", "subtask", "items", "scored", "accuracy", "95% CI")
    table = listing_table(*sub_columns, title="per subtask", right=sub_columns[2:])
    for m in summary["models"]:
        for name, sub in m["subtasks"].items():
            table.add_row(escape(m["model"]), escape(name), str(sub["items"]),
                          str(sub["correct"] + sub["wrong"]), _accuracy(sub), _interval(sub))
    print_table(table)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _print_analysis(summary: Row) -> None:
    items = summary["items"]
    out.print(f"separability: {_fmt(summary['separability'])} (share of model pairs whose "
              "intervals do not overlap)")
    out.print(f"saturated items (every model right): {len(summary['saturated'])}/{items}; "
              f"dead items (every model wrong): {len(summary['dead'])}/{items}")
    blind = summary["blind"]
    if blind["items"]:
        out.print(f"blind: {len(blind['solvable'])}/{blind['items']} image/audio items answered "
                  "right without their media by most models")
    for m in summary["models"]:
        media = m["media_items"]
        if media["blind"]["items"]:
            out.print(f"  {escape(m['model'])}: with media {_accuracy(media['with_media'])}, "
                      f"without {_accuracy(media['blind'])}", soft_wrap=True)
    ladder = summary["ladder"]
    if ladder is not None:
        out.print(f"ladder: Kendall τ {_fmt(ladder['kendall_tau'])}, steps that do not fall "
                  f"{_fmt(ladder['monotonic_steps'])} (monotonic: {ladder['monotonic']})")


def _print_items(summary: Row) -> None:
    columns = ("item", "subtask", "models", "difficulty", "discrimination", "flags")
    table = listing_table(*columns, title="items", right=columns[2:5])
    for row in summary["per_item"]:
        flags = [name for name in ("saturated", "dead") if row[name]]
        if row["blind_solvable"]:
            flags.append(f"blind {row['blind_right']}/{row['blind_models']}")
        table.add_row(escape(row["item"]), escape(row["subtask"]), str(row["models_scored"]),
                      _fmt(row["difficulty"]), _fmt(row["discrimination"]), ", ".join(flags))
    print_table(table)


def eval_cmd(run_dir: Annotated[Path, typer.Argument(help="The run directory.")],
             model: Annotated[list[str], typer.Option(
                 "--model", help="A model to evaluate (repeatable): mock, openai:MODEL, "
                                 "local:PATH.gguf, or a name from the config.")],
             judge: Annotated[str | None, typer.Option(
                 "--judge", help="Grades free-form answers (default: the run's judge role; "
                                 "`rules`: none, they stay unscored).")] = None,
             ladder: Annotated[bool, typer.Option(
                 "--ladder", help="The models are given in increasing size: report rank "
                                  "agreement (Kendall τ) and monotonicity.")] = False,
             blind: Annotated[bool, typer.Option(
                 "--blind/--no-blind", help="Also ask image and audio items without their "
                                            "media.")] = True,
             concurrency: Annotated[int | None, typer.Option(
                 "--concurrency", "-j", min=1, max=256,
                 help="Requests in flight per model (default: each model's own limit).")
             ] = None,
             base_url: Annotated[str | None, typer.Option(
                 "--base-url", help="OpenAI-compatible endpoint (else $OPENAI_BASE_URL).")
             ] = None,
             config: Annotated[Path | None, typer.Option(
                 "--config", help="Config file with [models] to name.")] = None,
             items: Annotated[bool, typer.Option(
                 "--items", help="Also list every item: difficulty, discrimination, "
                                 "saturated, dead, blind-solvable.")] = False,
             max_calls: MaxCallsOpt = None, max_cost: MaxCostOpt = None,
             as_json: JsonOpt = False) -> None:
    """Evaluate models on a run's benchmark; a cut-off eval resumes where it stopped. The
    caps count this command's calls."""
    result = api.evaluate(run_dir, model, judge=judge, ladder=ladder, blind=blind,
                          concurrency=concurrency, config=config, base_url=base_url,
                          progress=answer_bar, max_calls=max_calls, max_cost=max_cost,
                          warn=warn)
    if as_json:
        print_json(result.summary)
        return
    _print_models(result.summary)
    if items:
        _print_items(result.summary)
    _print_analysis(result.summary)
    out.print(f"results → {result.results_path}; summary → {result.summary_path}",
              soft_wrap=True)
    if result.report_path is not None:
        out.print(f"report → {result.report_path}", soft_wrap=True)
