"""The library API, equal to the CLI: `build`, `plan`, `build_from_plan` and `resume` return a
typed `BuildResult`; the CLI only parses arguments and prints."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

from pydantic import ValidationError

from benchagent.config import ABLATIONS, ROLES, Settings, load_settings, with_overrides
from benchagent.errors import UserError
from benchagent.models import ModelConfig, RoleModels
from benchagent.pool import Pool, default_starter_pool
from benchagent.records import BenchmarkSample, Query, Shortfall
from benchagent.stages import (
    PLAN_STAGES,
    STAGES,
    BuildContext,
    ProgressFactory,
    no_progress,
    run_stages,
)
from benchagent.stages.paths import BENCHMARK, PLAN_MD, TRACE
from benchagent.store import Manifest, RunStore, read_jsonl
from benchagent.trace import Trace, UsageTotals

Warn = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    run_dir: Path
    manifest: Manifest
    plan_only: bool = False

    @property
    def benchmark_path(self) -> Path:
        return self.run_dir / BENCHMARK

    @property
    def plan_path(self) -> Path:
        return self.run_dir / PLAN_MD

    @property
    def items(self) -> int:
        return self.manifest.counts.benchmark if self.manifest.counts else 0

    @property
    def shortfall(self) -> list[Shortfall]:
        return self.manifest.shortfall

    def samples(self) -> list[BenchmarkSample]:
        return [BenchmarkSample.model_validate(r) for r in read_jsonl(self.benchmark_path)]


def _ignore(message: str) -> None:
    pass


def load_query(text_or_path: str | Path | Query, size: int | None = None) -> Query:
    """A Query from text, a JSON file {"id", "description", "target_size"}, or as given."""
    if isinstance(text_or_path, Query):
        query = text_or_path
    elif isinstance(text_or_path, Path) or text_or_path.endswith(".json") or \
            Path(text_or_path).is_file():
        query = _query_file(Path(text_or_path))
    else:
        slug = re.sub(r"[^a-z0-9]+", "-", text_or_path.lower()).strip("-")[:40] or "query"
        query = Query(id=slug, description=text_or_path)
    return query.model_copy(update={"target_size": size}) if size else query


def _query_file(path: Path) -> Query:
    try:
        return Query.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise UserError(f"query file not found: {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"cannot read query file {path}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "root"
        raise UserError(f"invalid query file {path}: {where}: {first['msg']}") from exc


def open_pool(settings: Settings, warn: Warn = _ignore) -> Pool:
    paths = settings.pools or [default_starter_pool()]
    pool = Pool.load(paths)
    if pool.warnings:
        warn(f"pool: skipped {len(pool.warnings)} bad file(s) or sample(s); "
             f"first: {pool.warnings[0]}")
    if not pool.cards:
        raise UserError("the pool holds no usable dataset: " + ", ".join(map(str, paths)))
    return pool


def open_models(settings: Settings, store: RunStore) -> RoleModels:
    """Every role's model, with a trace appending to the run's trace.jsonl that continues the
    manifest's usage totals."""
    totals = {role: UsageTotals(**vars(u)) for role, u in store.manifest.usage.items()}
    trace = Trace(path=store.path(TRACE), by_role=totals)
    configs: dict[str, ModelConfig | None] = {role: settings.model_for(role) for role in ROLES}
    cache = (settings.cache_dir / "responses.sqlite" if settings.cache_dir
             else store.path("cache/responses.sqlite"))
    return RoleModels(configs, trace, cache)


def default_run_dir(query: Query) -> Path:
    return Path("runs") / f"{query.id}-{time.strftime('%Y%m%d-%H%M%S')}"


def check_ablations(values: Sequence[str] | None) -> list[str]:
    unknown = sorted(set(values or []) - set(ABLATIONS))
    if unknown:
        raise UserError(f"unknown --ablate {', '.join(unknown)}: choose from "
                        f"{', '.join(ABLATIONS)}")
    return sorted(set(values or []))


class Overrides(TypedDict, total=False):
    """Settings a call gives on top of the config file (the CLI's flags)."""

    size: int | None
    pools: Sequence[Path]
    model: str | None
    roles: dict[str, str]
    base_url: str | None
    seed: int | None
    concurrency: int | None
    ablate: Sequence[str]


def _given(overrides: Overrides) -> dict[str, Any]:
    given: dict[str, Any] = {k: v for k, v in overrides.items() if v not in (None, [], {}, ())}
    if "pools" in given:
        given["pools"] = [Path(p).resolve() for p in given["pools"]]
    if "ablate" in given:
        given["ablate"] = check_ablations(given["ablate"])
    return given


def build(query: str | Path | Query, *, out: Path | None = None, config: Path | None = None,
          plan_only: bool = False, progress: ProgressFactory = no_progress,
          warn: Warn = _ignore, **overrides: Unpack[Overrides]) -> BuildResult:
    """Build a verified benchmark for `query` (text, a query file or a Query) in a new run."""
    settings = load_settings(config, _given(overrides))
    q = load_query(query, overrides.get("size") or settings.size)
    pool = open_pool(settings, warn)
    store = RunStore.create(out or default_run_dir(q), q, settings, tuple(s.name for s in STAGES))
    return _run(store, lambda: pool, plan_only, progress)


def plan(query: str | Path | Query, *, out: Path | None = None, config: Path | None = None,
         warn: Warn = _ignore, **overrides: Unpack[Overrides]) -> BuildResult:
    """Plan a benchmark (subtasks, datasets, operators, quotas) without building it."""
    return build(query, out=out, config=config, plan_only=True, warn=warn, **overrides)


def build_from_plan(run_dir: Path, *, out: Path | None = None,
                    progress: ProgressFactory = no_progress, warn: Warn = _ignore,
                    **overrides: Unpack[Overrides]) -> BuildResult:
    """Build the plan of `run_dir` (edited or not): only what depends on an edit reruns. With
    `out`, the plan is copied to a new run first."""
    store = RunStore.open(run_dir)
    given = _given(overrides)
    settings = with_overrides(store.manifest.settings, given)
    if out is not None:
        store = store.copy_plan(out, PLAN_STAGES)  # a new run, locked by its creation
    else:
        store.lock()
    store.manifest.settings = settings
    if given.get("size"):
        store.manifest.query = store.manifest.query.model_copy(
            update={"target_size": given["size"]})
    return _run(store, lambda: open_pool(settings, warn), False, progress)


def resume(run_dir: Path, *, progress: ProgressFactory = no_progress,
           warn: Warn = _ignore) -> BuildResult:
    """Continue a run: finished stages are skipped, accepted samples are kept."""
    store = RunStore.open(run_dir)
    store.lock()
    return _run(store, lambda: open_pool(store.manifest.settings, warn), False, progress)


def _run(store: RunStore, pool: Callable[[], Pool], plan_only: bool,
         progress: ProgressFactory) -> BuildResult:
    """Walk the stages on the locked `store`; the lock is released however the walk ends."""
    try:
        settings, query = store.manifest.settings, store.manifest.query
        ctx_pool = pool()
        models = open_models(settings, store)
        try:
            run_stages(BuildContext(store, settings, query, ctx_pool, models, progress), STAGES,
                       plan_only)
        finally:
            models.close()
    finally:
        store.unlock()
    return BuildResult(store.root, store.manifest, plan_only)
