"""Absolute relevance on the shared pools: datasets serve a request or not on one scale, rules
design builds subtasks from the request's clauses, and a request nothing serves is diagnosed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import SHARED_POOLS

from benchagent.planner.coverage import request_parts
from benchagent.planner.design import PlanningError, design_rules
from benchagent.planner.grounding import ground
from benchagent.planner.relevance import RELEVANT, clauses, request_relevance
from benchagent.planner.request import names_content, produced_modalities
from benchagent.pool import Pool
from benchagent.records import Allocation, Modality, Query, Quota

CAUSAL = Query(id="causal", description="Build a benchmark that tests causal reasoning: the "
               "model must identify causes and effects in short stories and documents.",
               target_size=20)
UNSERVED = Query(id="anachronisms", description="Test whether a model recognises common "
                 "misconceptions and anachronisms in statements", target_size=12)
RENDERED = Query(id="ocr", description="Test whether a multimodal model can read text shown in "
                 "images: each question and its context are rendered as an image.")


@pytest.fixture(scope="module")
def pool() -> Pool:
    return Pool.load([SHARED_POOLS / "general-bench", SHARED_POOLS / "bigbench"])


def _names(pool: Pool, query: Query) -> dict[str, float]:
    return {pool.card(cid).name: r.score for cid, r in request_relevance(query, pool).items()}


def test_the_datasets_that_test_the_request_pass_and_the_rest_do_not(pool: Pool) -> None:
    scores = _names(pool, CAUSAL)
    assert scores["Causal-Reasoning"] >= RELEVANT
    assert scores["Document-Level-Causal-Reasoning"] >= RELEVANT
    for off_topic in ("sports_understanding", "word_sorting", "Temporal-Reasoning",
                      "penguins_in_a_table"):
        assert scores[off_topic] < RELEVANT, off_topic


def test_an_off_topic_best_hit_is_not_relevant(pool: Pool) -> None:
    """Relevance is absolute: the best hit of a request no dataset serves stays below."""
    scores = _names(pool, UNSERVED)
    assert max(scores.values()) < RELEVANT
    with pytest.raises(PlanningError, match=r"no dataset in the pool serves the request: "
                                            r"the closest, .*, has relevance 0\.\d\d"):
        design_rules(UNSERVED, pool, 4)


def test_a_text_request_never_gets_an_image_dataset(pool: Pool) -> None:
    scored = request_relevance(CAUSAL, pool)
    image_cards = [c for c in pool.cards if Modality.image in c.modalities_in]
    assert image_cards and not any(c.id in scored for c in image_cards)
    subtasks = design_rules(CAUSAL, pool, 4)
    assert all(s.modalities == [Modality.text] for s in subtasks)
    report = ground(subtasks, CAUSAL, pool, None)
    assert report.groundings
    assert all(pool.card(g.dataset_id).modalities_in == [Modality.text]
               for g in report.groundings)


def test_rules_subtasks_are_named_from_the_request_and_share_no_dataset(pool: Pool) -> None:
    subtasks = design_rules(CAUSAL, pool, 4)
    names = {s.name.lower() for s in subtasks}
    assert names & {"causal reasoning", "identify causes", "effects in short stories"}
    assert not names & {c.name.lower() for c in pool.cards}
    report = ground(subtasks, CAUSAL, pool, None)
    datasets = [g.dataset_id for g in report.groundings]
    assert len(datasets) == len(set(datasets))
    assert all(g.scores["request_relevance"] >= RELEVANT for g in report.groundings)


def test_a_request_about_form_only_is_served_by_text_datasets_to_render(pool: Pool) -> None:
    assert not names_content(RENDERED) and names_content(CAUSAL)
    assert produced_modalities(RENDERED) == {Modality.image}
    scored = request_relevance(RENDERED, pool)
    assert scored and all(pool.card(cid).modalities_in == [Modality.text] for cid in scored)
    assert all(r.form_only and r.score == 1.0 for r in scored.values())


def test_spoken_requests_are_judged_on_their_content(pool: Pool) -> None:
    spoken = Query(id="s", description="The model hears a riddle read aloud and must answer "
                   "the commonsense riddle.")
    assert produced_modalities(spoken) == {Modality.audio}
    scores = _names(pool, spoken)
    assert scores["riddle_sense"] >= RELEVANT
    assert scores["date_understanding"] < RELEVANT


@given(st.text(max_size=300))
def test_clauses_never_raise_and_are_the_texts_words_in_order(text: str) -> None:
    for clause in clauses(text):
        rest = iter(text.split())
        assert clause and all(any(word in w for w in rest) for word in clause.split())


def test_a_word_joined_by_and_or_takes_the_clauses_other_words() -> None:
    assert clauses("Evaluate social and ethical reasoning in everyday situations: what people "
                   "would feel or do next, and whether an action is acceptable.") == [
        "social reasoning in everyday situations", "ethical reasoning in everyday situations",
        "what people would feel", "what people would do next",
        "whether an action is acceptable"]
    assert clauses("effects in short stories and documents") == [
        "effects in short stories", "effects in short documents"]
    assert clauses("ordering events and computing dates") == ["ordering events",
                                                              "computing dates"]


def test_only_the_parts_of_a_request_that_name_content_are_checked_for_service(
        pool: Pool) -> None:
    spoken = Query(id="s", description="Evaluate spoken-question understanding: the model hears "
                   "a question read aloud, sometimes over background noise, and must answer a "
                   "multiple-choice commonsense or social reasoning question.")
    riddles = next(c for c in pool.cards if c.name == "riddle_sense")
    allocation = Allocation(target_size=10, quotas=[
        Quota(subtask="riddles", dataset_id=riddles.id, quota=10, capacity=100)])
    parts = [part.clause for part in request_parts(spoken, allocation, pool)]
    assert parts == ["must answer a multiple-choice commonsense", "social reasoning question"]
