from __future__ import annotations

from pathlib import Path

from benchagent.executor.verify import rule_checks, semantic_check
from benchagent.models import MockRule
from benchagent.records import AnswerType, BenchmarkSample, Provenance, Subtask


def _sample(**kw: object) -> BenchmarkSample:
    base: dict[str, object] = {
        "id": "s", "subtask": "T", "question": "Which city is the capital of France?",
        "options": ["Paris", "Rome", "Oslo"], "answer": "Paris",
        "answer_type": AnswerType.multiple_choice,
        "provenance": Provenance(source_dataset="d", source_dataset_name="D", source_id="1")}
    return BenchmarkSample.model_validate(base | kw)


SUB = Subtask(name="T", description="t", answer_type=AnswerType.multiple_choice)


def _failed(sample: BenchmarkSample, tmp_path: Path) -> set[str]:
    return {c.check for c in rule_checks(sample, SUB, tmp_path) if not c.passed}


def test_a_good_item_passes(tmp_path: Path) -> None:
    assert _failed(_sample(), tmp_path) == set()


def test_each_rule_catches_its_fault(tmp_path: Path) -> None:
    assert _failed(_sample(options=["Paris", "Rome", "paris"]), tmp_path) >= {
        "options_unique", "one_correct"}
    assert "one_correct" in _failed(_sample(answer="Berlin"), tmp_path)
    assert "not_leaked" in _failed(_sample(question="The answer is Paris. Which city?"), tmp_path)
    assert "answer_type" in _failed(_sample(answer_type=AnswerType.yes_no), tmp_path)
    assert "schema" in _failed(_sample(question="  "), tmp_path)


def test_options_listed_in_the_question_are_not_a_leak(tmp_path: Path) -> None:
    sample = _sample(question="Which is the capital of France: Paris, Rome or Oslo?")
    assert "not_leaked" not in _failed(sample, tmp_path)


def test_semantic_check_rejects_with_the_verifiers_reason(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule("Gold answer", {"answerable": True, "answer_correct": False,
                                                  "reason": "the gold answer is wrong"}))
    result = semantic_check(client, _sample(), seed=0)
    assert not result.passed and result.reason == "the gold answer is wrong"


def test_semantic_check_falls_back_when_output_stays_invalid(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule("Gold answer", "not json"), repair_rounds=1)
    result = semantic_check(client, _sample(), seed=0)
    assert result.passed and "skipped" in result.reason
    assert client.trace.totals()["verifier"]["fallbacks"] == 1
