"""`benchagent build --baseline direct`: one prompt to the model for the whole benchmark, in a
run that `eval` and `judge` take like a build."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchagent.records import AnswerType
from benchagent.stages.direct import DirectItem, item_problem
from evalruns import samples
from runcli import cli

Row = dict[str, Any]
REQUEST = "unit conversions and arithmetic word problems"
PROMPT = "Write an evaluation benchmark for language models"


def _item(question: str, answer_type: str, answer: str, distractors: list[str] | None = None,
          context: str = "") -> Row:
    return {"instruction": "", "context": context, "question": question,
            "answer_type": answer_type, "answer": answer, "distractors": distractors or []}


BENCHMARK = {"subtasks": [
    {"name": "unit conversion", "description": "Convert a quantity between units.", "items": [
        _item("How many centimetres are in 2 metres?", "number", "200"),
        _item("Is 1 kilometre longer than 900 metres?", "yes_no", "Yes."),
        _item("Which is heavier?", "multiple_choice", "1 kg", ["500 g", "1 kg"],
              context="A bag of 1 kg of flour and a bag of 500 g of sugar."),
        _item("How many  centimetres are in 2 metres?", "number", "200"),
    ]},
    {"name": "word problems", "description": "Arithmetic told as a short story.", "items": [
        _item("Tom has 3 apples and buys 4 more. How many apples does he have now?",
              "multiple_choice", "7", ["6", "8", "12"]),
        _item("A train leaves at 9:00 and arrives at 11:30. How long is the trip in hours?",
              "number", "two and a half"),
        _item("Why does doubling both sides of an equation keep it true?", "free_form",
              "Both sides change by the same factor, so they stay equal."),
        _item("What is 12 divided by 4?", "short_text", "3"),
    ]},
]}


def _script(tmp_path: Path, rules: list[Row]) -> str:
    path = tmp_path / "direct-model.json"
    path.write_text(json.dumps({"rules": rules}))
    return f"mock:{path}"


def _build(run: Path, model: str, size: int) -> None:
    result = cli("build", REQUEST, "--baseline", "direct", "--model", model, "-n", str(size),
                 "--out", run)
    assert result.returncode == 0, result.stderr


def _accepted_by_eval_and_judge(run: Path, items: int) -> None:
    for command in ("eval", "judge"):
        result = cli(command, run, "--model", "mock", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["items"] == items


def test_a_scripted_model_gives_the_benchmark_and_bad_items_are_dropped(tmp_path: Path) -> None:
    run = tmp_path / "direct"
    broken = {"match": PROMPT, "response": "Here it is: {\"subtasks\": [", "times": 1}
    _build(run, _script(tmp_path, [broken, {"match": PROMPT, "response": BENCHMARK}]), 4)
    items = samples(run)
    assert [s.question[:20] for s in items] == [
        "How many centimetres", "Is 1 kilometre longe", "Tom has 3 apples and",
        "Why does doubling bo"]
    by_type = {s.answer_type: s for s in items}
    assert by_type[AnswerType.yes_no].answer == "yes"
    choice = by_type[AnswerType.multiple_choice]
    assert sorted(choice.options) == ["12", "6", "7", "8"] and choice.answer == "7"
    assert all(s.options == [] for s in items if s.answer_type != AnswerType.multiple_choice)
    assert all(s.provenance.source_dataset == "direct" and not s.media for s in items)
    assert len({s.id for s in items}) == len(items)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["baseline"] == "direct" and list(manifest["stages"]) == ["direct"]
    assert manifest["counts"]["benchmark"] == 4 and manifest["shortfall"] == []
    assert manifest["subtasks"] == ["unit conversion", "word problems"]
    subtasks = json.loads((run / "plan" / "subtasks.json").read_text())
    assert [s["answer_type"] for s in subtasks] == ["number", "multiple_choice"]
    plan = (run / "plan" / "plan.md").read_text()
    assert "Text only" in plan and "wrong options that differ from the answer" in plan
    assert "the same question twice" in plan and "a number item answered" in plan
    assert "more items than the 4 asked" in plan
    assert "Text only" in (run / "benchmark" / "card.md").read_text()
    events = [json.loads(line) for line in (run / "trace.jsonl").read_text().splitlines()]
    assert [e["outcome"] for e in events if e.get("event") == "decision"] == ["repaired"]
    assert cli("resume", run).returncode == 0  # done: nothing is asked again
    assert len((run / "trace.jsonl").read_text().splitlines()) == len(events)
    _accepted_by_eval_and_judge(run, 4)


def test_the_unscripted_mock_gives_a_run_that_eval_and_judge_take(tmp_path: Path) -> None:
    run = tmp_path / "direct"
    _build(run, "mock", 4)
    items = samples(run)
    assert len(items) == 1 and items[0].answer in items[0].options
    assert json.loads((run / "manifest.json").read_text())["shortfall"][0]["accepted"] == 1
    _accepted_by_eval_and_judge(run, 1)


def test_a_model_that_gives_nothing_usable_leaves_an_empty_benchmark(tmp_path: Path) -> None:
    run = tmp_path / "direct"
    model = _script(tmp_path, [{"match": PROMPT, "response": "I cannot do that."}])
    result = cli("build", REQUEST, "--baseline", "direct", "--model", model, "--out", run)
    assert result.returncode == 3 and "the benchmark is empty" in result.stderr
    assert "invalid DirectBenchmark output" in result.stderr
    assert samples(run) == []


def test_direct_baseline_errors_are_one_line(tmp_path: Path) -> None:
    for args, expected in ((("--baseline", "direct"), "--baseline direct needs a model"),
                           (("--baseline", "viral", "--model", "mock"), "unknown --baseline"),
                           (("--baseline", "direct", "--model", "mock", "--plan-only"),
                            "no plan to stop after")):
        result = cli("build", REQUEST, *args, "--out", tmp_path / "run")
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 1 and len(lines) == 1 and expected in lines[0], result.stderr
        assert not (tmp_path / "run").exists()


def test_items_that_do_not_hold_together() -> None:
    def problem(**fields: Any) -> str | None:
        return item_problem(DirectItem.model_validate(
            {"question": "q?", "answer": "a", "answer_type": "short_text", **fields}))

    assert problem() is None
    assert problem(answer_type="multiple_choice", distractors=["b"]) is None
    assert problem(answer_type="multiple_choice") is not None
    assert problem(answer_type="multiple_choice", distractors=[" A "]) is not None
    assert problem(answer_type="yes_no", answer="No") is None
    assert problem(answer_type="yes_no", answer="maybe") is not None
    assert problem(answer_type="number", answer="1,250.5") is None
    assert problem(answer_type="number", answer="12 apples") is not None
