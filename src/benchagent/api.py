"""The library API, equal to the CLI: `build`, `plan`, `build_from_plan` and `resume` return a
typed `BuildResult`, `evaluate` an `EvalResult`; the CLI only parses arguments and prints."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

from pydantic import ValidationError

from benchagent.config import ABLATIONS, ROLES, Settings, load_settings, validated_settings
from benchagent.errors import UserError
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
from benchagent.models import (
    ModelClient,
    ModelConfig,
    ModelError,
    ResponseCache,
    RoleModels,
    make_provider,
    parse_model_spec,
)
from benchagent.planner.coverage import NOT_SERVED, SMALLER_THAN_ASKED
from benchagent.pool import Pool, default_starter_pool
from benchagent.records import MAX_QUERY_CHARS, Allocation, BenchmarkSample, Query, Shortfall
from benchagent.stages import (
    PLAN_STAGES,
    STAGES,
    BuildContext,
    ProgressFactory,
    no_progress,
    run_stages,
)
from benchagent.stages.paths import ALLOCATION, BENCHMARK, PLAN_MD, TRACE
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
    def items(self) -> int:
        return self.manifest.counts.benchmark if self.manifest.counts else 0

    @property
    def shortfall(self) -> list[Shortfall]:
        return self.manifest.shortfall

    @property
    def plan_notes(self) -> list[str]:
        """Why the plan holds fewer items than the target, and the parts of the request it
        does not serve."""
        path = self.run_dir / ALLOCATION
        if not path.is_file():
            return []
        notes = Allocation.model_validate_json(path.read_text(encoding="utf-8")).notes
        return [n for n in notes if n.startswith((SMALLER_THAN_ASKED, NOT_SERVED))]

    def samples(self) -> list[BenchmarkSample]:
        return [BenchmarkSample.model_validate(r) for r in read_jsonl(self.benchmark_path)]


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


def open_models(settings: Settings, store: RunStore) -> RoleModels:
    """Every role's model, with a trace appending to the run's trace.jsonl that continues the
    manifest's usage totals."""
    totals = {role: UsageTotals(**vars(u)) for role, u in store.manifest.usage.items()}
    trace = Trace(path=store.path(TRACE), by_role=totals)
    configs: dict[str, ModelConfig | None] = {role: settings.model_for(role) for role in ROLES}
    cache = (settings.cache_dir / "responses.sqlite" if settings.cache_dir
             else store.path("cache/responses.sqlite"))
    return RoleModels(configs, trace, cache)


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
    run_dir = out or default_run_dir(q)
    check_new_run_folder(run_dir)  # refused before any pool work; `create` checks again
    pool = open_pool(settings, warn)
    store = RunStore.create(run_dir, q, settings, tuple(s.name for s in STAGES))
    return _run(store, pool, plan_only, progress)


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
    return _run(store, pool, False, progress)


def resume(run_dir: Path, *, progress: ProgressFactory = no_progress,
           warn: Warn = _ignore) -> BuildResult:
    """Continue a run: finished stages are skipped, accepted samples are kept."""
    store = RunStore.open(run_dir)
    store.lock()
    try:
        pool = open_pool(store.manifest.settings, warn)
    except BaseException:
        store.close()
        raise
    return _run(store, pool, False, progress)


def _run(store: RunStore, pool: Pool, plan_only: bool,
         progress: ProgressFactory) -> BuildResult:
    """Run the stages on `store` and release it. A run this call created that fails before
    its first stage (its models cannot open) is removed again: nothing is left to resume."""
    settings, query = store.manifest.settings, store.manifest.query
    try:
        try:
            models = open_models(settings, store)
        except BaseException:
            if store.is_new:
                store.discard()
            raise
        try:
            run_stages(BuildContext(store, settings, query, pool, models, progress), STAGES,
                       plan_only)
        finally:
            models.close()
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


def _model_config(spec: str, settings: Settings, base_url: str | None,
                  concurrency: int | None) -> ModelConfig:
    try:
        cfg = settings.models.get(spec) or parse_model_spec(spec, base_url or settings.base_url)
    except ValueError as exc:
        raise UserError(f"--model {spec}: {exc}") from exc
    return cfg.model_copy(update={"max_concurrency": concurrency}) if concurrency else cfg


def _eval_settings(store: RunStore, config: Path | None) -> Settings:
    """The run's settings, with the models and roles of `config` on top."""
    settings = store.manifest.settings
    if config is None:
        return settings
    extra = load_settings(config, {})
    return settings.model_copy(update={"models": {**settings.models, **extra.models},
                                       "roles": {**settings.roles, **extra.roles}})


