"""The library API, equal to the CLI: `build`, `plan`, `build_from_plan` and `resume` return a
typed `BuildResult`, `evaluate` an `EvalResult`; the CLI only parses arguments and prints."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

from pydantic import TypeAdapter, ValidationError

from benchagent.config import (
    ABLATIONS,
    ROLES,
    Settings,
    load_judge_weights,
    load_settings,
    validated_settings,
)
from benchagent.errors import BenchagentError, UserError
from benchagent.evaluation import (
    RESULTS,
    SUMMARY,
    AnswerProgress,
    EvalModel,
    evaluate_benchmark,
    no_answer_progress,
)
from benchagent.export import EXPORTS_DIR, Benchmark, Written
from benchagent.export import export as write_exports
from benchagent.judging import (
    JUDGE_SUMMARY,
    QUALITY_ROLE,
    SCORES,
    JudgeModel,
    JudgeProgress,
    judge_run,
    no_judge_progress,
    resolve_weights,
)
from benchagent.models import (
    CallBudget,
    Caps,
    ModelClient,
    ModelConfig,
    ResponseCache,
    RoleModels,
    check_prices,
    make_provider,
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
    Subtask,
)
from benchagent.report import Report, write_report
from benchagent.review import ReviewSession, start_review
from benchagent.review import review_summary as summarize_review
from benchagent.session import (
    benchmark_samples,
    close_providers,
    model_config,
    model_session,
    recorded_stage,
    run_settings,
    unique_specs,
)
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
from benchagent.stages.paths import ALLOCATION, BENCHMARK, PLAN_MD, REPORT_HTML, SUBTASKS, TRACE
from benchagent.store import (
    Manifest,
    RunError,
    RunStore,
    check_new_run_folder,
    file_hash,
    hash_of,
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
           max_cost: float | None = None) -> BuildResult:
    """Continue a run: finished stages are skipped, accepted samples are kept. The caps count
    the calls the run made before too."""
    caps = Caps.checked(max_calls, max_cost)
    store = RunStore.open(run_dir)
    store.lock()
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


# ---------------------------------------------------------------- eval

EVAL_STAGE = "eval"


@dataclass(frozen=True)
class EvalResult:
    run_dir: Path
    summary: dict[str, Any]

    @property
    def results_path(self) -> Path:
        return self.run_dir / RESULTS

    @property
    def summary_path(self) -> Path:
        return self.run_dir / SUMMARY

    @property
    def report_path(self) -> Path | None:
        """The report page, when it was written."""
        path = self.run_dir / REPORT_HTML
        return path if path.is_file() else None


EVAL_HINT = "the answers so far are kept: run the same `benchagent eval` again to continue"


def _eval_clients(specs: Sequence[str], judge: str | None, settings: Settings,
                  base_url: str | None, concurrency: int | None, trace: Trace,
                  cache: ResponseCache,
                  caps: Caps) -> tuple[list[EvalModel], ModelClient | None]:
    """The clients of the models and the judge, sharing one budget when `caps` set one (an
    eval's caps count the calls of this command)."""
    names = unique_specs(specs, "evaluate")
    configs = [model_config(spec, settings, base_url, concurrency) for spec in names]
    judge_cfg = (None if judge == "rules" else model_config(judge, settings, base_url, None)) \
        if judge is not None else settings.model_for("judge")
    check_prices(caps, [*configs, judge_cfg])
    budget = CallBudget(caps, hint=EVAL_HINT) if caps.any else None
    models = [EvalModel(spec, ModelClient(make_provider(cfg), cfg, trace, cache, budget))
              for spec, cfg in zip(names, configs, strict=True)]
    judge_client = ModelClient(make_provider(judge_cfg), judge_cfg, trace, cache, budget) \
        if judge_cfg is not None else None
    return models, judge_client


def evaluate(run_dir: Path, models: Sequence[str], *, judge: str | None = None,
             ladder: bool = False, blind: bool = True, concurrency: int | None = None,
             config: Path | None = None, base_url: str | None = None,
             progress: AnswerProgress = no_answer_progress, max_calls: int | None = None,
             max_cost: float | None = None, warn: Warn = _ignore) -> EvalResult:
    """Run `models` (specs, or names from the config) on the run's benchmark: answers are kept
    as they come (a cut-off eval resumes where it stopped), then scored and analysed into
    eval/results.jsonl and eval/summary.json, and the run's report refreshed. `judge` grades
    free-form answers (default: the run's judge role; "rules": none, they stay unscored).
    `max_calls` / `max_cost` cap this command's calls: at the cap it stops with BudgetReached,
    the answers so far kept."""
    caps = Caps.checked(max_calls, max_cost)
    store = RunStore.open(run_dir)
    samples = benchmark_samples(store)
    if not samples:
        raise UserError(f"{run_dir} has no benchmark to evaluate: build it first")
    settings = run_settings(store, config)
    with model_session(store, settings) as (trace, cache):
        clients, judge_client = _eval_clients(models, judge, settings, base_url, concurrency,
                                              trace, cache, caps)
        try:
            summary = _run_eval(store, samples, clients, judge_client, (blind, ladder),
                                progress)
        finally:
            close_providers([m.client for m in clients] + ([judge_client] if judge_client else []))
        _refresh_report(store, warn)
    return EvalResult(store.root, summary)


# ---------------------------------------------------------------- report


def report(run_dir: Path) -> Report:
    """Write the run's report/report.html and report/summary.json from what it holds now (the
    plan, the benchmark, and the eval and the judge when they have run)."""
    store = RunStore.open(run_dir)
    store.lock()
    try:
        return write_report(store.root, store.manifest)
    finally:
        store.close()


def _run_eval(store: RunStore, samples: list[BenchmarkSample], models: list[EvalModel],
              judge: ModelClient | None, flags: tuple[bool, bool],
              progress: AnswerProgress) -> dict[str, Any]:
    blind, ladder = flags
    key = hash_of(file_hash(store.path(BENCHMARK)), [(m.name, m.client.provider.spec)
                                                     for m in models],
                  judge.provider.spec if judge else None, blind, ladder)
    with recorded_stage(store, EVAL_STAGE, key,
                        (EVAL_STAGE, [m.client.label for m in models]),
                        "the answers so far are kept: the same `benchagent eval` continues "
                        "where it stopped"):
        summary = evaluate_benchmark(store.root, samples, models, judge=judge,
                                     seed=store.manifest.settings.seed, blind=blind,
                                     ladder=ladder, progress=progress)
    return summary


def review(run_dir: Path, reviewer: str, *, host: str = "127.0.0.1",
           port: int = 0) -> ReviewSession:
    """A review server for `reviewer` on the run's benchmark, bound and ready to `serve()`;
    bound beyond loopback, every request needs the token in its `url`."""
    return start_review(run_dir, reviewer, host=host, port=port)


def review_summary(run_dir: Path) -> dict[str, Any] | None:
    """The run's review summary (acceptance per subtask and reviewer, rejection reasons,
    agreement), also written to review/summary.json; None when nobody has reviewed it."""
    RunStore.open(run_dir)
    return summarize_review(run_dir)


# ---------------------------------------------------------------- judge

JUDGE_STAGE = "judge"


@dataclass(frozen=True)
class JudgeResult:
    run_dir: Path
    summary: dict[str, Any]

    @property
    def scores_path(self) -> Path:
        return self.run_dir / SCORES

    @property
    def summary_path(self) -> Path:
        return self.run_dir / JUDGE_SUMMARY


def _planned_subtasks(store: RunStore) -> dict[str, Subtask]:
    if not store.path(SUBTASKS).is_file():
        return {}
    try:
        return {s.name: s for s in TypeAdapter(list[Subtask]).validate_python(
            store.read_json(SUBTASKS))}
    except ValidationError as exc:
        raise RunError(f"{store.path(SUBTASKS)} is not a valid plan file: "
                       f"{exc.errors()[0]['msg']}") from exc


def judge(run_dir: Path, models: Sequence[str], *, weights: Mapping[str, float] | None = None,
          concurrency: int | None = None, config: Path | None = None,
          base_url: str | None = None, progress: JudgeProgress = no_judge_progress,
          warn: Warn = _ignore) -> JudgeResult:
    """Score the run's benchmark with every judge in `models` on the paper's dimensions, each
    score kept as it comes (a cut-off judge resumes without asking again), into
    judge/scores.jsonl and judge/summary.json, and the run's report refreshed. `weights` (on
    top of the config's [judge] weights, on top of the defaults) make Overall."""
    store = RunStore.open(run_dir)
    samples = benchmark_samples(store)
    if not samples:
        raise UserError(f"{run_dir} has no benchmark to judge: build it first")
    settings = run_settings(store, config)
    resolved = resolve_weights({**load_judge_weights(config), **(weights or {})})
    subtasks = _planned_subtasks(store)
    with model_session(store, settings) as (trace, cache):
        judges = [JudgeModel(spec, ModelClient(make_provider(cfg), cfg, trace, cache))
                  for spec in unique_specs(models, "judge with")
                  for cfg in [model_config(spec, settings, base_url, concurrency)]]
        key = hash_of(file_hash(store.path(BENCHMARK)), resolved,
                      [(j.name, j.client.provider.spec) for j in judges])
        try:
            with recorded_stage(store, JUDGE_STAGE, key,
                                (QUALITY_ROLE, [j.client.label for j in judges]),
                                "the scores so far are kept: the same `benchagent judge` "
                                "continues where it stopped"):
                summary = judge_run(store.root, store.manifest.query.description, subtasks,
                                    samples, judges, weights=resolved,
                                    seed=settings.seed, progress=progress)
        finally:
            close_providers([j.client for j in judges])
        _refresh_report(store, warn)
    return JudgeResult(store.root, summary)


# ---------------------------------------------------------------- export


def export(run_dir: Path, targets: Sequence[str], *, out: Path | None = None,
           keep_going: bool = False) -> tuple[list[Written], list[str]]:
    """Write the run's benchmark for evaluation harnesses (lm-eval, inspect, hf or all), each
    into `out/<target>` (default RUN/benchmark/exports). With `keep_going`, a target that cannot
    be written is one line in the returned problems instead of an error."""
    store = RunStore.open(run_dir)
    samples = benchmark_samples(store)
    if not samples:
        raise RunError(f"{run_dir} has no benchmark item to export")
    benchmark = Benchmark(store.root, store.manifest.query, samples)
    return write_exports(benchmark, targets, out or store.root / EXPORTS_DIR, keep_going)
