"""BIG-bench loading against the real shared pool."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from benchagent.pool import Pool
from benchagent.records import AnswerType, FieldRole

Finder = Callable[[Pool, str], str]


def _expected_tasks(root: Path) -> dict[str, int]:
    """Every task.json with examples, named task or task/subtask, with its example count."""
    out = {}
    for path in root.rglob("task.json"):
        examples = json.loads(path.read_text()).get("examples", [])
        if examples:
            out[path.parent.relative_to(root).as_posix()] = len(examples)
    return out


def test_all_tasks_and_subtasks_load(bb_pool: Pool, bb_root: Path) -> None:
    expected = _expected_tasks(bb_root)
    assert len(expected) == 26
    assert bb_pool.warnings == []
    assert {c.name: c.size for c in bb_pool.cards} == expected
    for card in bb_pool.cards:
        assert card.format == "bigbench" and card.license == "Apache-2.0"
        assert card.size == len(bb_pool.samples(card.id))
        assert card.tasks, card.name
    names = {c.name for c in bb_pool.cards}
    assert {"logical_deduction/three_objects", "cause_and_effect/two_sentences"} <= names
    assert "logical_deduction" not in names  # a parent without examples is no dataset


def test_date_understanding_multiple_choice_answer_text(bb_pool: Pool, by_name: Finder,
                                                        bb_root: Path) -> None:
    card = bb_pool.card(by_name(bb_pool, "date_understanding"))
    assert card.answer_type is AnswerType.multiple_choice
    assert card.fields[FieldRole.options] == "target_scores"
    raw = json.loads((bb_root / "date_understanding/task.json").read_text())["examples"]
    samples = bb_pool.samples(card.id)
    assert len(samples) == len(raw) == 369
    for s, ex in zip(samples, raw, strict=True):
        assert s.options == list(ex["target_scores"])  # file order, not shuffled
        best = max(ex["target_scores"].values())
        assert ex["target_scores"][s.answer] == best
    assert samples[0].answer == "05/01/2021"
    assert samples[0].question.startswith("Yesterday was April 30, 2021.")


def test_correct_option_need_not_be_first(bb_pool: Pool, by_name: Finder) -> None:
    s = bb_pool.samples(by_name(bb_pool, "disambiguation_qa"))[0]
    assert s.source_id == "custom_m_1"  # the task's own unique _id
    assert s.options[1] == s.answer == "The office was Sam's office"
    assert s.instruction.startswith("In the following sentences")


def test_ties_resolved_by_target(bb_pool: Pool, by_name: Finder, bb_root: Path) -> None:
    raw = json.loads((bb_root / "geometric_shapes/task.json").read_text())["examples"]
    samples = bb_pool.samples(by_name(bb_pool, "geometric_shapes"))
    assert samples
    for s, ex in zip(samples, raw, strict=True):
        assert s.answer == ex["target"]
        winners = [k for k, v in ex["target_scores"].items() if v == 1]
        assert s.answer_aliases == (winners if len(winners) > 1 else [])


def test_target_lists_and_numbers(bb_pool: Pool, by_name: Finder) -> None:
    card = bb_pool.card(by_name(bb_pool, "object_counting"))
    assert card.answer_type is AnswerType.number
    s = bb_pool.samples(card.id)[0]
    assert s.answer == "3" and s.answer_aliases == ["three", "3"] and s.options == []
    sorting = bb_pool.card(by_name(bb_pool, "word_sorting"))
    assert sorting.answer_type is AnswerType.free_form
    first = bb_pool.samples(sorting.id)[0]
    assert first.answer == "gelatine stick"
    assert first.instruction == "Sort the following words alphabetically:"


def test_yes_no_option_tasks(bb_pool: Pool, by_name: Finder) -> None:
    for name in ("strategyqa", "causal_judgment", "implicatures"):
        card = bb_pool.card(by_name(bb_pool, name))
        assert card.answer_type is AnswerType.yes_no, name
    strategy = bb_pool.samples(by_name(bb_pool, "strategyqa"))[0]
    assert strategy.answer == "Yes"  # from target_scores, not the explanation in `target`


def test_subtasks_keywords_and_prefix(bb_pool: Pool, by_name: Finder) -> None:
    card = bb_pool.card(by_name(bb_pool, "cause_and_effect/one_sentence_no_prompt"))
    assert "causal reasoning" in card.tasks
    s = bb_pool.samples(card.id)[0]
    assert s.question == "" and len(s.options) == 2 and s.answer == s.options[0]
    two = bb_pool.samples(by_name(bb_pool, "cause_and_effect/two_sentences"))[0]
    assert two.instruction.startswith("For each example, two events are given.")
    navigate = bb_pool.card(by_name(bb_pool, "navigate"))
    assert "Task prompt: If you follow these instructions" in navigate.description
    analogy = bb_pool.card(by_name(bb_pool, "analogical_similarity"))
    assert len(analogy.description) < 500  # a long few-shot prefix is clipped


def test_task_and_subtask_folders_alone_keep_ids(bb_pool: Pool, bb_root: Path,
                                                 by_name: Finder) -> None:
    single = Pool.load([bb_root / "snarks"])
    assert [c.id for c in single.cards] == [by_name(bb_pool, "snarks")]
    parent = Pool.load([bb_root / "logical_deduction"])
    assert sorted(c.name for c in parent.cards) == [
        "logical_deduction/five_objects", "logical_deduction/seven_objects",
        "logical_deduction/three_objects"]
    sub = Pool.load([bb_root / "logical_deduction" / "five_objects"])
    assert [c.id for c in sub.cards] == [by_name(bb_pool, "logical_deduction/five_objects")]
    assert "logical reasoning" in sub.cards[0].tasks
    by_file = Pool.load([bb_root / "snarks" / "task.json"])
    assert [c.id for c in by_file.cards] == [c.id for c in single.cards]
