"""Sample-level planning (rules / model / off) and running a plan step by step: retries with the
dataset-level arguments, rollback, and CPU operators in the process pool."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from benchagent.executor.backends import LocalBackend, active_backend
from benchagent.executor.sample import PairJob, process_candidate
from benchagent.executor.sample_plan import plan_sample, rules_plan
from benchagent.executor.steps import CpuPool, run_op, run_plan
from benchagent.models import MockRule
from benchagent.operators import REGISTRY, OpContext, OperatorError, SampleState
from benchagent.operators.image import PROMPT
from benchagent.records import AnswerType, DatasetCard, Grounding, PlanStep, SourceSample, Subtask

QUESTION = "Which river flows through the capital city of Hungary?"
CONTEXT = "Budapest is the capital of Hungary. The Danube divides it into Buda and Pest."
OPTIONS = ["The Danube", "The Tisza", "The Rhine", "The Vistula"]
SUB = Subtask(name="Reading", description="Read a question shown in a noisy image and clip.")
CARD = DatasetCard(id="d", name="D", format="jsonl", source="x",
                   answer_type=AnswerType.multiple_choice)
PLAN = [PlanStep(operator="shuffle_options"),
        PlanStep(operator="render_text_image", args={"fields": ["context"], "style": "auto"}),
        PlanStep(operator="degrade_image", args={"kind": "auto", "severity": 0.3}),
        PlanStep(operator="tts", args={"field": "question", "voice": "auto"}),
        PlanStep(operator="mix_noise", args={"noise": "auto", "snr_db": 15})]
ASKED = "You adapt a transformation plan"  # the sample planner's prompt


def _state(**update: Any) -> SampleState:
    return SampleState(question=QUESTION, context=CONTEXT, options=list(OPTIONS),
                       answer="The Danube").model_copy(update=update)


def _ctx(run: Path, seed: int = 1, **kw: Any) -> OpContext:
    return OpContext(source=SourceSample(dataset_id="d", source_id="1"), card=CARD,
                     answer_space=[], rng=random.Random(seed), run_dir=run, **kw)


def _rules(seed: int) -> tuple[list[PlanStep], str]:
    return plan_sample("rules", PLAN, _state(), SUB, None, random.Random(seed), seed)


# ---------------------------------------------------------------- rules and off


def test_rules_policy_varies_degradation_per_sample_and_sometimes_skips_it() -> None:
    plans = [_rules(seed) for seed in range(60)]
    assert all(by == "rules" for _, by in plans)
    assert [p for p, _ in plans] == [_rules(seed)[0] for seed in range(60)]  # seeded
    severities = [s.args["severity"] for p, _ in plans for s in p if s.operator == "degrade_image"]
    snrs = [s.args["snr_db"] for p, _ in plans for s in p if s.operator == "mix_noise"]
    assert all(0.15 <= v <= 0.45 for v in severities) and len(set(severities)) >= 10
    assert all(10 <= v <= 25 for v in snrs) and len(set(snrs)) >= 8
    assert 10 <= 60 - len(severities) <= 35 and 10 <= 60 - len(snrs) <= 35  # about a third
    for plan, _ in plans:
        kept = [s for s in plan if s.operator not in ("degrade_image", "mix_noise")]
        assert kept == [s for s in PLAN if s.operator not in ("degrade_image", "mix_noise")]
        for step in plan:
            planned = next(s for s in PLAN if s.operator == step.operator)
            assert set(step.args) == set(planned.args)
            assert {k: v for k, v in step.args.items() if k not in ("severity", "snr_db")} == \
                {k: v for k, v in planned.args.items() if k not in ("severity", "snr_db")}


def test_off_policy_and_plans_without_choices_run_as_planned(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client()
    assert plan_sample("off", PLAN, _state(), SUB, client, random.Random(0), 0) == (PLAN, "dataset")
    fixed = [PlanStep(operator="shuffle_options")]
    assert plan_sample("rules", fixed, _state(), SUB, client, random.Random(0), 0) == \
        (fixed, "dataset")
    assert plan_sample("model", fixed, _state(), SUB, client, random.Random(0), 0) == \
        (fixed, "dataset")
    assert client.provider.calls == []


# ---------------------------------------------------------------- model


def test_model_policy_applies_the_arguments_it_chose(mock_client) -> None:  # type: ignore[no-untyped-def]
    reply = {"reason": "a dense page: blur it harder",
             "steps": [{"step": 3, "args": {"kind": "blur", "severity": 0.6}}]}
    client = mock_client(MockRule(ASKED, reply))
    planned, by = plan_sample("model", PLAN, _state(), SUB, client, random.Random(0), 0)
    assert by == "model"
    assert planned[2] == PlanStep(operator="degrade_image", args={"kind": "blur", "severity": 0.6})
    assert planned[:2] + planned[3:] == PLAN[:2] + PLAN[3:]
    prompt = client.provider.calls[0].messages[0]["content"]
    assert QUESTION in prompt and "severity" in prompt and "snr_db" in prompt
    assert client.trace.totals()["executor"]["calls"] == 1


def test_a_step_out_of_range_is_repaired(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule(ASKED, {"steps": [{"step": 9, "args": {}}]}, times=1),
                         MockRule(ASKED, {"steps": [{"step": 5, "args": {"snr_db": 3}}]}))
    planned, by = plan_sample("model", PLAN, _state(), SUB, client, random.Random(0), 0)
    assert by == "model" and planned[4].args == {"noise": "auto", "snr_db": 3}
    assert "step 9 does not exist" in client.provider.calls[1].messages[-1]["content"]
    assert client.trace.totals()["executor"]["repairs"] == 1


def test_an_argument_the_operator_does_not_take_ends_in_the_rules_fallback(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule(ASKED, {"steps": [{"step": 3, "args": {"strength": 0.9}}]}),
                         repair_rounds=2)
    planned, by = plan_sample("model", PLAN, _state(), SUB, client, random.Random(4), 4)
    assert by == "rules" and planned == rules_plan(PLAN, random.Random(4))
    assert all("strength" not in s.args for s in planned)
    repair = client.provider.calls[1].messages[-1]["content"]
    assert "takes no argument strength" in repair and "severity" in repair
    totals = client.trace.totals()["executor"]
    assert totals["calls"] == 3 and totals["fallbacks"] == 1
    fallback = [e for e in client.trace.events if e.get("outcome") == "fallback"]
    assert len(fallback) == 1 and "strength" in fallback[0]["error"]


# ---------------------------------------------------------------- run_plan


RENDER = PlanStep(operator="render_text_image",
                  args={"fields": ["question", "context"], "style": "document"})
BLUR = PlanStep(operator="degrade_image", args={"kind": "blur", "severity": 0.3})


def test_a_failed_step_is_retried_with_the_dataset_level_args(tmp_path: Path) -> None:
    planned = [RENDER, PlanStep(operator="degrade_image", args={"kind": "smudge", "severity": 0.3})]
    state, applied, notes = run_plan(planned, [RENDER, BLUR], _state(), _ctx(tmp_path), "k")
    assert applied == [RENDER, BLUR]
    assert len(notes) == 1 and notes[0].startswith("step 2 (degrade_image) failed, retried")
    assert "dataset-level" in notes[0] and "smudge" in notes[0]
    page = state.images[0]
    assert state.degraded == [page] and list(state.media_text) == [page]
    assert QUESTION in state.media_text[page] and state.question == PROMPT
    with Image.open(tmp_path / page) as img:
        assert img.format == "PNG" and img.width == 800


def test_a_step_failing_twice_rejects_the_sample_naming_the_step(tmp_path: Path) -> None:
    bad = PlanStep(operator="degrade_image", args={"kind": "smudge"})
    before = _state()
    with pytest.raises(OperatorError, match=r"^step 2 \(degrade_image\): .*smudge"):
        run_plan([RENDER, bad], [RENDER, bad], before, _ctx(tmp_path), "k")
    assert before == _state()  # the caller's state is untouched


def test_a_failed_step_leaves_no_trace_in_the_state(tmp_path: Path) -> None:
    """The first attempt stores a page and then fails (the answer is not an option, so it has
    no letter); the retry starts from the state before it, not from a half-rendered one."""
    state0 = _state(options=["The Tisza", "The Rhine"])
    lettered = PlanStep(operator="render_text_image",
                        args={"fields": ["question", "options"], "style": "document"})
    plain = PlanStep(operator="render_text_image", args={"fields": ["question"],
                                                         "style": "document"})
    state, applied, notes = run_plan([lettered], [plain], state0, _ctx(tmp_path), "k")
    assert applied == [plain] and "no letter" in notes[0]
    assert len(list((tmp_path / "media").iterdir())) == 2  # the failed attempt's page exists
    assert len(state.images) == 1 and list(state.media_text) == state.images
    assert state.media_text[state.images[0]] == QUESTION  # no "A. The Tisza"
    assert state.options == ["The Tisza", "The Rhine"] and state.answer == "The Danube"
    assert state.question == PROMPT and state.context == CONTEXT


def test_a_repeated_operator_retries_with_its_own_dataset_level_args(tmp_path: Path) -> None:
    """Two render steps (context, then options): when the second fails with the planned
    arguments, its retry must use the second step's dataset-level arguments, not the first's."""
    context = PlanStep(operator="render_text_image", args={"fields": ["context"],
                                                           "style": "document"})
    options = PlanStep(operator="render_text_image", args={"fields": ["options"],
                                                           "style": "document"})
    neon = PlanStep(operator="render_text_image", args={"fields": ["options"], "style": "neon"})
    state, applied, _ = run_plan([context, neon], [context, options], _state(), _ctx(tmp_path),
                                 "k")
    assert applied == [context, options]
    assert state.media_text[state.images[1]].startswith("A. The Danube")


# ---------------------------------------------------------------- seeds


def _job(tmp_path: Path, seed: int) -> PairJob:
    grounding = Grounding(subtask=SUB.name, dataset_id="d", score=1.0, reason="test",
                          plan=[PlanStep(operator="shuffle_options")])
    return PairJob(subtask=SUB, grounding=grounding, card=CARD, answer_space=OPTIONS,
                   instruction="Choose one option.", run_dir=tmp_path, seed=seed, verifier=None,
                   models_used=[])


def test_the_build_seed_changes_the_operators_random_choices(tmp_path: Path) -> None:
    """`--seed` is the seed of every random choice: another seed shuffles options otherwise."""
    orders: dict[int, list[list[str]]] = {0: [], 1: []}
    for i in range(4):
        source = SourceSample(dataset_id="d", source_id=str(i), question=QUESTION,
                              options=[*OPTIONS, "The Sava", "The Drava"], answer="The Danube")
        for seed, seen in orders.items():
            outcome = process_candidate(source, i, _job(tmp_path, seed))
            assert outcome.sample is not None
            seen.append(outcome.sample.options)
    assert orders[0] != orders[1]


# ---------------------------------------------------------------- process pool


def _render_in_parent(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    raise OperatorError("ran in the calling process")


def test_cpu_step_runs_in_a_worker_with_the_same_result(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CPU_WORKERS", "0")
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache-thread"))
    step = PlanStep(operator="render_text_image", args={"fields": ["question", "context"]})
    with CpuPool() as backend:
        in_thread = run_op(step, _state(), _ctx(tmp_path / "a", seed=3))
        assert isinstance(backend, LocalBackend) and backend.pool is None

    monkeypatch.setenv("BENCHAGENT_CPU_WORKERS", "2")
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache-pool"))  # renders afresh
    # The calling process can no longer render: only a worker process (own registry) can.
    op = REGISTRY["render_text_image"]
    monkeypatch.setitem(REGISTRY, op.name, dataclasses.replace(op, fn=_render_in_parent))
    with pytest.raises(OperatorError, match="calling process"):
        run_op(step, _state(), _ctx(tmp_path / "b", seed=3))  # no CpuPool: in the thread
    with CpuPool() as backend:
        in_worker = run_op(step, _state(), _ctx(tmp_path / "b", seed=3))
        assert isinstance(backend, LocalBackend) and backend.pool is not None
    assert backend.pool is None and active_backend() is None  # shut down with the last user
    assert in_worker == in_thread
    page = in_worker.images[0]
    assert (tmp_path / "a" / page).read_bytes() == (tmp_path / "b" / page).read_bytes()
    assert any((tmp_path / "cache-pool" / "ops" / "render_text_image").iterdir())


def _siblings(tmp_path: Path) -> list[SourceSample]:
    picture = tmp_path / "sibling.png"
    Image.new("RGB", (120, 80), "navy").save(picture)
    return [SourceSample(dataset_id="d", source_id="s", question="q", images=[str(picture)])]


@pytest.mark.parametrize("workers", ["0", "1"])
def test_cpu_operators_see_sibling_samples_in_the_pool(tmp_path: Path, workers: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CPU_WORKERS", workers)
    own = tmp_path / "own.png"
    Image.new("RGB", (120, 80), "white").save(own)
    siblings = _siblings(tmp_path)
    step = PlanStep(operator="compose_images", args={"with_siblings": 1, "panel": 64})
    with CpuPool():
        out = run_op(step, _state(images=[str(own)]), _ctx(tmp_path, siblings=lambda n: siblings))
    with Image.open(tmp_path / out.images[0]) as img:
        assert img.width >= 128  # two panels side by side


def test_a_dead_worker_fails_one_step_not_every_later_one(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CPU_WORKERS", "1")
    step = PlanStep(operator="render_text_image", args={"fields": ["question"]})
    with CpuPool() as backend:
        run_op(step, _state(), _ctx(tmp_path))
        assert isinstance(backend, LocalBackend) and backend.pool is not None
        for pid in list(backend.pool._processes):
            os.kill(pid, signal.SIGKILL)  # the worker this test's pool started
        with pytest.raises(OperatorError, match="worker process died"):
            run_op(step, _state(question="Is the Danube longer than the Rhine?"), _ctx(tmp_path))
        again = run_op(step, _state(question="Does the Tisza join the Danube?"), _ctx(tmp_path))
    assert again.images
