"""Dataset-level transformation plans: the rules plan for a (subtask, dataset) pair, and the
type check that decides whether any plan, the model's or the rules', is transformable."""

from __future__ import annotations

import re

from benchagent.operators import REGISTRY, arg_problems, type_check
from benchagent.records import AnswerType, DatasetCard, FieldRole, Modality, PlanStep, Subtask

_TEXT_ROLES = {FieldRole.question, FieldRole.context, FieldRole.dialog}
_NOISE = re.compile(r"\b(nois[ey]|background (noise|chatter|sound)|babble|degraded|"
                    r"blurr?(ed|y)|distort\w*|low.quality)", re.IGNORECASE)
_MADE = {Modality.text, Modality.image, Modality.audio}  # the type check follows these by role
_CONVERTIBLE = {AnswerType.short_text, AnswerType.number, AnswerType.yes_no,
                AnswerType.multiple_choice}


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
    return subtask.answer_type == AnswerType.multiple_choice and card.answer_type in _CONVERTIBLE


def wants_degradation(subtask: Subtask, request: str) -> bool:
    """The request or the subtask's name asks for noisy audio or degraded images ("sometimes
    over background noise"); dataset descriptions, which subtasks often borrow, do not count."""
    return bool(_NOISE.search(f"{request} {subtask.name}"))


def _media_steps(subtask: Subtask, card: DatasetCard, noisy: bool) -> list[PlanStep]:
    steps: list[PlanStep] = []
    needs_image = Modality.image in subtask.modalities and FieldRole.image not in card.fields
    needs_audio = Modality.audio in subtask.modalities and FieldRole.audio not in card.fields
    if needs_image:
        # With audio too, the image carries the evidence and the clip the question, so that
        # answering needs both; otherwise the whole item is shown.
        has_context = FieldRole.context in card.fields or FieldRole.dialog in card.fields
        fields = ["context"] if needs_audio and has_context else ["question", "context"]
        if needs_audio and not has_context:
            fields = ["options"]
        steps.append(PlanStep(operator="render_text_image", args={"fields": fields,
                                                                  "style": "auto"}))
        if noisy:
            steps.append(PlanStep(operator="degrade_image", args={"kind": "auto",
                                                                  "severity": 0.3}))
    if needs_audio:
        steps.append(PlanStep(operator="tts", args={"field": "question", "voice": "auto"}))
        if noisy:
            steps.append(PlanStep(operator="mix_noise", args={"noise": "auto", "snr_db": 15}))
    return steps


def plan_for(subtask: Subtask, card: DatasetCard, request: str = "") -> list[PlanStep]:
    """The operator chain from this dataset's fields to the subtask's items (rules policy);
    `request` is the user's request, read for degradation wishes."""
    steps: list[PlanStep] = []
    if subtask.answer_type == AnswerType.multiple_choice:
        if FieldRole.options not in card.fields:
            steps.append(PlanStep(operator="to_multiple_choice", args={"n_options": 4}))
        steps.append(PlanStep(operator="shuffle_options"))
    if card.modalities_in != [Modality.text]:
        steps.append(PlanStep(operator="attach_media"))
    steps += _media_steps(subtask, card, wants_degradation(subtask, request))
    return [s for s in steps if s.operator in REGISTRY]


def check_plan(subtask: Subtask, card: DatasetCard, plan: list[PlanStep],
               with_models: bool = True) -> list[str]:
    """Why this (subtask, dataset, plan) is not transformable; empty when it is."""
    problems = type_check(plan, set(card.fields), needed_roles(subtask))
    if not _TEXT_ROLES & set(card.fields):
        problems.append("the dataset has no question, context or dialog field")
    unmade = [m.value for m in subtask.modalities if m not in _MADE
              and m not in card.modalities_in]
    if unmade:
        problems.append(f"lacks input modality {', '.join(unmade)}, and no operator makes it")
    if not answer_types_fit(subtask, card):
        problems.append(f"answer type {card.answer_type.value} cannot serve "
                        f"{subtask.answer_type.value}")
    if not with_models:
        calls = sorted({s.operator for s in plan
                        if s.operator in REGISTRY and REGISTRY[s.operator].calls_model})
        if calls:
            problems.append(f"{', '.join(calls)} need an executor model, and none is set")
    for i, step in enumerate(plan):
        op = REGISTRY.get(step.operator)
        if op is not None:
            problems += [f"step {i + 1} ({step.operator}): {reason}"
                         for _, reason in arg_problems(op.args, step.args)]
    return problems
