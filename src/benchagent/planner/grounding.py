"""Grounding agent: per subtask, candidate datasets and a type-checked transformation plan each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field, create_model

from benchagent.models import ModelClient, StructuredOutputError
from benchagent.operators import type_check
from benchagent.planner.design import PlanningError
from benchagent.pool import Pool, ScoredCard
from benchagent.prompts import render
from benchagent.records import (
    AnswerType,
    DatasetCard,
    FieldRole,
    Grounding,
    Modality,
    PlanStep,
    Query,
    Subtask,
)

MAX_PER_SUBTASK = 3
THRESHOLD = 0.45
_TEXT_ROLES = {FieldRole.question, FieldRole.context, FieldRole.dialog}


class GroundingPick(BaseModel):
    dataset_id: str
    score: float = Field(ge=0.0, le=1.0)
    reason: str = ""


class GroundingOutput(BaseModel):
    picks: list[GroundingPick] = Field(default_factory=list)


def grounding_schema(ids: list[str]) -> type[GroundingOutput]:
    """GroundingOutput whose dataset ids are an enum of the candidates, so that constrained
    decoding cannot name a dataset that is not on the list."""
    pick = create_model("GroundingPick", __base__=GroundingPick,
                        dataset_id=(Literal[tuple(ids)], ...))  # type: ignore[arg-type]
    return create_model("GroundingOutput", __base__=GroundingOutput,
                        picks=(list[pick], Field(min_length=1)))


@dataclass
class GroundingReport:
    groundings: list[Grounding] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)  # subtask, dataset, reason


def needed_roles(subtask: Subtask) -> set[FieldRole]:
    needed = {FieldRole.answer}
    if subtask.answer_type == AnswerType.multiple_choice:
        needed.add(FieldRole.options)
    if Modality.image in subtask.modalities:
        needed.add(FieldRole.image)
    if Modality.audio in subtask.modalities:
        needed.add(FieldRole.audio)
    return needed


def answer_types_fit(subtask: Subtask, card: DatasetCard) -> bool:
    if subtask.answer_type == card.answer_type:
        return True
    convertible = {AnswerType.short_text, AnswerType.number, AnswerType.yes_no,
                   AnswerType.multiple_choice}
    return subtask.answer_type == AnswerType.multiple_choice and card.answer_type in convertible


def plan_for(subtask: Subtask, card: DatasetCard) -> list[PlanStep]:
    """The operator chain from this dataset's fields to the subtask's items."""
    steps: list[PlanStep] = []
    if subtask.answer_type == AnswerType.multiple_choice:
        if FieldRole.options not in card.fields:
            steps.append(PlanStep(operator="to_multiple_choice", args={"n_options": 4}))
        steps.append(PlanStep(operator="shuffle_options"))
    if card.modalities_in != [Modality.text]:
        steps.append(PlanStep(operator="attach_media"))
    return steps


def check_plan(subtask: Subtask, card: DatasetCard, plan: list[PlanStep]) -> list[str]:
    """Why this (subtask, dataset, plan) is not transformable; empty when it is."""
    problems = type_check(plan, set(card.fields), needed_roles(subtask))
    if not _TEXT_ROLES & set(card.fields):
        problems.append("the dataset has no question, context or dialog field")
    if not answer_types_fit(subtask, card):
        problems.append(f"answer type {card.answer_type.value} cannot serve "
                        f"{subtask.answer_type.value}")
    missing = set(subtask.modalities) - set(card.modalities_in)
    if missing:
        problems.append("lacks input modality " + ", ".join(sorted(m.value for m in missing)))
    return problems


def candidates(subtask: Subtask, query: Query, pool: Pool, k: int = 8) -> list[ScoredCard]:
    """Datasets for the subtask's own words; the whole query only when those find nothing."""
    text = f"{subtask.name} {subtask.description} {subtask.capability}"
    return pool.search(text, k=k) or pool.search(f"{text} {query.description}", k=k)


def _rules_scores(subtask: Subtask, hits: list[ScoredCard]) -> dict[str, tuple[float, str]]:
    top = max((h.score for h in hits), default=0.0) or 1.0
    scores = {}
    for hit in hits:
        fit = 1.0 if hit.card.answer_type == subtask.answer_type else 0.6
        score = round(hit.score / top * (0.7 + 0.3 * fit), 3)
        scores[hit.card.id] = (score, f"search {hit.score:.2f} ({hit.reason}); answer fit {fit}")
    return scores


def _llm_scores(client: ModelClient, subtask: Subtask, query: Query, hits: list[ScoredCard],
                seed: int) -> dict[str, tuple[float, str]]:
    ids = sorted({h.card.id for h in hits})

    def check(out: GroundingOutput) -> None:
        if len({p.dataset_id for p in out.picks}) != len(out.picks):
            raise ValueError("each dataset id at most once")

    messages = [{"role": "system", "content": render("grounding_system.j2")},
                {"role": "user", "content": render("grounding_user.j2", query=query,
                                                   subtask=subtask, candidates=hits)}]
    out = client.generate(messages, grounding_schema(ids), role="grounding", check=check,
                          seed=seed)
    return {p.dataset_id: (p.score, p.reason) for p in out.picks}


def ground_subtask(subtask: Subtask, query: Query, pool: Pool, client: ModelClient | None,
                   report: GroundingReport, seed: int = 0) -> list[Grounding]:
    hits = candidates(subtask, query, pool)
    viable: list[ScoredCard] = []
    for hit in hits:
        problems = check_plan(subtask, hit.card, plan_for(subtask, hit.card))
        if problems:
            report.rejected.append({"subtask": subtask.name, "dataset": hit.card.name,
                                    "reason": "; ".join(problems)})
        else:
            viable.append(hit)
    scores = _rules_scores(subtask, viable)
    if client is not None and viable:
        try:
            scores = _llm_scores(client, subtask, query, viable, seed)
        except StructuredOutputError as exc:
            client.trace.decision(role="grounding", outcome="fallback", error=str(exc))
    kept = [Grounding(subtask=subtask.name, dataset_id=h.card.id, score=scores[h.card.id][0],
                      reason=scores[h.card.id][1], plan=plan_for(subtask, h.card))
            for h in viable if h.card.id in scores and scores[h.card.id][0] >= THRESHOLD]
    for h in viable:
        if h.card.id not in scores or scores[h.card.id][0] < THRESHOLD:
            report.rejected.append({"subtask": subtask.name, "dataset": h.card.name,
                                    "reason": f"scored below the threshold {THRESHOLD}"})
    kept.sort(key=lambda g: -g.score)
    return kept[:MAX_PER_SUBTASK]


def ground(subtasks: list[Subtask], query: Query, pool: Pool, client: ModelClient | None,
           seed: int = 0) -> GroundingReport:
    report = GroundingReport()
    for subtask in subtasks:
        report.groundings.extend(ground_subtask(subtask, query, pool, client, report, seed))
    grounded = {g.subtask for g in report.groundings}
    if not grounded:
        reasons = "; ".join(f"{r['subtask']} × {r['dataset']}: {r['reason']}"
                            for r in report.rejected[:4])
        raise PlanningError("no subtask could be grounded in the pool"
                            + (f" ({reasons})" if reasons else ""))
    return report
