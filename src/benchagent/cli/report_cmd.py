"""`benchagent report RUN`: the run's report page and its summary, written anew."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from benchagent import api
from benchagent.cli.common import out
from benchagent.cli.listing import JsonOpt, print_json


def report(run_dir: Annotated[Path, typer.Argument(help="The run directory.")],
           as_json: JsonOpt = False) -> None:
    """Write RUN/report/report.html (one file that opens offline) and report/summary.json:
    the plan, what the benchmark holds, its items, rejections, scores, item analysis, usage."""
    written = api.report(run_dir)
    if as_json:
        print_json({"report": str(written.html), "summary_path": str(written.summary_path),
                    "summary": written.summary.model_dump(mode="json")})
        return
    s = written.summary
    shown = f"{len(s.gallery.shown)} of {s.items} items shown"
    evaluated = f"{len(s.eval.models)} model(s) evaluated" if s.eval else "no eval yet"
    out.print(f"report: {s.items} items, {len(s.plan.subtasks)} subtask(s), {shown}, "
              f"{evaluated}", soft_wrap=True)
    out.print(f"report → {written.html}; summary → {written.summary_path}", soft_wrap=True)
