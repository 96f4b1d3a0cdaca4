"""The planner agents on the shared pools: design loop, type-checked plans, scoring, feedback."""

from __future__ import annotations

import pytest
from tests.conftest import SHARED_POOLS

from benchagent.models import MockRule
from benchagent.planner.design import DesignLog, PlanningError, query_modalities
from benchagent.planner.design_loop import design, revise_unserved, rules_review
from benchagent.planner.grounding import GroundingOptions, GroundingReport, ground
from benchagent.planner.plans import check_plan, plan_for
from benchagent.pool import Pool
from benchagent.records import AnswerType, Modality, PlanStep, Query, Subtask

QUERY = Query(id="causal", description="Causal reasoning: identify causes and effects in short "
                                       "stories and judge counterfactual claims.", target_size=20)


@pytest.fixture(scope="module")
def pool() -> Pool:
    return Pool.load([SHARED_POOLS / "general-bench", SHARED_POOLS / "bigbench"])


def _subtask(name: str = "Cause and effect", **kw: object) -> Subtask:
    fields: dict[str, object] = {"description": "Pick the cause of an event.",
                                 "capability": "causal reasoning", **kw}
    return Subtask(name=name, **fields)  # type: ignore[arg-type]


def _proposal(dataset_id: str, *steps: dict[str, object]) -> dict[str, object]:
    return {"dataset_id": dataset_id, "plan": list(steps), "alignment": 0.9, "robustness": 0.9,
            "signal_preservation": 0.9, "reason": "fits"}


def test_modalities_are_read_from_the_request() -> None:
    spoken = Query(id="s", description="The model hears a question read aloud.")
    assert query_modalities(spoken) == [Modality.text, Modality.audio]
    assert query_modalities(QUERY) == [Modality.text]


def test_rules_review_discards_overlaps_and_adds_requested_modalities(pool: Pool) -> None:
    first = _subtask("Causal judgment", capability="causal judgment of stories")
    twin = _subtask("Causal judgment stories", capability="causal judgment of stories")
    spoken = Query(id="s", description="Spoken questions about causes: the model hears them.")
    actions = rules_review(spoken, [first, twin], pool)
    assert any(a.op == "discard" and a.name == twin.name and "overlaps" in a.reason
               for a in actions)
    revised = next(a for a in actions if a.op == "revise")
    assert revised.subtask is not None and Modality.audio in revised.subtask.modalities


def test_design_loop_applies_the_models_review(pool: Pool, mock_client) -> None:
    proposed = {"subtasks": [_subtask("Causes").model_dump(mode="json"),
                             _subtask("Counterfactuals", capability="counterfactual claims",
                                      description="Judge what-if claims.").model_dump(mode="json"),
                             _subtask("Weather", capability="meteorology",
                                      description="Forecasts.").model_dump(mode="json")]}
    review = {"covered": False, "missing": [], "actions": [
        {"op": "discard", "name": "Weather", "reason": "off the goal"}]}
    client = mock_client(MockRule("Propose between", proposed),
                         MockRule("Check the set", review, times=1),
                         MockRule("Check the set", {"covered": True, "actions": []}))
    subtasks, log = design(QUERY, pool, client, max_subtasks=4)
    assert [s.name for s in subtasks] == ["Causes", "Counterfactuals"]
    assert any(s.op == "discard" and s.subtask == "Weather" and s.by == "model"
               for s in log.steps)
    assert log.steps[-1].op == "check"


def test_ablated_design_is_the_request_itself(pool: Pool) -> None:
    subtasks, _ = design(QUERY, pool, None, max_subtasks=4, ablate=True)
    assert len(subtasks) == 1 and subtasks[0].description == QUERY.description


def test_model_plan_with_unknown_operator_is_rejected_with_reason(pool: Pool,
                                                                  mock_client) -> None:
    subtask = _subtask()
    card = pool.search("cause and effect", k=1)[0].card
    bad = {"preferences": "short stories", "proposals": [
        _proposal(card.id, {"operator": "make_it_harder", "args": {}},
                  {"operator": "shuffle_options", "args": {}})]}
    client = mock_client(MockRule("Candidate datasets", bad))
    report = ground([subtask], QUERY, pool, client, opts=GroundingOptions(k=4))
    rejected = [r for r in report.rejected if r.by == "model"]
    assert any("unknown operator 'make_it_harder'" in r.reason for r in rejected)
    # the rules plan replaced the rejected one, and the trace says the model's output failed
    assert report.groundings and all(g.plan_by == "rules" for g in report.groundings)
    assert client.trace.totals()["grounding"]["fallbacks"] == 1


