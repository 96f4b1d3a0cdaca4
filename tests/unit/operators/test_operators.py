from __future__ import annotations

import random
from pathlib import Path

import pytest

from benchagent.operators import OpContext, OperatorError, SampleState, get_operator, type_check
from benchagent.records import DatasetCard, FieldRole, PlanStep, SourceSample


def _ctx(tmp_path: Path, space: list[str], seed: int = 1) -> OpContext:
    card = DatasetCard(id="d", name="D", format="jsonl", source="x")
    return OpContext(source=SourceSample(dataset_id="d", source_id="1"), card=card,
                     answer_space=space, rng=random.Random(seed), run_dir=tmp_path)


def test_to_multiple_choice_draws_distractors_from_the_answer_space(tmp_path: Path) -> None:
    op = get_operator("to_multiple_choice")
    state = SampleState(question="q", answer="Paris", answer_aliases=["paris"])
    out = op.run(state, _ctx(tmp_path, ["Paris", "Rome", "Oslo", "Bern", "Lima"]), {})
    assert out.options[0] == "Paris" and len(out.options) == 4
    assert set(out.options[1:]) <= {"Rome", "Oslo", "Bern", "Lima"}


def test_numeric_answers_get_numeric_distractors(tmp_path: Path) -> None:
    out = get_operator("to_multiple_choice").run(SampleState(question="q", answer="42"),
                                                 _ctx(tmp_path, ["42"]), {})
    assert len(out.options) == 4 and all(o.lstrip("-").isdigit() for o in out.options)
    assert len(set(out.options)) == 4


def test_single_answer_space_is_an_operator_error(tmp_path: Path) -> None:
    with pytest.raises(OperatorError):
        get_operator("to_multiple_choice").run(SampleState(question="q", answer="cat"),
                                               _ctx(tmp_path, ["cat"]), {})


def test_shuffle_is_seeded(tmp_path: Path) -> None:
    state = SampleState(question="q", answer="a", options=["a", "b", "c", "d", "e"])
    op = get_operator("shuffle_options")
    first = op.run(state, _ctx(tmp_path, [], seed=5), {}).options
    assert first == op.run(state, _ctx(tmp_path, [], seed=5), {}).options
    assert sorted(first) == ["a", "b", "c", "d", "e"]


def test_attach_media_is_content_addressed(tmp_path: Path) -> None:
    img = tmp_path / "x.PNG"
    img.write_bytes(b"\x89PNG fake but bytes")
    state = SampleState(question="q", answer="a", images=[str(img)])
    out = get_operator("attach_media").run(state, _ctx(tmp_path, []), {})
    assert out.images[0].startswith("media/") and out.images[0].endswith(".png")
    assert (tmp_path / out.images[0]).read_bytes() == img.read_bytes()


def test_type_check_names_unknown_operators_and_missing_fields() -> None:
    plan = [PlanStep(operator="make_it_great"), PlanStep(operator="shuffle_options")]
    problems = type_check(plan, {FieldRole.question, FieldRole.answer}, {FieldRole.options})
    assert any("unknown operator 'make_it_great'" in p for p in problems)
    assert any("shuffle_options" in p and "options" in p for p in problems)
    assert any("end state lacks options" in p for p in problems)
    ok = [PlanStep(operator="to_multiple_choice"), PlanStep(operator="shuffle_options")]
    assert type_check(ok, {FieldRole.question, FieldRole.answer}, {FieldRole.options}) == []


def test_decimal_answers_keep_sign_and_precision(tmp_path: Path) -> None:
    out = get_operator("to_multiple_choice").run(SampleState(question="q", answer="0.018"),
                                                 _ctx(tmp_path, ["0.018", "59200", "7"]), {})
    assert "0.018" in out.options and len(set(out.options)) == 4
    assert all(float(o) > 0 and len(o.partition(".")[2]) == 3 for o in out.options)
