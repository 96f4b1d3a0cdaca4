"""Typed operator arguments and traits: one module declares an operator, and `benchagent tools`,
plan checking, the grounding prompt, the rules sample planner, scoring and the executor all
take it from there."""

from __future__ import annotations

import ast
import json
import random
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from pydantic import Field, ValidationError
from typer.testing import CliRunner

from benchagent.cli.main import app
from benchagent.executor.sample_plan import plan_sample, rules_plan
from benchagent.executor.steps import run_op, run_plan
from benchagent.operators import (
    REGISTRY,
    OpContext,
    Operator,
    OperatorArgs,
    OperatorError,
    SampleState,
    Traits,
    Whole,
    audio_noise,
    image,
    register,
    unregister,
)
from benchagent.operators.fonts import STYLES
from benchagent.planner.grounding import _operator_menu
from benchagent.planner.plans import check_plan, plan_for
from benchagent.planner.scoring import signal_preservation
from benchagent.prompts import render
from benchagent.records import (
    AnswerType,
    DatasetCard,
    FieldRole,
    Modality,
    PlanStep,
    SourceSample,
    Subtask,
)

SUB = Subtask(name="Shouting", description="Answer questions that are shouted.",
              answer_type=AnswerType.short_text)
# Every field present, so that only the arguments of a step can make a plan fail the check.
FULL = DatasetCard(id="full", name="Full", format="jsonl", source="x",
                   answer_type=AnswerType.short_text,
                   modalities_in=[Modality.text, Modality.image, Modality.audio],
                   fields={role: role.value for role in FieldRole})


# ---------------------------------------------------------------- a new operator, in one place


class ShoutArgs(OperatorArgs):
    times: Whole = Field(1, ge=1, le=3, description="how many exclamation marks")
    case: Literal["upper", "title"] = Field("upper", description="how to capitalise")


def shout(state: SampleState, ctx: OpContext, args: ShoutArgs) -> SampleState:
    text = state.question.upper() if args.case == "upper" else state.question.title()
    return state.model_copy(update={"question": text + "!" * args.times})


def more_or_less(args: ShoutArgs, rng: random.Random) -> ShoutArgs:
    return args.model_copy(update={"times": rng.randint(1, 3)})


SHOUT = Operator(name="shout_question", description="Shout the question: capitals and "
                 "exclamation marks.", requires=frozenset({FieldRole.question}),
                 produces=frozenset(), fn=shout, args=ShoutArgs,
                 traits=Traits(lossy=0.05, adaptable=True), vary=more_or_less)


@pytest.fixture
def shout_op() -> Iterator[Operator[ShoutArgs]]:
    register(SHOUT)
    yield SHOUT
    unregister(SHOUT.name)


def _ctx(tmp_path: Path, seed: int = 1) -> OpContext:
    return OpContext(source=SourceSample(dataset_id="full", source_id="1"), card=FULL,
                     answer_space=[], rng=random.Random(seed), run_dir=tmp_path)


def test_a_new_operator_is_listed_by_tools(shout_op: Operator[ShoutArgs]) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["tools", "--json"])
    assert listed.exit_code == 0, listed.output
    described = {d["name"]: d for d in json.loads(listed.output)}["shout_question"]
    times = described["args_schema"]["properties"]["times"]
    assert (times["type"], times["default"], times["minimum"], times["maximum"]) == \
        ("integer", 1, 1, 3)
    assert described["args_schema"]["additionalProperties"] is False
    assert described["traits"] == {"lossy": 0.05, "optional": False, "adaptable": True,
                                   "varied": True}
    detail = runner.invoke(app, ["tools", "shout_question"])
    assert detail.exit_code == 0, detail.output
    assert "times (integer, default 1, 1 to 3): how many exclamation marks" in detail.output
    assert "case (upper | title, default \"upper\")" in detail.output
    table = runner.invoke(app, ["tools"]).output
    assert "shout_" in table and "times, case" in table  # long names fold in a narrow table
    unregister(SHOUT.name)
    assert "shout_question" not in runner.invoke(app, ["tools", "--json"]).output


def test_a_new_operator_is_shown_to_the_grounding_model(shout_op: Operator[ShoutArgs]) -> None:
    prompt = render("grounding_system.j2", operators=_operator_menu(True))
    line = next(li for li in prompt.splitlines() if li.startswith("- shout_question:"))
    assert '"times": {"type": "integer", "default": 1, "minimum": 1, "maximum": 3}' in line
    assert '"case": {"enum": ["upper", "title"], "default": "upper"}' in line


