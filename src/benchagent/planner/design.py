"""Design agent: the query becomes atomic subtasks through propose / revise / discard steps,
a coverage-and-consistency check, and revisions when grounding or allocation push back."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field, create_model

from benchagent.errors import BenchagentError
from benchagent.models import ModelClient
from benchagent.operators import REGISTRY
from benchagent.pool import Pool, ScoredCard
from benchagent.prompts import render
from benchagent.records import (
    AnswerType,
    DatasetCard,
    DesignStep,
    FieldRole,
    Modality,
    Query,
    Subtask,
)

DESIGN_ROUNDS = 2  # coverage-check rounds after the first proposal
_CUES = {Modality.image: re.compile(r"\b(image|images|picture|photo|diagram|chart|visual|"
                                    r"scan|scans|x-ray|rendered)\b", re.IGNORECASE),
         Modality.audio: re.compile(r"\b(audio|spoken|speech|hears?|heard|read aloud|voice|"
                                    r"listen\w*|sound|clip)\b", re.IGNORECASE),
         Modality.video: re.compile(r"\b(video|videos|footage|movie clips?)\b", re.IGNORECASE)}
# Words saying the media are to be made from text ("rendered as an image", "read aloud").
_PRODUCED = re.compile(r"\b(render\w*|read aloud|spoken|speak\w*|hears?|synthesi[sz]\w*|"
                       r"text (shown|in) (an )?images?)\b", re.IGNORECASE)
_ROLE_OF = {Modality.image: FieldRole.image, Modality.audio: FieldRole.audio}


class PlanningError(BenchagentError):
    """The planner cannot produce a feasible plan; the message is the diagnosis."""


class DesignOutput(BaseModel):
    subtasks: list[Subtask] = Field(min_length=1, max_length=12)


class DesignAction(BaseModel):
    op: Literal["keep", "revise", "discard", "add"]
    name: str = Field(max_length=80)  # the subtask acted on (for add: the new one's name)
    reason: str = Field(default="", max_length=300)
    subtask: Subtask | None = None  # the revised or added subtask


class DesignReview(BaseModel):
    covered: bool  # the subtasks together cover the goal
    missing: list[str] = Field(default_factory=list, max_length=4)
    actions: list[DesignAction] = Field(default_factory=list, max_length=8)


@dataclass
class DesignLog:
    """Every step of the design loop, in order, for plan/design_log.json and plan.md."""

    steps: list[DesignStep] = field(default_factory=list)

    def add(self, op: str, name: str, reason: str, by: str, round_: int = 0) -> None:
        self.steps.append(DesignStep(round=str(round_), op=op, subtask=name, reason=reason,
                                     by=by))


def design_schema(max_subtasks: int) -> type[DesignOutput]:
    """DesignOutput whose list length is bounded in the schema, so decoding stops in time."""
    return create_model("DesignOutput", __base__=DesignOutput,
                        subtasks=(list[Subtask], Field(min_length=1, max_length=max_subtasks)))


def query_modalities(query: Query) -> list[Modality]:
    """The input modalities the request asks for, read from its words."""
    return [Modality.text] + [m for m, cue in _CUES.items() if cue.search(query.description)]


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


def servable(modality: Modality, pool: Pool) -> bool:
    """Some dataset has this input, or some registered operator can produce it."""
    if modality == Modality.text:
        return True
    role = _ROLE_OF.get(modality)
    return (any(modality in c.modalities_in for c in pool.cards)
            or any(role in op.produces for op in REGISTRY.values() if role is not None))


def check_servable(query: Query, pool: Pool) -> None:
    """A request for an input modality that nothing can provide ends here, with the reason."""
    missing = [m.value for m in query_modalities(query) if not servable(m, pool)]
    if missing:
        raise PlanningError(f"the request needs {' and '.join(missing)} input, which no dataset "
                            f"in the pool has and no operator produces: add a pool with such "
                            f"data (--pool)")


def media_from_text(query: Query) -> bool:
    """The request wants its images or audio made from text (rendered, spoken)."""
    return len(query_modalities(query)) > 1 and bool(_PRODUCED.search(query.description))


def _rules_hits(query: Query, pool: Pool, k: int) -> list[ScoredCard]:
    if not media_from_text(query):
        return pool.search(query.description, k=k)
    text = query.description
    for cue in [_PRODUCED, *_CUES.values()]:
        text = cue.sub(" ", text)
    hits = pool.search(text, k=k * 4)
    return [h for h in hits if list(h.card.modalities_in) == [Modality.text]][:k]


def design_rules(query: Query, pool: Pool, max_subtasks: int) -> list[Subtask]:
    """Subtasks from the capabilities that the query and the pool's cards share, with the
    input modalities the query asks for (from text datasets when it wants media made)."""
    wanted = query_modalities(query)
    hits = _rules_hits(query, pool, max(10, max_subtasks * 3))
    if not hits or hits[0].score <= 0:
        raise PlanningError("no dataset in the pool matches the request: add a pool with "
                            "--pool or rephrase the request")
    floor = hits[0].score * 0.35
    subtasks: list[Subtask] = []
    for hit in hits:
        name = _title(hit.card)
        if hit.score < floor or any(s.name == name for s in subtasks):
            continue
        modalities = sorted(set(hit.card.modalities_in) | set(wanted), key=list(Modality).index)
        subtasks.append(Subtask(
            name=name,
            description=hit.card.description or f"Items drawn from {hit.card.name}.",
            capability=", ".join(hit.card.tasks[:3]) or name.lower(),
            modalities=modalities, answer_type=target_answer_type(hit.card),
        ))
        if len(subtasks) == max_subtasks:
            break
    return subtasks


def design_ablated(query: Query) -> list[Subtask]:
    """The paper's "w/o Design Agent": the request itself is the one subtask."""
    return [Subtask(name=query.id[:80] or "request", description=query.description,
                    capability=query.description[:200], modalities=query_modalities(query),
                    answer_type=AnswerType.multiple_choice)]


def check_design(output: DesignOutput, max_subtasks: int) -> None:
    names = [s.name.strip().lower() for s in output.subtasks]
    if len(set(names)) != len(names):
        raise ValueError("subtask names must be unique")
    if len(names) > max_subtasks:
        raise ValueError(f"at most {max_subtasks} subtasks")


def _capabilities(pool: Pool) -> list[str]:
    return sorted({f"{c.name} ({', '.join(c.tasks[:3])}; {c.answer_type.value}; "
                   f"{'+'.join(m.value for m in c.modalities_in)})" for c in pool.cards})[:40]


def design_llm(client: ModelClient, query: Query, pool: Pool, max_subtasks: int,
               seed: int) -> list[Subtask]:
    messages = [
        {"role": "system", "content": render("design_system.j2")},
        {"role": "user", "content": render("design_user.j2", query=query,
                                           max_subtasks=max_subtasks,
                                           capabilities=_capabilities(pool))},
    ]
    out = client.generate(messages, design_schema(max_subtasks), role="design", seed=seed,
                          check=lambda o: check_design(o, max_subtasks),
                          max_tokens=300 * max_subtasks)
    return out.subtasks
