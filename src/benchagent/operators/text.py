"""Text operators that run without a model (to_multiple_choice can ask one for distractors),
and compose_items, which joins a sample with unused samples of its dataset."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from benchagent.operators.args import NoArgs, OperatorArgs, Whole
from benchagent.operators.modelcall import (
    MAX_OPTIONS,
    OPTION_BUDGET,
    TEXT_BUDGET,
    Option,
    ask_model,
    clip,
    shown_options,
    sized,
)
from benchagent.operators.registry import (
    OpContext,
    Operator,
    OperatorError,
    SampleState,
    Traits,
    register,
)
from benchagent.operators.wording import mentions, normalize
from benchagent.records import AnswerType, FieldRole, SourceSample

__all__ = ["normalize"]  # the verifier and the near-duplicate check import it from here

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


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


def _dataset_distractors(state: SampleState, ctx: OpContext, count: int) -> list[str]:
    taken = {normalize(a) for a in [state.answer, *state.answer_aliases]}
    pool = sorted({a for a in ctx.answer_space if a.strip() and normalize(a) not in taken})
    if _NUMBER.match(state.answer.strip()):
        return _numeric_distractors(state.answer.strip(), ctx, count)
    if len(pool) >= count:
        return ctx.rng.sample(pool, count)
    return pool


class Distractors(BaseModel):
    distractors: list[Option] = Field(min_length=1, max_length=12)


def check_distractors(distractors: list[str], answers: list[str], count: int) -> None:
    """ValueError unless there are `count` distinct options, none of them the answer."""
    keys = {normalize(a) for a in answers if normalize(a)}
    seen: set[str] = set()
    for option in distractors:
        key = normalize(option)
        if not key:
            raise ValueError(f"option {option!r} is empty once punctuation is removed")
        variant = any((len(k) >= 3 and mentions(option, k)) or (len(key) >= 3 and mentions(k, key))
                      for k in keys)
        if key in keys or variant:
            raise ValueError(f"{option!r} is the correct answer or a variant of it; "
                             f"every option must be wrong")
        if key in seen:
            raise ValueError(f"{option!r} is given twice; the wrong options must all differ")
        seen.add(key)
    if len(distractors) < count:
        raise ValueError(f"give {count} different wrong options, not {len(distractors)}")


def model_distractors(state: SampleState, ctx: OpContext, count: int,
                      op: str = "to_multiple_choice") -> list[str]:
    """`count` plausible wrong options written by the executor model."""
    answers = [state.answer, *state.answer_aliases]
    taken = {normalize(a) for a in answers}
    pool = sorted({a for a in ctx.answer_space if a.strip() and normalize(a) not in taken})
    examples = ctx.rng.sample(pool, min(8, len(pool)))

    def check(out: Distractors) -> None:
        check_distractors(out.distractors, answers, count)

    out = ask_model(ctx, op, "op_distractors.j2", sized(Distractors, distractors=count), check,
                    max_tokens=400,
                    count=count, question=clip(state.question, TEXT_BUDGET),
                    context=clip(state.context), answer=clip(state.answer, OPTION_BUDGET),
                    examples=shown_options(examples))
    return [d.strip() for d in out.distractors[:count]]


class ChoiceArgs(OperatorArgs):
    n_options: Whole = Field(4, ge=2, le=MAX_OPTIONS, description="options in all, the answer "
                                                                  "among them")
    distractors: Literal["dataset", "model"] = Field(
        "dataset", description="where wrong options come from: the dataset's answers (no model), "
                               "or the executor model, which the run must have")


def to_multiple_choice(state: SampleState, ctx: OpContext, args: ChoiceArgs) -> SampleState:
    if args.distractors == "model":
        ctx.require_model("to_multiple_choice")
    if state.options:
        return state.model_copy(update={"answer_type": AnswerType.multiple_choice})
    n_options = args.n_options
    if args.distractors == "model":
        distractors = model_distractors(state, ctx, n_options - 1)
    else:
        distractors = _dataset_distractors(state, ctx, n_options - 1)
    if not distractors:
        raise OperatorError("no distractors: the dataset's answer space has one answer only")
    return state.model_copy(update={"options": [state.answer, *distractors],
                                    "answer_type": AnswerType.multiple_choice})


def shuffle_options(state: SampleState, ctx: OpContext, args: NoArgs) -> SampleState:
    options = list(state.options)
    ctx.rng.shuffle(options)
    return state.model_copy(update={"options": options})


def _siblings(ctx: OpContext, n: int) -> list[SourceSample]:
    if ctx.siblings is None:
        raise OperatorError("compose_items: this run gives no sibling samples to compose with")
    found = ctx.siblings(n)
    if len(found) < n:
        raise OperatorError(f"compose_items: needs {n} sibling samples, the dataset has "
                            f"{len(found)} left")
    return found[:n]


def _sibling_context(sample: SourceSample) -> str:
    return sample.context or "\n".join(sample.dialog)


def _accounts(state: SampleState, siblings: list[SourceSample], ctx: OpContext) -> SampleState:
    if not state.context.strip():
        raise OperatorError("compose_items: mode 'accounts' needs a sample with a context")
    contexts = [_sibling_context(s) for s in siblings]
    bare = [s.source_id for s, c in zip(siblings, contexts, strict=True) if not c.strip()]
    if bare:
        raise OperatorError(f"compose_items: sibling {bare[0]} has no context to join")
    contexts.insert(ctx.rng.randrange(len(contexts) + 1), state.context)
    joined = "\n\n".join(f"Account {i}: {c.strip()}" for i, c in enumerate(contexts, 1))
    return state.model_copy(update={"context": joined})


def _numbered(i: int, question: str, options: list[str]) -> str:
    line = f"{i}. {question.strip()}"
    return f"{line}\n   Options: {' | '.join(options)}" if options else line


def _multi_question(state: SampleState, siblings: list[SourceSample]) -> SampleState:
    items = [(state.question, state.context, state.options, state.answer)]
    items += [(s.question, _sibling_context(s), s.options, s.answer) for s in siblings]
    for question, _, _, answer in items:
        if not question.strip() or not answer.strip():
            raise OperatorError("compose_items: a sibling sample lacks a question or an answer")
        if ";" in answer:
            raise OperatorError(f"compose_items: the answer {answer!r} holds ';', the separator")
    head = f'Answer each of the {len(items)} questions below, in order, separated by "; ".'
    questions = [_numbered(i, q, o) for i, (q, _, o, _) in enumerate(items, 1)]
    passages = [f"Passage for question {i}: {c.strip()}"
                for i, (_, c, _, _) in enumerate(items, 1) if c.strip()]
    free = state.answer_type == AnswerType.free_form
    kind = AnswerType.free_form if free else AnswerType.short_text
    return state.model_copy(update={
        "question": "\n".join([head, *questions]), "context": "\n\n".join(passages),
        "options": [], "answer": "; ".join(a.strip() for *_, a in items), "answer_aliases": [],
        "answer_type": kind})


class ComposeArgs(OperatorArgs):
    n: Whole = Field(2, ge=1, le=8, description="sibling samples joined to this one")
    mode: Literal["accounts", "multi_question"] = Field(
        "accounts", description="join the contexts around the question, or ask every question")


def compose_items(state: SampleState, ctx: OpContext, args: ComposeArgs) -> SampleState:
    siblings = _siblings(ctx, args.n)
    if args.mode == "accounts":
        return _accounts(state, siblings, ctx)
    return _multi_question(state, siblings)


register(Operator(
    name="to_multiple_choice",
    description="Turn a sample with a short answer into a multiple-choice item, with distractors "
                "drawn from the dataset's own answer space (numbers get plausible wrong numbers), "
                "or written by the executor model with distractors='model'.",
    requires=frozenset({FieldRole.answer}), produces=frozenset({FieldRole.options}),
    fn=to_multiple_choice, args=ChoiceArgs,
))
register(Operator(
    name="shuffle_options",
    description="Shuffle the options with the run's seed (the correct option is often first).",
    requires=frozenset({FieldRole.options, FieldRole.answer}), produces=frozenset(),
    fn=shuffle_options, args=NoArgs,
))
register(Operator(
    name="compose_items",
    description="Combine the sample with n unused samples of the same dataset: 'accounts' joins "
                "their contexts as 'Account 1: ...' around the kept question; 'multi_question' "
                "asks all questions at once, the answer being their answers joined by '; '.",
    requires=frozenset({FieldRole.question, FieldRole.answer}),
    produces=frozenset({FieldRole.question, FieldRole.answer}), fn=compose_items,
    args=ComposeArgs, traits=Traits(lossy=0.05, adaptable=True),
))
