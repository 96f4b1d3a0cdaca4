"""Verification layers: rule checks on every sample, and a semantic check by the verifier model."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field

from benchagent.models import ModelClient, StructuredOutputError
from benchagent.operators.text import normalize
from benchagent.prompts import render
from benchagent.records import AnswerType, BenchmarkSample, CheckResult, Subtask

_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_YES_NO = {"yes", "no"}


class SemanticVerdict(BaseModel):
    reason: str = Field(default="", max_length=400)  # first, so the verdict follows a reason
    answerable: bool
    answer_correct: bool


def _check(name: str, ok: bool, reason: str = "") -> CheckResult:
    return CheckResult(check=name, passed=ok, reason="" if ok else reason)


def check_schema(sample: BenchmarkSample) -> CheckResult:
    if not sample.question.strip():
        return _check("schema", False, "empty question")
    if not sample.answer.strip():
        return _check("schema", False, "empty answer")
    return _check("schema", True)


def check_answer_type(sample: BenchmarkSample, subtask: Subtask) -> CheckResult:
    if sample.answer_type != subtask.answer_type:
        return _check("answer_type", False, f"{sample.answer_type.value} item in a "
                                            f"{subtask.answer_type.value} subtask")
    kind = sample.answer_type
    if kind == AnswerType.multiple_choice and len(sample.options) < 2:
        return _check("answer_type", False, "multiple choice with fewer than 2 options")
    if kind == AnswerType.yes_no and normalize(sample.answer) not in _YES_NO:
        return _check("answer_type", False, f"yes/no answer is {sample.answer!r}")
    if kind == AnswerType.number and not _NUMBER.match(sample.answer.strip()):
        return _check("answer_type", False, f"numeric answer is {sample.answer!r}")
    return _check("answer_type", True)


def check_options(sample: BenchmarkSample) -> list[CheckResult]:
    if not sample.options:
        return []
    normalized = [normalize(o) for o in sample.options]
    unique = len(set(normalized)) == len(normalized) and all(normalized)
    correct = normalized.count(normalize(sample.answer))
    return [_check("options_unique", unique, "duplicate or empty options"),
            _check("one_correct", correct == 1,
                   f"the answer matches {correct} options, not exactly one")]


def check_not_leaked(sample: BenchmarkSample) -> CheckResult:
    """The gold answer must not be given away by the question itself."""
    answer = normalize(sample.answer)
    question = f" {normalize(sample.question)} "
    if len(answer) < 3 or sample.answer_type == AnswerType.yes_no:
        return _check("not_leaked", True)
    if f" {answer} " not in question:
        return _check("not_leaked", True)
    others = [normalize(o) for o in sample.options if normalize(o) != answer]
    if others and all(f" {o} " in question for o in others):
        return _check("not_leaked", True)  # every option is listed in the question
    return _check("not_leaked", False, "the question contains the answer")


def check_media(sample: BenchmarkSample, run_dir: Path) -> CheckResult:
    missing = [m.path for m in sample.media if not (run_dir / m.path).is_file()]
    return _check("media", not missing, f"missing media {missing}")


def rule_checks(sample: BenchmarkSample, subtask: Subtask, run_dir: Path) -> list[CheckResult]:
    return [check_schema(sample), check_answer_type(sample, subtask), *check_options(sample),
            check_not_leaked(sample), check_media(sample, run_dir)]


def semantic_check(client: ModelClient, sample: BenchmarkSample, seed: int) -> CheckResult:
    prompt = render("verify_user.j2", context=sample.context, question=sample.question,
                    options=sample.options, answer=sample.answer)
    try:
        verdict = client.generate([{"role": "user", "content": prompt}], SemanticVerdict,
                                  role="verifier", seed=seed, max_tokens=256)
    except StructuredOutputError as exc:
        client.trace.decision(role="verifier", outcome="fallback", error=str(exc))
        return CheckResult(check="semantic", passed=True,
                           reason=f"skipped: verifier output stayed invalid ({exc})")
    ok = verdict.answerable and verdict.answer_correct
    return _check("semantic", ok, verdict.reason or "the verifier judged the item unsound")
