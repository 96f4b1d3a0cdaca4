"""The instruction shown before every item of a subtask (rules template, or the executor model)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel, Field

from benchagent.models import ModelClient, ask_or_fallback
from benchagent.prompts import render
from benchagent.records import AnswerType, Subtask

_TEMPLATES = {
    AnswerType.multiple_choice: "Answer the question by choosing exactly one of the options. "
                                "Reply with the text of the option only.",
    AnswerType.yes_no: "Answer the question with yes or no only.",
    AnswerType.number: "Answer the question with a number only.",
    AnswerType.short_text: "Answer the question with a short phrase only.",
    AnswerType.free_form: "Answer in a few sentences.",
}


class InstructionOutput(BaseModel):
    instruction: str = Field(min_length=10, max_length=600)


def rules_instruction(subtask: Subtask) -> str:
    return _TEMPLATES[subtask.answer_type]


def _llm_instruction(client: ModelClient, subtask: Subtask, seed: int) -> str:
    prompt = render("instruction_user.j2", subtask=subtask)
    return ask_or_fallback(client, "executor", lambda c: c.generate(
        [{"role": "user", "content": prompt}], InstructionOutput, role="executor", seed=seed,
        max_tokens=200).instruction.strip() + " " + rules_instruction(subtask),
        lambda _: rules_instruction(subtask))


def instructions_for(subtasks: list[Subtask], client: ModelClient | None, seed: int,
                     known: dict[str, str]) -> dict[str, str]:
    """One instruction per subtask: those `known` (kept in the run, so that a resumed run reuses
    them), and new ones for the rest."""
    known = dict(known)
    missing = [s for s in subtasks if s.name not in known]
    if client is None:
        known.update({s.name: rules_instruction(s) for s in missing})
    elif missing:  # concurrently: the client's own limit still applies
        with ThreadPoolExecutor(max_workers=len(missing)) as pool:
            written = pool.map(lambda s: _llm_instruction(client, s, seed), missing)
            known.update(zip((s.name for s in missing), written, strict=True))
    return known
