"""What the commands share: query loading, opening pools and models, progress, errors."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from benchagent.config import ROLES, Settings
from benchagent.errors import BenchagentError
from benchagent.models import ModelConfig, RoleModels
from benchagent.pool import Pool, default_starter_pool
from benchagent.records import Query, SampleOutcome
from benchagent.store import RunStore
from benchagent.trace import Trace, UsageTotals

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


class UserError(BenchagentError):
    """Bad input from the user; printed as one line."""


def load_query(text_or_path: str, size: int | None) -> Query:
    path = Path(text_or_path)
    if text_or_path.endswith(".json") or path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            query = Query.model_validate(data)
        except FileNotFoundError as exc:
            raise UserError(f"query file not found: {path}") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserError(f"cannot read query file {path}: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "root"
            raise UserError(f"invalid query file {path}: {where}: {first['msg']}") from exc
    else:
        slug = re.sub(r"[^a-z0-9]+", "-", text_or_path.lower()).strip("-")[:40] or "query"
        query = Query(id=slug, description=text_or_path)
    return query.model_copy(update={"target_size": size}) if size else query


def open_pool(settings: Settings) -> Pool:
    paths = settings.pools or [default_starter_pool()]
    pool = Pool.load(paths)
    if pool.warnings:
        err.print(f"[yellow]pool: skipped {len(pool.warnings)} bad file(s) or sample(s); "
                  f"first: {pool.warnings[0]}[/]")
    if not pool.cards:
        raise UserError("the pool holds no usable dataset: " + ", ".join(map(str, paths)))
    return pool


def trace_for(store: RunStore) -> Trace:
    """A trace appending to the run's trace.jsonl, continuing the manifest's usage totals."""
    totals = {role: UsageTotals(**data) for role, data in store.manifest.get("usage", {}).items()}
    return Trace(path=store.path("trace.jsonl"), by_role=totals)


def open_models(settings: Settings, trace: Trace, store: RunStore) -> RoleModels:
    configs: dict[str, ModelConfig | None] = {role: settings.model_for(role) for role in ROLES}
    cache = (settings.cache_dir / "responses.sqlite" if settings.cache_dir
             else store.path("cache/responses.sqlite"))
    return RoleModels(configs, trace, cache)


@contextlib.contextmanager
def progress_bar(quotas: dict[str, int],
                 done: dict[str, int]) -> Iterator[Callable[[SampleOutcome | None,
                                                             dict[str, int]], None]]:
    """Accepted against the quota per subtask and in all, with rejected, in flight and ETA."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("rejected {task.fields[rejected]} · in flight {task.fields[flight]}"),
               TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not sys.stderr.isatty() and
                  not os.environ.get("BENCHAGENT_PROGRESS")) as progress:
        total = progress.add_task("[bold]all", total=sum(quotas.values()),
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


def print_shortfall(manifest: dict[str, Any]) -> None:
    for short in manifest.get("shortfall", []):
        out.print(f"[yellow]shortfall: {short['subtask']}: {short['accepted']}/{short['quota']}"
                  f" from {short['dataset_id']}: {short['cause']}[/]", soft_wrap=True)


def default_run_dir(query: Query) -> Path:
    return Path("runs") / f"{query.id}-{time.strftime('%Y%m%d-%H%M%S')}"
