"""Design agent: the query becomes atomic subtasks."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, create_model

from benchagent.models import ModelClient, StructuredOutputError
from benchagent.pool import Pool
from benchagent.prompts import render
from benchagent.records import AnswerType, DatasetCard, Query, Subtask


class PlanningError(Exception):
    """The planner cannot produce a feasible plan; the message is the diagnosis."""


class DesignOutput(BaseModel):
    subtasks: list[Subtask] = Field(min_length=1, max_length=12)


def design_schema(max_subtasks: int) -> type[DesignOutput]:
    """DesignOutput whose list length is bounded in the schema, so decoding stops in time."""
    return create_model("DesignOutput", __base__=DesignOutput,
                        subtasks=(list[Subtask], Field(min_length=1, max_length=max_subtasks)))


def target_answer_type(card: DatasetCard) -> AnswerType:
    """What a benchmark item drawn from this dataset asks for."""
    if card.answer_type in (AnswerType.multiple_choice, AnswerType.yes_no):
        return card.answer_type
    if card.answer_type in (AnswerType.number, AnswerType.short_text):
        return AnswerType.multiple_choice  # distractors come from the answer space
    return AnswerType.free_form


def _title(card: DatasetCard) -> str:
    words = re.split(r"[\s_/-]+", card.name.strip())
    return " ".join(w if w.isupper() else w.capitalize() for w in words if w)[:80]


def design_rules(query: Query, pool: Pool, max_subtasks: int) -> list[Subtask]:
    """Subtasks from the capabilities that the query and the pool's cards share."""
    hits = pool.search(query.description, k=max(10, max_subtasks * 3))
    if not hits or hits[0].score <= 0:
        raise PlanningError("no dataset in the pool matches the request: add a pool with "
                            "--pool or rephrase the request")
    floor = hits[0].score * 0.35
    subtasks: list[Subtask] = []
    for hit in hits:
        name = _title(hit.card)
        if hit.score < floor or any(s.name == name for s in subtasks):
            continue
        subtasks.append(Subtask(
            name=name,
            description=hit.card.description or f"Items drawn from {hit.card.name}.",
            capability=", ".join(hit.card.tasks[:3]) or name.lower(),
            modalities=list(hit.card.modalities_in),
            answer_type=target_answer_type(hit.card),
        ))
        if len(subtasks) == max_subtasks:
            break
    return subtasks


def check_design(output: DesignOutput, max_subtasks: int) -> None:
    names = [s.name.strip().lower() for s in output.subtasks]
    if len(set(names)) != len(names):
        raise ValueError("subtask names must be unique")
    if len(names) > max_subtasks:
        raise ValueError(f"at most {max_subtasks} subtasks")


def design_llm(client: ModelClient, query: Query, pool: Pool, max_subtasks: int,
               seed: int) -> list[Subtask]:
    capabilities = sorted({f"{c.name} ({', '.join(c.tasks[:3])}; {c.answer_type.value}; "
                           f"{'+'.join(m.value for m in c.modalities_in)})" for c in pool.cards})
    messages = [
        {"role": "system", "content": render("design_system.j2")},
        {"role": "user", "content": render("design_user.j2", query=query,
                                           max_subtasks=max_subtasks,
                                           capabilities=capabilities[:40])},
    ]
    out = client.generate(messages, design_schema(max_subtasks), role="design", seed=seed,
                          check=lambda o: check_design(o, max_subtasks),
                          max_tokens=300 * max_subtasks)
    return out.subtasks


def design(query: Query, pool: Pool, client: ModelClient | None, max_subtasks: int,
           seed: int = 0) -> list[Subtask]:
    if client is None:
        return design_rules(query, pool, max_subtasks)
    try:
        return design_llm(client, query, pool, max_subtasks, seed)
    except StructuredOutputError as exc:
        client.trace.decision(role="design", outcome="fallback", error=str(exc))
        return design_rules(query, pool, max_subtasks)
