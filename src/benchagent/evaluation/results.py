"""Scored results, one per item × model (eval/results.jsonl): the answer with its media and,
for image and audio items, the answer without it."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from benchagent.evaluation.prompt import Condition
from benchagent.evaluation.runner import Answer, Grade, needs_grade
from benchagent.evaluation.scoring import Outcome, Score, grade_to_score, score_answer
from benchagent.records import AnswerType, BenchmarkSample

RESULTS = "eval/results.jsonl"
SUMMARY = "eval/summary.json"


class Scored(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: str
    outcome: Outcome
    extracted: str | None = None
    reason: str = ""


class ItemResult(BaseModel):
    """One model on one item."""

    model_config = ConfigDict(extra="forbid")

    model: str
    item: str
    subtask: str
    answer_type: AnswerType
    modalities: list[str]
    gold: str
    response: str
    outcome: Outcome
    extracted: str | None = None
    reason: str = ""
    blind: Scored | None = None  # the same item without its image or audio


def score_one(sample: BenchmarkSample, answer: Answer, grade: Grade | None,
              judged: bool) -> Scored:
    """The outcome of one answer: unsupported, judged (free form), or read by the rules."""
    if answer.unsupported is not None:
        return Scored(response="", outcome="unsupported", reason=answer.unsupported)
    score: Score
    if needs_grade(sample, answer) and judged:
        score = grade_to_score(grade.correct if grade else None,
                               grade.reason if grade else "not graded")
    else:
        score = score_answer(sample, answer.text)
    return Scored(response=answer.text, outcome=score.outcome, extracted=score.extracted,
                  reason=score.reason)


def build_results(models: Sequence[str], samples: Sequence[BenchmarkSample],
                  answers: dict[tuple[str, str, Condition], Answer],
                  grades: dict[str, Grade], judged: bool) -> list[ItemResult]:
    """Every model's result on every item, in model then benchmark order."""
    results = []
    for model in models:
        for sample in samples:
            full = score_one(sample, answers[(model, sample.id, "full")],
                             grades.get(answers[(model, sample.id, "full")].key), judged)
            blind_answer = answers.get((model, sample.id, "blind"))
            blind = None if blind_answer is None else \
                score_one(sample, blind_answer, grades.get(blind_answer.key), judged)
            results.append(ItemResult(
                model=model, item=sample.id, subtask=sample.subtask,
                answer_type=sample.answer_type,
                modalities=sorted({m.kind.value for m in sample.media}) or ["text"],
                gold=sample.answer, response=full.response, outcome=full.outcome,
                extracted=full.extracted, reason=full.reason, blind=blind))
    return results
