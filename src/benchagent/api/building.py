"""Building: `build`, `plan`, `build_from_plan` and `resume` run the stage table on a run and
return a typed `BuildResult`."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

from pydantic import ValidationError

from benchagent.config import (
    ABLATIONS,
    ROLES,
    Settings,
    load_settings,
    validated_settings,
)
from benchagent.errors import BenchagentError, UserError
from benchagent.executor.backends import check_backend
from benchagent.models import (
    CallBudget,
    Caps,
    ModelConfig,
    RoleModels,
    check_prices,
)
from benchagent.paths import pool_path
from benchagent.planner.coverage import NOT_SERVED, SMALLER_THAN_ASKED
from benchagent.planner.demands import NOT_MET
from benchagent.pool import Pool, default_starter_pool
from benchagent.records import (
    MAX_QUERY_CHARS,
    Allocation,
    BenchmarkSample,
    Query,
    Shortfall,
)
from benchagent.report import write_report
from benchagent.stages import (
    DIRECT_STAGES,
    PLAN_STAGES,
    STAGES,
    BuildContext,
    ProgressFactory,
    no_progress,
    run_stages,
)
from benchagent.stages.direct import DIRECT_ROLE
from benchagent.stages.estimate import BUILD_ROLES, Estimate, read_estimate, write_estimate
from benchagent.stages.estimate import estimate_vs_spent as estimate_vs_spent
from benchagent.stages.paths import ALLOCATION, BENCHMARK, PLAN_MD, REPORT_HTML, TRACE
from benchagent.store import (
    Manifest,
    RunStore,
    check_new_run_folder,
    read_jsonl,
)
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
    def report_path(self) -> Path | None:
        """The report page, when it was written."""
        path = self.run_dir / REPORT_HTML
        return path if path.is_file() else None

    @property
    def items(self) -> int:
        return self.manifest.counts.benchmark if self.manifest.counts else 0

    @property
    def shortfall(self) -> list[Shortfall]:
        return self.manifest.shortfall

    @property
    def plan_notes(self) -> list[str]:
        """Why the plan holds fewer items than the target, and the parts and demands of the
        request it does not serve."""
        path = self.run_dir / ALLOCATION
        if not path.is_file():
            return []
        notes = Allocation.model_validate_json(path.read_text(encoding="utf-8")).notes
        return [n for n in notes if n.startswith((SMALLER_THAN_ASKED, NOT_SERVED, NOT_MET))]

    def samples(self) -> list[BenchmarkSample]:
        return [BenchmarkSample.model_validate(r) for r in read_jsonl(self.benchmark_path)]

    @property
    def estimate(self) -> Estimate | None:
        """The plan's expected model calls, tokens and cost per role (plan/estimate.json)."""
        return read_estimate(self.run_dir)


def _ignore(message: str) -> None:
    pass


MAX_QUERY_FILE_BYTES = 1_000_000  # a query file is a small JSON record


def load_query(text_or_path: str | Path | Query, size: int | None = None) -> Query:
    """A Query from text, a JSON file {"id", "description", "target_size"}, or as given.
    Raises UserError for an empty request or one longer than MAX_QUERY_CHARS."""
    if isinstance(text_or_path, Query):
        query = text_or_path
    elif isinstance(text_or_path, Path) or _names_a_file(text_or_path):
        query = _query_file(Path(text_or_path))
    else:
        _check_request_text(text_or_path, "the request")
        slug = re.sub(r"[^a-z0-9]+", "-", text_or_path.lower()).strip("-")[:40] or "query"
        query = Query(id=slug, description=text_or_path)
    return query.model_copy(update={"target_size": size}) if size else query


def _names_a_file(text: str) -> bool:
    if len(text) > MAX_QUERY_CHARS or "\0" in text:
        return False
    try:
        return text.endswith(".json") or Path(text).is_file()
    except OSError:  # a name too long for the file system is a request, not a file
        return False


def _check_request_text(text: str, what: str) -> None:
    if not text.strip():
        raise UserError(f"{what} is empty: describe the benchmark you want")
    if len(text) > MAX_QUERY_CHARS:
        raise UserError(f"{what} is {len(text):,} characters long; the limit is "
                        f"{MAX_QUERY_CHARS:,}: shorten it")


