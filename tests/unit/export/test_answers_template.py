"""The answer readers the exports carry (templates/answers.py.tmpl, standalone) read every answer
form the same way as benchagent's own scoring."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from benchagent.evaluation.scoring import score_answer
from benchagent.export.common import Benchmark, render
from benchagent.records import AnswerType, BenchmarkSample, Provenance, Query


def _readers() -> ModuleType:
    module = ModuleType("exported_answers")
    exec(compile(render("answers.py.tmpl"), "answers.py", "exec"), module.__dict__)
    return module


READERS = _readers()
OPTIONS = ["Paris", "Rome", "780000", "4pm"]


def _item(kind: AnswerType, answer: str, options: list[str] | None = None) -> BenchmarkSample:
    return BenchmarkSample(id="x", subtask="s", question="q?", options=options or [],
                           answer=answer, answer_type=kind,
                           provenance=Provenance(source_dataset="d", source_dataset_name="d",
                                                 source_id="1"))


CASES: list[tuple[AnswerType, str, list[str] | None, str]] = [
    *[(AnswerType.multiple_choice, "Rome", OPTIONS, text) for text in (
        "B", "(B)", "The answer is (B).", "ANSWER: B", "**b**", "Rome", "B) Rome", "A", "D. 4pm",
        "B. 780000", "Paris or Rome", "I think it is C because", "answer: c", "")],
    *[(AnswerType.yes_no, "yes", None, text) for text in (
        "Yes", "no.", "ANSWER: yes", "True", "I would say yes", "yes and no", "maybe")],
    *[(AnswerType.number, gold, None, text) for gold, text in (
        ("780000", "780,000 ml"), ("42", "Answer: 42"), ("3.14", "3.1416"), ("2", "2.4"),
        ("7", "seven"), ("12", "about 12 or 13"), ("5", "ANSWER: 6"), ("-3", "−3"))],
    *[(AnswerType.short_text, "the Eiffel Tower", None, text) for text in (
        "Eiffel Tower", "ANSWER: the eiffel tower", "It is the Eiffel Tower in Paris", "Louvre")],
]


@pytest.mark.parametrize(("kind", "gold", "options", "text"), CASES)
def test_exported_readers_score_like_benchagent(kind: AnswerType, gold: str,
                                                options: list[str] | None, text: str) -> None:
    outcome = score_answer(_item(kind, gold, options), text).outcome
    expected: dict[str, Any] = {"correct": True, "wrong": False, "unscored": None}
    assert READERS.is_correct(kind.value, options or [], gold, text) is expected[outcome]


def test_the_cases_cover_right_wrong_and_unreadable_answers() -> None:
    outcomes = {score_answer(_item(k, g, o), t).outcome for k, g, o, t in CASES}
    assert outcomes == {"correct", "wrong", "unscored"}


@pytest.mark.parametrize("query_id", ["3d shapes", "---", "Ça va?"])
def test_the_benchmark_name_is_an_identifier(query_id: str, tmp_path: Path) -> None:
    name = Benchmark(tmp_path, Query(id=query_id, description="d"), []).name
    assert name.isidentifier() and name.isascii()
