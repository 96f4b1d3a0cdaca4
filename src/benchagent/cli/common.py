"""What the commands share: consoles, progress, warnings, shortfall lines, --role parsing."""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from benchagent.errors import UserError
from benchagent.records import SampleOutcome, Shortfall

__all__ = ["UserError", "err", "out", "parse_roles", "print_shortfall", "progress_bar", "warn"]

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


@contextlib.contextmanager
def progress_bar(quotas: dict[str, int], done: dict[str, int],
                 where: str = "") -> Iterator[Callable[[SampleOutcome | None,
                                                        dict[str, int]], None]]:
    """Accepted against the quota per subtask and in all, with rejected, in flight and ETA;
    the "all" row names where the CPU work runs."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("rejected {task.fields[rejected]} · in flight {task.fields[flight]}"),
               TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not sys.stderr.isatty() and
                  not os.environ.get("BENCHAGENT_PROGRESS")) as progress:
        label = f"[bold]all[/] ({escape(where)})" if where else "[bold]all"
        total = progress.add_task(label, total=sum(quotas.values()),
                                  completed=sum(done.values()), rejected=0, flight=0)
        tasks = {name: progress.add_task(f"  {name[:32]}", total=quota,
                                         completed=done.get(name, 0), rejected=0, flight=0)
                 for name, quota in quotas.items()}
        rejected: Counter[str] = Counter()

        def tick(outcome: SampleOutcome | None, flight: dict[str, int]) -> None:
            if outcome is not None and outcome.accepted:
                progress.advance(tasks[outcome.subtask])
                progress.advance(total)
            elif outcome is not None:
                rejected[outcome.subtask] += 1
            for name, task in tasks.items():
                progress.update(task, rejected=rejected[name], flight=flight.get(name, 0))
            progress.update(total, rejected=sum(rejected.values()), flight=sum(flight.values()))

        yield tick


def parse_roles(values: list[str] | None) -> dict[str, str]:
    """`--role ROLE=SPEC` flags as a mapping."""
    roles = {}
    for item in values or []:
        role, sep, spec = item.partition("=")
        if not sep or not spec:
            raise typer.BadParameter(f"--role takes ROLE=SPEC, got {item!r}")
        roles[role.strip()] = spec.strip()
    return roles


def print_shortfall(shortfall: list[Shortfall]) -> None:
    for short in shortfall:
        out.print(f"[yellow]shortfall: {short.subtask}: {short.accepted}/{short.quota}"
                  f" from {short.dataset_id}: {short.cause}[/]", soft_wrap=True)


def warn(message: str) -> None:
    err.print(f"[yellow]{escape(message)}[/]", soft_wrap=True)
