"""What a built benchmark is worth and where it goes: `evaluate`, `judge`, `review`, `report`
and `export` on a run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from benchagent.api.building import Warn, _ignore, _refresh_report
from benchagent.config import (
    Settings,
    load_judge_weights,
)
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
    ResponseCache,
    check_prices,
    make_provider,
)
from benchagent.records import (
    BenchmarkSample,
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
from benchagent.stages.estimate import estimate_vs_spent as estimate_vs_spent
from benchagent.stages.paths import BENCHMARK, REPORT_HTML, SUBTASKS
from benchagent.store import (
    RunError,
    RunStore,
    file_hash,
    hash_of,
)
from benchagent.trace import Trace

# ---------------------------------------------------------------- eval

EVAL_STAGE = "eval"


@dataclass(frozen=True)
class _RunSummary:
    run_dir: Path
    summary: dict[str, Any]

    @property
    def report_path(self) -> Path | None:
        """The report page, when it was written."""
        path = self.run_dir / REPORT_HTML
        return path if path.is_file() else None


@dataclass(frozen=True)
class EvalResult(_RunSummary):
    @property
    def results_path(self) -> Path:
        return self.run_dir / RESULTS

    @property
    def summary_path(self) -> Path:
        return self.run_dir / SUMMARY


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
class JudgeResult(_RunSummary):
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