def test_model_plan_needing_a_missing_field_is_rejected(pool: Pool, mock_client) -> None:
    subtask = _subtask(modalities=[Modality.text, Modality.audio])
    hits = pool.search("cause and effect causal reasoning", k=4)
    card = next(h.card for h in hits if "dialog" not in h.card.fields)
    bad = {"preferences": "", "proposals": [
        _proposal(card.id, {"operator": "concat_dialogue", "args": {}},
                  {"operator": "shuffle_options", "args": {}})]}
    client = mock_client(MockRule("Candidate datasets", bad))
    report = ground([subtask], QUERY, pool, client, opts=GroundingOptions(k=4))
    rejected = next(r for r in report.rejected if r.by == "model")
    assert rejected.dataset == card.name and rejected.plan == (
        "concat_dialogue → shuffle_options")
    assert "step 1 (concat_dialogue): needs dialog, not present at this step" in (
        rejected.reason)


def test_a_valid_model_plan_is_kept_and_scored(pool: Pool, mock_client) -> None:
    subtask = _subtask()
    hit = pool.search("cause and effect causal reasoning", k=1)[0]
    plan = [p.model_dump() for p in plan_for(subtask, hit.card)]
    good = {"preferences": "stories with a clear cause", "proposals": [_proposal(hit.card.id,
                                                                                 *plan)]}
    client = mock_client(MockRule("Candidate datasets", good))
    report = ground([subtask], QUERY, pool, client, opts=GroundingOptions(k=4))
    chosen = next(g for g in report.groundings if g.dataset_id == hit.card.id)
    assert chosen.plan_by == "model"
    assert set(chosen.scores) == {"alignment", "robustness", "signal_preservation",
                                  "request_relevance", "subtask_relevance"}
    assert report.preferences[subtask.name] == "stories with a clear cause"


def test_ablated_scoring_keeps_search_order_unchecked(pool: Pool) -> None:
    subtask = _subtask(modalities=[Modality.text], answer_type=AnswerType.number)
    with pytest.raises(PlanningError, match="no subtask could be grounded"):
        ground([subtask], QUERY, pool, None, opts=GroundingOptions())
    unchecked = ground([subtask], QUERY, pool, None,
                       opts=GroundingOptions(ablate_scoring=True)).groundings
    assert len(unchecked) == 3  # kept without the type check, in search order
    assert all(check_plan(subtask, pool.card(g.dataset_id), g.plan) for g in unchecked)


def test_unserved_subtask_goes_back_to_design_with_reasons(pool: Pool) -> None:
    odd = _subtask("Long essays", answer_type=AnswerType.free_form,
                   description="Write an essay about causes.")
    report = GroundingReport()
    report.reject(odd.name, "Some dataset", "answer type yes_no cannot serve free_form")
    unserved = report.unserved([odd])
    log = DesignLog()
    revised = revise_unserved(QUERY, [odd], unserved, None, log, round_=1)
    assert revised[0].answer_type == AnswerType.multiple_choice
    assert log.steps[0].op == "revise" and "multiple choice" in log.steps[0].reason


def test_argument_values_are_type_checked(pool: Pool) -> None:
    subtask = _subtask(modalities=[Modality.text, Modality.audio])
    card = next(c for c in pool.cards if list(c.modalities_in) == [Modality.text]
                and "options" in c.fields)
    plan = [PlanStep(operator="tts", args={"rate": "float 30, in dB", "replace": "yes"}),
            PlanStep(operator="mix_noise", args={"noise": "loud"})]
    problems = " ".join(check_plan(subtask, card, plan))
    assert "rate must be a number" in problems and "replace must be true or false" in problems
    assert "noise must be one of white, pink, babble, auto" in problems
    good = [PlanStep(operator="tts", args={"rate": 1.2}), PlanStep(operator="mix_noise",
                                                                   args={"snr_db": 10})]
    assert check_plan(subtask, card, good) == []