def test_a_new_operator_is_type_checked_in_plans(shout_op: Operator[ShoutArgs]) -> None:
    assert check_plan(SUB, FULL, [PlanStep(operator="shout_question", args={"times": 2})]) == []
    assert check_plan(SUB, FULL, [PlanStep(operator="shout_question", args={"times": 2.0})]) == []
    bad = [PlanStep(operator="shuffle_options"),
           PlanStep(operator="shout_question", args={"times": 5, "case": "lower", "volume": 9})]
    assert check_plan(SUB, FULL, bad) == [
        "step 2 (shout_question): unknown argument volume",
        "step 2 (shout_question): times must be between 1 and 3, not 5",
        "step 2 (shout_question): case must be upper or title, not 'lower'"]
    assert check_plan(SUB, FULL, [PlanStep(operator="shout_question",
                                           args={"times": "2"})]) == [
        "step 1 (shout_question): times must be an integer, not '2'"]


def test_a_new_operator_is_planned_per_sample_and_scored(shout_op: Operator[ShoutArgs]) -> None:
    plan = [PlanStep(operator="shout_question", args={"case": "title"})]
    varied = [rules_plan(plan, random.Random(seed))[0].args for seed in range(20)]
    assert all(set(v) == {"case", "times"} and v["case"] == "title" for v in varied)
    assert {v["times"] for v in varied} == {1, 2, 3}
    planned, by = plan_sample("rules", plan, SampleState(question="q"), SUB, None,
                              random.Random(0), 0)
    assert by == "rules" and planned[0].args["times"] in (1, 2, 3)
    assert signal_preservation(plan) == pytest.approx(0.95)


def test_a_new_operator_runs_with_typed_arguments(shout_op: Operator[ShoutArgs],
                                                  tmp_path: Path) -> None:
    state = SampleState(question="is it loud", answer="yes")
    step = PlanStep(operator="shout_question", args={"times": 3})
    done, applied, notes = run_plan([step], [step], state, _ctx(tmp_path), "k")
    assert done.question == "IS IT LOUD!!!" and applied == [step] and notes == []
    with pytest.raises(OperatorError, match=r"^shout_question: times must be between 1 and 3"):
        run_op(PlanStep(operator="shout_question", args={"times": 0}), state, _ctx(tmp_path))
    retried = PlanStep(operator="shout_question", args={"case": "whisper"})
    plain = PlanStep(operator="shout_question", args={"case": "title"})
    done, applied, notes = run_plan([retried], [plain], state, _ctx(tmp_path), "k")
    assert done.question == "Is It Loud!" and applied == [plain]
    assert "case must be upper or title, not 'whisper'" in notes[0]


# ---------------------------------------------------------------- plan checking, any values


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6)
                     | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def _fitting(prop: dict[str, Any]) -> list[Any]:
    """Values that may fit an argument with this schema, so that the examples are not all
    rejections: its choices, its default and bounds, and a plain value of its type."""
    plain = {"string": ["fr", "espeak:en-us"], "integer": [2], "number": [0.25, 12],
             "boolean": [True, False], "array": [[0.1, 0.1, 0.9, 0.9], ["context"], ["A", "B"]]}
    values: list[Any] = [prop.get("default")]
    for member in [prop, *prop.get("anyOf", [])]:
        values += member.get("enum", []) + member.get("items", {}).get("enum", [])
        values += [member[k] for k in ("minimum", "maximum") if k in member]
        values += plain.get(member.get("type", ""), [])
    return values


@st.composite
def _step(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """An operator and arguments for it: mostly its own names with values that may fit, and
    now and then an unknown name or any JSON value."""
    name = draw(st.sampled_from(sorted(REGISTRY)))
    props = REGISTRY[name].describe()["args_schema"].get("properties", {})
    args: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(sorted(props)), unique=True)) if props else []:
        fitting = st.sampled_from(_fitting(props[key]))
        args[key] = draw(st.one_of(fitting, fitting, fitting, _JSON))
    extra = draw(st.dictionaries(st.text(max_size=10), _JSON, max_size=1))
    return name, {**args, **extra} if draw(st.booleans()) else args


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_step())
def test_plan_checking_rejects_exactly_what_the_arguments_model_rejects(
        step: tuple[str, dict[str, Any]]) -> None:
    name, args = step
    op = REGISTRY[name]
    reasons = check_plan(SUB, FULL, [PlanStep(operator=name, args=args)])
    try:
        op.args.model_validate(args)
        valid = True
    except ValidationError:
        valid = False
    assert bool(reasons) != valid, (reasons, args)
    assert all(r.startswith(f"step 1 ({name}): ") and "\n" not in r for r in reasons)
    unknown = sorted(set(args) - set(op.args.model_fields))
    if unknown and all(u.isidentifier() for u in unknown):
        assert f"step 1 ({name}): unknown argument {', '.join(unknown)}" in reasons


def _reasons(step: tuple[str, dict[str, Any]]) -> list[str]:
    return check_plan(SUB, FULL, [PlanStep(operator=step[0], args=step[1])])