def _query_file(path: Path) -> Query:
    try:
        if path.stat().st_size > MAX_QUERY_FILE_BYTES:
            raise UserError(f"query file {path} is larger than {MAX_QUERY_FILE_BYTES:,} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"query file not found: {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UserError(f"cannot read query file {path}: {exc}") from exc
    description = data.get("description") if isinstance(data, dict) else None
    if isinstance(description, str):
        _check_request_text(description, f"the description in {path}")
    try:
        return Query.model_validate(data)
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


def _build_budget(store: RunStore, caps: Caps,
                  configs: dict[str, ModelConfig | None]) -> CallBudget | None:
    """The build's caps count every call of the build, across resumes: what the manifest
    records as spent comes first (cached answers are no calls)."""
    if not caps.any:
        return None
    check_prices(caps, [configs[role] for role in BUILD_ROLES])
    usage = [u for role, u in store.manifest.usage.items() if role in BUILD_ROLES]
    return CallBudget(caps, spent_calls=sum(u.calls - u.cache_hits for u in usage),
                      spent_cost=sum(u.cost_usd or 0.0 for u in usage))


def open_models(settings: Settings, store: RunStore, caps: Caps | None = None) -> RoleModels:
    """Every role's model, with a trace appending to the run's trace.jsonl that continues the
    manifest's usage totals, and the build's budget when `caps` set one."""
    totals = {role: UsageTotals(**vars(u)) for role, u in store.manifest.usage.items()}
    trace = Trace(path=store.path(TRACE), by_role=totals)
    configs: dict[str, ModelConfig | None] = {role: settings.model_for(role) for role in ROLES}
    budget = _build_budget(store, caps or Caps(), configs)
    cache = (settings.cache_dir / "responses.sqlite" if settings.cache_dir
             else store.path("cache/responses.sqlite"))
    return RoleModels(configs, trace, cache, budget)


RUNS_DIR = Path("runs")


def default_run_dir(query: Query) -> Path:
    """`./runs/<slug of the id>-<time>`, always inside ./runs whatever the id holds."""
    run_dir = RUNS_DIR / f"{query.slug}-{time.strftime('%Y%m%d-%H%M%S')}"
    if run_dir.resolve().parent != RUNS_DIR.resolve():
        raise UserError(f"query id {query.id!r} does not make a run folder inside {RUNS_DIR}/")
    return run_dir


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
    include_related: bool | None
    executor: str | None  # "local" or "ray"
    ray_address: str | None


def _given(overrides: Overrides) -> dict[str, Any]:
    given: dict[str, Any] = {k: v for k, v in overrides.items() if v not in (None, [], {}, ())}
    if "pools" in given:
        given["pools"] = [pool_path(p) for p in given["pools"]]
    if "ablate" in given:
        given["ablate"] = check_ablations(given["ablate"])
    return given


def build(query: str | Path | Query, *, out: Path | None = None, config: Path | None = None,
          plan_only: bool = False, progress: ProgressFactory = no_progress,
          warn: Warn = _ignore, baseline: str | None = None, max_calls: int | None = None,
          max_cost: float | None = None, **overrides: Unpack[Overrides]) -> BuildResult:
    """Build a verified benchmark for `query` (text, a query file or a Query) in a new run;
    with `baseline="direct"`, the direct-prompting baseline: one prompt to the model.

    `max_calls` / `max_cost` (US dollars, from the configured prices) cap the build's model
    calls: at the cap it stops with BudgetReached, and `resume` with a higher cap finishes the
    same benchmark."""
    caps = Caps.checked(max_calls, max_cost)
    settings = load_settings(config, _given(overrides))
    check_backend(settings.executor)
    q = load_query(query, overrides.get("size") or settings.size)
    run_dir = out or default_run_dir(q)
    check_new_run_folder(run_dir)  # refused before any pool work; `create` checks again
    if baseline is not None:
        return _build_direct(q, run_dir, settings, baseline, plan_only, progress)
    pool = open_pool(settings, warn)
    store = RunStore.create(run_dir, q, settings, tuple(s.name for s in STAGES))
    return _run(store, pool, plan_only, progress, warn, caps)


def _build_direct(query: Query, run_dir: Path, settings: Settings, baseline: str,
                  plan_only: bool, progress: ProgressFactory) -> BuildResult:
    if baseline != "direct":
        raise UserError(f"unknown --baseline {baseline}: choose from direct")
    if settings.model_for(DIRECT_ROLE) is None:
        raise UserError("--baseline direct needs a model: give --model SPEC")
    if plan_only:
        raise UserError("--baseline direct has no plan to stop after: drop --plan-only")
    store = RunStore.create(run_dir, query, settings, tuple(s.name for s in DIRECT_STAGES))
    store.manifest.baseline = "direct"
    store.save()
    return _run(store, Pool([]), False, progress, _ignore)


def plan(query: str | Path | Query, *, out: Path | None = None, config: Path | None = None,
         warn: Warn = _ignore, **overrides: Unpack[Overrides]) -> BuildResult:
    """Plan a benchmark (subtasks, datasets, operators, quotas) without building it; the
    plan's cost estimate is `result.estimate`."""
    return build(query, out=out, config=config, plan_only=True, warn=warn, **overrides)


def build_from_plan(run_dir: Path, *, out: Path | None = None,
                    progress: ProgressFactory = no_progress, warn: Warn = _ignore,
                    max_calls: int | None = None, max_cost: float | None = None,
                    **overrides: Unpack[Overrides]) -> BuildResult:
    """Build the plan of `run_dir` (edited or not): only what depends on an edit reruns. With
    `out`, the plan is copied to a new run first."""
    caps = Caps.checked(max_calls, max_cost)
    store = RunStore.open(run_dir)
    if store.manifest.baseline is not None:
        raise UserError(f"{run_dir} is a {store.manifest.baseline} baseline: it has no plan to "
                        "build (`benchagent resume` asks its model again)")
    if out is not None:
        check_new_run_folder(out)
    given = _given(overrides)
    settings = validated_settings({**store.manifest.settings.model_dump(), **given})
    check_backend(settings.executor)
    pool = open_pool(settings, warn)
    if out is not None:
        store = store.copy_plan(out, PLAN_STAGES)  # a new run, locked by its creation
    else:
        store.lock()
    manifest = store.manifest
    manifest.settings = settings
    if given.get("size"):
        manifest.query = manifest.query.model_copy(update={"target_size": given["size"]})
    return _run(store, pool, False, progress, warn, caps)


def resume(run_dir: Path, *, progress: ProgressFactory = no_progress,
           warn: Warn = _ignore, max_calls: int | None = None,
           max_cost: float | None = None, executor: str | None = None,
           ray_address: str | None = None) -> BuildResult:
    """Continue a run: finished stages are skipped, accepted samples are kept. The caps count
    the calls the run made before too. `executor` / `ray_address` move the rest of the run to
    another backend (a new Ray cluster, or the local pool); the benchmark is the same."""
    caps = Caps.checked(max_calls, max_cost)
    store = RunStore.open(run_dir)
    moved = {k: v for k, v in (("executor", executor), ("ray_address", ray_address)) if v}
    settings = validated_settings({**store.manifest.settings.model_dump(), **moved})
    check_backend(settings.executor)
    store.lock()
    store.manifest.settings = settings
    try:
        pool = Pool([]) if store.manifest.baseline else open_pool(store.manifest.settings, warn)
    except BaseException:
        store.close()
        raise
    return _run(store, pool, False, progress, warn, caps)


def _refresh_report(store: RunStore, warn: Warn) -> None:
    """Rewrite the run's report; a report that cannot be written is a warning, not a failure
    of the build or eval before it."""
    try:
        write_report(store.root, store.manifest)
    except BenchagentError as exc:
        warn(f"report not written: {exc}")


def _run(store: RunStore, pool: Pool, plan_only: bool, progress: ProgressFactory,
         warn: Warn, caps: Caps | None = None) -> BuildResult:
    """Run the stages on `store`, write its report, and release it: the plan, its cost
    estimate, the rest. A run this call created that fails before its first stage (its models
    cannot open) is removed again: nothing is left to resume."""
    settings, query = store.manifest.settings, store.manifest.query
    try:
        try:
            models = open_models(settings, store, caps)
        except BaseException:
            if store.is_new:
                store.discard()
            raise
        try:
            ctx = BuildContext(store, settings, query, pool, models, progress)
            if store.manifest.baseline == "direct":
                run_stages(ctx, DIRECT_STAGES, plan_only)
            else:
                run_stages(ctx, STAGES, plan_only=True)
                write_estimate(ctx)
                if not plan_only:
                    run_stages(ctx, STAGES)
        finally:
            models.close()
        if not plan_only:
            _refresh_report(store, warn)
    finally:
        store.close()
    return BuildResult(store.root, store.manifest, plan_only)
