"""A request's demands besides its content (languages, conversations between speakers): found in
its words, met or not by the plan, and said in plan.md, the build's last lines and the
diagnosis of a request nothing serves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchagent.planner.demands import (
    asked_languages,
    conversation_topic,
    off_form,
    request_demands,
    unmet_notes,
)
from benchagent.planner.relevance import RELEVANT, request_relevance
from benchagent.pool import Pool
from benchagent.records import Allocation, Grounding, PlanStep, Query, Quota
from runcli import cli

TWO_LANGUAGES = ("Evaluate dialogue understanding in French and Spanish: tracking who said "
                 "what across multi-turn conversations and inferring relations between speakers.")


def test_languages_are_read_from_the_request() -> None:
    assert asked_languages("conversations in English, Spanish and French") == ["Spanish",
                                                                               "French"]
    assert asked_languages("a multilingual benchmark of riddles") == ["several languages"]
    assert asked_languages("polish the answers and count the items") == []
    assert asked_languages("Evaluate causal reasoning in short stories.") == []


@pytest.fixture
def pool(shared_pools: Path) -> Pool:
    return Pool.load([shared_pools / "general-bench"])


def _plan(pool: Pool, name: str, steps: list[PlanStep]) -> tuple[Allocation, list[Grounding]]:
    card = next(c for c in pool.cards if c.name == name)
    grounding = Grounding(subtask="s", dataset_id=card.id, score=1.0, reason="", plan=steps)
    return Allocation(target_size=10, quotas=[Quota(subtask="s", dataset_id=card.id, quota=10,
                                                    capacity=100)]), [grounding]


def test_languages_the_plan_does_not_make_are_not_met(pool: Pool) -> None:
    query = Query(id="q", description=TWO_LANGUAGES)
    allocation, groundings = _plan(pool, "Dialogue-Relation-Extraction", [])
    languages, conversation = request_demands(query, allocation, groundings, pool, False)
    assert languages.served_by is None and "executor model" in languages.lacking
    assert languages.name == "items in French, Spanish"
    assert conversation.served_by == "Dialogue-Relation-Extraction"
    (note,) = unmet_notes([languages, conversation])
    assert note.startswith("not met: items in French, Spanish: the planned datasets are in "
                           "English")


def test_planned_translations_meet_the_languages(pool: Pool) -> None:
    query = Query(id="q", description=TWO_LANGUAGES)
    steps = [PlanStep(operator="translate", args={"target": "fr"}),
             PlanStep(operator="translate", args={"target": "Spanish"})]
    allocation, groundings = _plan(pool, "Dialogue-Relation-Extraction", steps)
    languages, _ = request_demands(query, allocation, groundings, pool, True)
    assert languages.served_by is not None and "French" in languages.served_by


def test_spoken_conversations_need_a_voice_per_speaker(pool: Pool) -> None:
    query = Query(id="q", description="Evaluate understanding of spoken dialogues: the model "
                                      "hears a dialogue read aloud and says who said what.")
    allocation, groundings = _plan(pool, "Dialogue-Relation-Extraction", [PlanStep(
        operator="tts")])
    (spoken,) = request_demands(query, allocation, groundings, pool, False)
    assert spoken.served_by is None and "concat_dialogue" in spoken.lacking
    allocation, groundings = _plan(pool, "Dialogue-Relation-Extraction", [PlanStep(
        operator="concat_dialogue")])
    (spoken,) = request_demands(query, allocation, groundings, pool, False)
    assert spoken.served_by == "Dialogue-Relation-Extraction"


def test_a_plan_says_which_demands_it_does_not_meet(shared_pools: Path, tmp_path: Path) -> None:
    result = cli("plan", TWO_LANGUAGES, "--pool", shared_pools / "general-bench",
                 "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert "not met: items in French, Spanish" in result.stdout
    plan = (tmp_path / "run" / "plan" / "plan.md").read_text()
    assert "- items in French, Spanish: not met; the planned datasets are in English" in plan
    assert "- conversations between speakers: met by " in plan


def test_the_diagnosis_names_languages_the_pool_lacks(shared_pools: Path,
                                                      tmp_path: Path) -> None:
    result = cli("plan", "Evaluate knowledge of Japanese tea ceremony etiquette, in Japanese.",
                 "--pool", shared_pools / "bigbench", "--out", tmp_path / "run")
    assert result.returncode != 0
    assert "no dataset in the pool serves the request" in result.stderr
    assert "it also asks for items in Japanese, which no dataset of the pool is in" in \
        result.stderr


def test_the_diagnosis_says_when_the_closest_dataset_has_no_description(tmp_path: Path) -> None:
    folder = tmp_path / "pool" / "capitals"
    folder.mkdir(parents=True)
    rows = [{"question": f"What is the capital city of country {i}?", "options": ["A", "B"],
             "answer": "A"} for i in range(6)]
    (folder / "capitals.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("plan", "Evaluate knowledge of world geography: naming the capital cities",
                 "--pool", tmp_path / "pool", "--out", tmp_path / "run")
    assert result.returncode != 0
    assert "capitals has no description to match the request with" in result.stderr


def test_a_request_about_conversations_is_read_from_its_heading() -> None:
    def about(text: str) -> bool:
        return conversation_topic(Query(id="q", description=text))
    assert about("Evaluate dialogue understanding: who said what, and relations between them")
    assert about("Test whether a model follows multi-party conversations")
    assert not about("Evaluate reasoning about time: durations in narratives and dialogues")
    assert not about("Evaluate reading comprehension of stories or conversations")
    assert not about("Evaluate causal reasoning in short stories")


def test_datasets_without_conversations_do_not_serve_a_request_about_them(
        shared_pools: Path) -> None:
    pool = Pool.load([shared_pools / "general-bench", shared_pools / "bigbench"])
    names = {c.id: c.name for c in pool.cards}
    query = Query(id="q", description="Evaluate dialogue understanding: inferring relations "
                                      "between speakers and resolving what they refer to.")
    scored = {names[cid]: r for cid, r in request_relevance(query, pool).items()}
    nli = scored["Natural-Language-Inference"]
    assert nli.score == 0.0 and "holds no conversations" in nli.describe()
    assert scored["Dialogue-Relation-Extraction"].score >= RELEVANT
    assert not scored["implicatures"].unmet  # Speaker 1 and Speaker 2 talk
    # the same datasets serve a request that names dialogues as one kind of text of several
    other = Query(id="q", description="Evaluate inferring relations between people described "
                                      "in narratives and dialogues.")
    assert not any(r.unmet for r in request_relevance(other, pool).values())


def test_the_form_rule_needs_a_dataset_that_meets_it(pool: Pool) -> None:
    """With no conversation in the pool, content decides (the demand is then reported unmet)."""
    query = Query(id="q", description="Evaluate dialogue understanding")
    ruled_out = off_form(query, pool.cards)
    assert 0 < len(ruled_out) < len(pool.cards)
    assert off_form(query, [c for c in pool.cards if c.id in ruled_out]) == {}
