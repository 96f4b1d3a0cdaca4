"""`benchagent export RUN --to lm-eval|inspect|hf|all`: the benchmark as folders that the
evaluation harnesses run; `build` and `resume` write them all by default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from benchagent import api
from benchagent.api import BuildResult
from benchagent.cli.common import out
from benchagent.export import TARGETS, Written

NoExportOpt = Annotated[bool, typer.Option(
    "--no-export", help="Do not write the lm-eval, Inspect and Hugging Face exports into "
                        "RUN/benchmark/exports.")]


def _print_written(written: list[Written], problems: list[str]) -> None:
    for target in written:
        out.print(f"export {target.target}: {target.items} items → {target.folder}",
                  soft_wrap=True)
        for note in target.notes:
            out.print(f"[yellow]{escape(note)}[/]", soft_wrap=True)
    for problem in problems:
        out.print(f"[yellow]export skipped: {escape(problem)}[/]", soft_wrap=True)


def after_build(result: BuildResult, no_export: bool) -> None:
    """Every export of a finished, non-empty build; a target that cannot be written (a missing
    package) is one line, not a failed build."""
    if no_export or result.plan_only or result.items == 0:
        return
    _print_written(*api.export(result.run_dir, list(TARGETS), keep_going=True))


def export(run_dir: Annotated[Path, typer.Argument(help="The run directory.")],
           to: Annotated[list[str], typer.Option(
               "--to", help=f"Target (repeatable): {', '.join(TARGETS)} or all.")],
           out_dir: Annotated[Path | None, typer.Option(
               "--out", "-o", help="Folder to write each target's folder into (default: "
                                   "RUN/benchmark/exports).")] = None) -> None:
    """Export the benchmark of RUN for lm-eval, Inspect AI or Hugging Face datasets."""
    _print_written(*api.export(run_dir, to, out=out_dir))
