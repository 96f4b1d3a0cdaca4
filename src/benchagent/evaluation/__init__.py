"""Evaluation: models answer a run's benchmark (eval/answers.jsonl, resumable), the answers are
scored (eval/results.jsonl) and analysed (eval/summary.json)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchagent.evaluation.analysis import summarize
from benchagent.evaluation.prompt import Condition, item_messages, item_text
from benchagent.evaluation.results import RESULTS, SUMMARY, ItemResult, build_results
from benchagent.evaluation.runner import (
    ANSWERS,
    EVAL_ROLE,
    GRADES,
    JUDGE_ROLE,
    Answer,
    AnswerProgress,
    EvalModel,
    ask_models,
    grade_answers,
    no_answer_progress,
    plan_tasks,
)
from benchagent.evaluation.scoring import Outcome, Score, score_answer
from benchagent.models import ModelClient
from benchagent.records import BenchmarkSample
from benchagent.store import atomic_write_json, atomic_write_text

__all__ = ["ANSWERS", "EVAL_ROLE", "GRADES", "JUDGE_ROLE", "RESULTS", "SUMMARY", "Answer",
           "AnswerProgress", "EvalModel", "ItemResult", "Outcome", "Score", "evaluate_benchmark",
           "item_messages", "item_text", "no_answer_progress", "score_answer"]


def evaluate_benchmark(run_dir: Path, samples: Sequence[BenchmarkSample],
                       models: Sequence[EvalModel], *, judge: ModelClient | None, seed: int,
                       blind: bool = True, ladder: bool = False,
                       progress: AnswerProgress = no_answer_progress) -> dict[str, Any]:
    """Ask, grade, score and analyse; writes eval/results.jsonl and eval/summary.json and
    returns the summary."""
    tasks = plan_tasks(models, samples, run_dir, seed, blind)
    answers = ask_models(tasks, models, run_dir, progress)
    by_task: dict[tuple[str, str, Condition], Answer] = {
        (t.model, t.sample.id, t.condition): answers[t.key] for t in tasks}
    mine = list(by_task.values())
    grades = grade_answers(judge, {s.id: s for s in samples}, mine, run_dir, seed) \
        if judge is not None else {}
    names = [m.name for m in models]
    results = build_results(names, samples, by_task, grades, judged=judge is not None)
    lines = "".join(r.model_dump_json() + "\n" for r in results)
    atomic_write_text(run_dir / RESULTS, lines)
    summary = {"items": len(samples), "seed": seed, "blind": blind,
               "judge": judge.label if judge is not None else None,
               "labels": {m.name: m.client.label for m in models},
               **summarize(names, results, seed, ladder)}
    atomic_write_json(run_dir / SUMMARY, summary)
    return summary