def test_the_examples_reach_both_outcomes() -> None:
    """The property above would say little if every generated step were rejected."""
    quick = settings(database=None)
    name, args = find(_step(), lambda s: len(s[1]) >= 2 and not _reasons(s), settings=quick)
    REGISTRY[name].parse_args(args)
    name, args = find(_step(), lambda s: bool(s[1]) and bool(_reasons(s)), settings=quick)
    with pytest.raises(OperatorError):
        REGISTRY[name].parse_args(args)


# ---------------------------------------------------------------- the registered operators


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_operator_declares_its_arguments(name: str) -> None:
    op = REGISTRY[name]
    assert op.args.model_config.get("extra") == "forbid" and op.args.model_config.get("strict")
    for field_name, info in op.args.model_fields.items():
        assert info.description, f"{name}.{field_name} has no description"
    schema = json.dumps(op.describe()["args_schema"])
    assert '"ge"' not in schema and '"le"' not in schema  # bounds shown as minimum/maximum
    required = [f for f, info in op.args.model_fields.items() if info.is_required()]
    assert required == (["target"] if name == "translate" else [])


def test_choices_match_what_the_operators_can_do() -> None:
    def choices(model: type[OperatorArgs], field: str) -> set[str]:
        schema = model.model_json_schema()["properties"][field]
        members = [schema, *schema.get("anyOf", [])]
        return {v for m in members for v in m.get("enum", [])}

    assert choices(image.RenderArgs, "style") == {"auto", *STYLES}
    assert choices(image.DegradeArgs, "kind") == {"auto", *image.DEGRADATIONS}
    assert choices(image.CropArgs, "region") == set(image.REGIONS)
    assert choices(audio_noise.NoiseArgs, "noise") == {"auto", *audio_noise.NOISE_KINDS}
    assert typing.get_args(typing.get_args(image.RenderArgs.model_fields["fields"]
                                           .annotation)[0]) == image.FIELDS


def test_lenient_names_still_reach_the_operator() -> None:
    assert image.RenderArgs.model_validate({"style": "Mono", "fields": "context"}) == \
        image.RenderArgs(style="receipt", fields=["context"])
    assert image.DegradeArgs.model_validate({"kind": "low-contrast"}).kind == "low_contrast"
    assert image.CropArgs.model_validate({"region": "Top_Half"}).region == "top-half"


def test_the_rules_plans_write_arguments_that_validate() -> None:
    cards = [DatasetCard(id=f"c{i}", name="C", format="jsonl", source="x",
                         answer_type=AnswerType.short_text, fields=fields,
                         modalities_in=[Modality.text])
             for i, fields in enumerate([{FieldRole.question: "q", FieldRole.answer: "a"},
                                         {FieldRole.question: "q", FieldRole.context: "c",
                                          FieldRole.answer: "a"}])]
    plans = [plan_for(Subtask(name="Noisy reading", description="d", answer_type=answer,
                              modalities=[Modality.text, *media]), card, "with background noise")
             for card in cards for answer in (AnswerType.short_text, AnswerType.multiple_choice)
             for media in ([Modality.image], [Modality.audio], [Modality.image, Modality.audio])]
    steps = [s for plan in plans for s in plan]
    assert {"render_text_image", "degrade_image", "tts", "mix_noise", "to_multiple_choice"} <= \
        {s.operator for s in steps}
    for step in steps:
        REGISTRY[step.operator].parse_args(step.args)


def test_the_rules_sample_planner_draws_as_before() -> None:
    """Pinned draws: the same seed must give the same benchmark as before typed arguments."""
    plan = [PlanStep(operator="shuffle_options"),
            PlanStep(operator="degrade_image", args={"kind": "auto", "severity": 0.3}),
            PlanStep(operator="mix_noise", args={"noise": "auto", "snr_db": 15}),
            PlanStep(operator="degrade_image", args={"kind": "blur"}),
            PlanStep(operator="mix_noise")]
    rng = random.Random(0)
    assert [s.args for s in rules_plan(plan, rng)] == [
        {}, {"kind": "auto", "severity": 0.38}, {"noise": "auto", "snr_db": 14},
        {"kind": "blur", "severity": 0.27}, {"snr_db": 10}]
    assert rng.random() == 0.4765969541523558
    snr = rules_plan(plan, random.Random(0))[2].args["snr_db"]
    assert type(snr) is int  # written as 14, not 14.0


def test_no_import_cycles_inside_operators() -> None:
    package = Path(image.__file__).parent
    graph: dict[str, set[str]] = {}
    for module in package.glob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "benchagent.operators":
                    found |= {alias.name for alias in node.names}
                elif node.module.startswith("benchagent.operators."):
                    found.add(node.module.rsplit(".", 1)[1])
        graph[module.stem] = found & {m.stem for m in package.glob("*.py")} - {module.stem}
    assert graph["textgen"] and graph["text"]

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n}))
                   for n in graph.get(start, set()))

    cyclic = sorted(m for m in graph if m != "__init__" and reaches(m, m, {m}))
    assert cyclic == []
