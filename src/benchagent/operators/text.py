"""Text operators that run without a model."""

from __future__ import annotations

import re
from typing import Any

from benchagent.operators.registry import OpContext, Operator, OperatorError, SampleState, register
from benchagent.records import AnswerType, FieldRole

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _format_like(value: float, answer: str) -> str:
    decimals = len(answer.partition(".")[2])
    return f"{value:.{decimals}f}"


def _numeric_distractors(answer: str, ctx: OpContext, count: int) -> list[str]:
    """Plausible wrong numbers: off by a power of ten (the classic slip) or nearby values."""
    value = float(answer)
    spread = abs(value) * 0.3 or 3.0
    if "." not in answer:
        spread = max(spread, 3.0)
    candidates = [value * 10, value / 10, value * 1000, value / 1000]
    candidates += [value + ctx.rng.uniform(-spread, spread) for _ in range(count * 4)]
    texts: list[str] = []
    for candidate in candidates:
        if (candidate < 0) != (value < 0):
            continue
        decimals = len(answer.partition(".")[2])
        rounded = round(candidate, decimals)
        if rounded == 0 and value != 0:
            continue
        text = _format_like(float(rounded), answer)
        if normalize(text) != normalize(answer) and text not in texts:
            texts.append(text)
    return ctx.rng.sample(texts, min(count, len(texts)))


def to_multiple_choice(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    if state.options:
        return state.model_copy(update={"answer_type": AnswerType.multiple_choice})
    n_options = int(args.get("n_options", 4))
    taken = {normalize(a) for a in [state.answer, *state.answer_aliases]}
    pool = sorted({a for a in ctx.answer_space if a.strip() and normalize(a) not in taken})
    if _NUMBER.match(state.answer.strip()):
        distractors = _numeric_distractors(state.answer.strip(), ctx, n_options - 1)
    elif len(pool) >= n_options - 1:
        distractors = ctx.rng.sample(pool, n_options - 1)
    else:
        distractors = pool
    if not distractors:
        raise OperatorError("no distractors: the dataset's answer space has one answer only")
    return state.model_copy(update={"options": [state.answer, *distractors],
                                    "answer_type": AnswerType.multiple_choice})


def shuffle_options(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    options = list(state.options)
    ctx.rng.shuffle(options)
    return state.model_copy(update={"options": options})


register(Operator(
    name="to_multiple_choice",
    description="Turn a sample with a short answer into a multiple-choice item, with distractors "
                "drawn from the dataset's own answer space (numbers get plausible wrong numbers).",
    requires=frozenset({FieldRole.answer}), produces=frozenset({FieldRole.options}),
    fn=to_multiple_choice, params={"n_options": "int (default 4)"},
))
register(Operator(
    name="shuffle_options",
    description="Shuffle the options with the run's seed (the correct option is often first).",
    requires=frozenset({FieldRole.options, FieldRole.answer}), produces=frozenset(),
    fn=shuffle_options,
))