def _eval_clients(specs: Sequence[str], judge: str | None, settings: Settings,
                  base_url: str | None, concurrency: int | None, trace: Trace,
                  cache: ResponseCache) -> tuple[list[EvalModel], ModelClient | None]:
    if not specs:
        raise UserError("give at least one --model to evaluate")
    if len(set(specs)) != len(specs):
        raise UserError("a --model is given twice: give each model once")
    models = [EvalModel(spec, ModelClient(make_provider(cfg), cfg, trace, cache))
              for spec in specs
              for cfg in [_model_config(spec, settings, base_url, concurrency)]]
    judge_cfg = (None if judge == "rules" else _model_config(judge, settings, base_url, None)) \
        if judge is not None else settings.model_for("judge")
    judge_client = ModelClient(make_provider(judge_cfg), judge_cfg, trace, cache) \
        if judge_cfg is not None else None
    return models, judge_client


def _benchmark_samples(store: RunStore) -> list[BenchmarkSample]:
    path = store.path(BENCHMARK)
    try:
        return [BenchmarkSample.model_validate(r) for r in read_jsonl(path)]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "root"
        raise RunError(f"{path} holds an invalid item: {where}: {first['msg']}") from exc


def _close_providers(models: Sequence[EvalModel], judge: ModelClient | None) -> None:
    for client in [*(m.client for m in models), *([judge] if judge else [])]:
        close = getattr(client.provider, "close", None)
        if callable(close):
            close()


def evaluate(run_dir: Path, models: Sequence[str], *, judge: str | None = None,
             ladder: bool = False, blind: bool = True, concurrency: int | None = None,
             config: Path | None = None, base_url: str | None = None,
             progress: AnswerProgress = no_answer_progress) -> EvalResult:
    """Run `models` (specs, or names from the config) on the run's benchmark: answers are kept
    as they come (a cut-off eval resumes where it stopped), then scored and analysed into
    eval/results.jsonl and eval/summary.json. `judge` grades free-form answers (default: the
    run's judge role; "rules": none, they stay unscored)."""
    store = RunStore.open(run_dir)
    samples = _benchmark_samples(store)
    if not samples:
        raise UserError(f"{run_dir} has no benchmark to evaluate: build it first")
    settings = _eval_settings(store, config)
    store.lock()
    try:
        totals = {role: UsageTotals(**vars(u)) for role, u in store.manifest.usage.items()}
        trace = Trace(path=store.path(TRACE), by_role=totals)
        cache = ResponseCache(settings.cache_dir / "responses.sqlite" if settings.cache_dir
                              else store.path("cache/responses.sqlite"))
        try:
            clients, judge_client = _eval_clients(models, judge, settings, base_url,
                                                  concurrency, trace, cache)
            try:
                summary = _run_eval(store, samples, clients, judge_client,
                                    (blind, ladder), progress)
            finally:
                _close_providers(clients, judge_client)
        finally:
            store.manifest.usage = {role: UsageTotals(**t) for role, t in trace.totals().items()}
            store.save()
            cache.close()
    finally:
        store.close()
    return EvalResult(store.root, summary)


def _run_eval(store: RunStore, samples: list[BenchmarkSample], models: list[EvalModel],
              judge: ModelClient | None, flags: tuple[bool, bool],
              progress: AnswerProgress) -> dict[str, Any]:
    blind, ladder = flags
    key = hash_of(file_hash(store.path(BENCHMARK)), [(m.name, m.client.provider.spec)
                                                     for m in models],
                  judge.provider.spec if judge else None, blind, ladder)
    # usage under the eval role adds up every eval of the run: so do the models named
    earlier = [x for x in store.manifest.models.get(EVAL_STAGE, "").split(", ") if x]
    labels = earlier + [m.client.label for m in models if m.client.label not in earlier]
    store.manifest.models[EVAL_STAGE] = ", ".join(labels)
    store.start(EVAL_STAGE, key)
    try:
        summary = evaluate_benchmark(store.root, samples, models, judge=judge,
                                     seed=store.manifest.settings.seed, blind=blind,
                                     ladder=ladder, progress=progress)
    except ModelError as exc:
        store.fail(EVAL_STAGE, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise ModelError(f"{exc} (the answers so far are kept: the same `benchagent eval` "
                         "continues where it stopped)") from exc
    except BaseException as exc:
        store.fail(EVAL_STAGE, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    store.finish(EVAL_STAGE, key)
    return summary


# ---------------------------------------------------------------- export


def export(run_dir: Path, targets: Sequence[str], *, out: Path | None = None,
           keep_going: bool = False) -> tuple[list[Written], list[str]]:
    """Write the run's benchmark for evaluation harnesses (lm-eval, inspect, hf or all), each
    into `out/<target>` (default RUN/benchmark/exports). With `keep_going`, a target that cannot
    be written is one line in the returned problems instead of an error."""
    store = RunStore.open(run_dir)
    samples = _benchmark_samples(store)
    if not samples:
        raise RunError(f"{run_dir} has no benchmark item to export")
    benchmark = Benchmark(store.root, store.manifest.query, samples)
    return write_exports(benchmark, targets, out or store.root / EXPORTS_DIR, keep_going)
