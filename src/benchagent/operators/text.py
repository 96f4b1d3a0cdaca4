"""Text operators that run without a model (to_multiple_choice can ask one for distractors),
and compose_items, which joins a sample with unused samples of its dataset."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from benchagent.operators.registry import OpContext, Operator, OperatorError, SampleState, register
from benchagent.records import AnswerType, FieldRole, SourceSample

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_DISTRACTOR_SOURCES = ("dataset", "model")


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def choice_arg(op: str, name: str, args: dict[str, Any], allowed: Collection[str],
               default: str) -> str:
    value = str(args.get(name, default))
    if value not in allowed:
        raise OperatorError(f"{op}: {name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def int_arg(op: str, name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise OperatorError(f"{op}: {name} must be an integer, not {value!r}") from None
    if not low <= number <= high:
        raise OperatorError(f"{op}: {name} must be between {low} and {high}, not {number}")
    return number


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


def to_multiple_choice(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    source = str(args.get("distractors", "dataset"))
    if source not in _DISTRACTOR_SOURCES:
        raise OperatorError(f"to_multiple_choice: distractors must be dataset or model, "
                            f"not {source!r}")
    if source == "model":
        ctx.require_model("to_multiple_choice")
    if state.options:
        return state.model_copy(update={"answer_type": AnswerType.multiple_choice})
    n_options = int(args.get("n_options", 4))
    if source == "model":
        from benchagent.operators.textgen import model_distractors  # textgen imports this module

        distractors = model_distractors(state, ctx, n_options - 1)
    else:
        distractors = _dataset_distractors(state, ctx, n_options - 1)
    if not distractors:
        raise OperatorError("no distractors: the dataset's answer space has one answer only")
    return state.model_copy(update={"options": [state.answer, *distractors],
                                    "answer_type": AnswerType.multiple_choice})


def shuffle_options(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
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


def compose_items(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    mode = choice_arg("compose_items", "mode", args, ("accounts", "multi_question"), "accounts")
    n = int_arg("compose_items", "n", args.get("n", 2), 1, 8)
    siblings = _siblings(ctx, n)
    if mode == "accounts":
        return _accounts(state, siblings, ctx)
    return _multi_question(state, siblings)


register(Operator(
    name="to_multiple_choice",
    description="Turn a sample with a short answer into a multiple-choice item, with distractors "
                "drawn from the dataset's own answer space (numbers get plausible wrong numbers), "
                "or written by the executor model with distractors='model'.",
    requires=frozenset({FieldRole.answer}), produces=frozenset({FieldRole.options}),
    fn=to_multiple_choice,
    params={"n_options": "int (default 4)",
            "distractors": "dataset (default, no model) | model (calls the executor model, "
                           "which the run must have)"},
))
register(Operator(
    name="shuffle_options",
    description="Shuffle the options with the run's seed (the correct option is often first).",
    requires=frozenset({FieldRole.options, FieldRole.answer}), produces=frozenset(),
    fn=shuffle_options,
))
register(Operator(
    name="compose_items",
    description="Combine the sample with n unused samples of the same dataset: 'accounts' joins "
                "their contexts as 'Account 1: ...' around the kept question; 'multi_question' "
                "asks all questions at once, the answer being their answers joined by '; '.",
    requires=frozenset({FieldRole.question, FieldRole.answer}),
    produces=frozenset({FieldRole.question, FieldRole.answer}), fn=compose_items,
    params={"n": "int 1-8, sibling samples joined to this one (default 2)",
            "mode": "accounts | multi_question (default accounts)"},
))
