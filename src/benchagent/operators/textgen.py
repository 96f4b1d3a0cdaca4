"""Text operators that call the executor model: rewrite, context, dialogue, harder variants,
translation (model-written distractors are in text.py, with to_multiple_choice).

Every model call goes through `ask_model` (modelcall.py), so output that breaks the item is
repaired or rejects the sample with a one-line reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WrapValidator, create_model, model_validator
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from benchagent.operators.args import OperatorArgs, Whole, accepts_whole_floats
from benchagent.operators.modelcall import (
    MAX_OPTIONS,
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
    SampleState,
    Traits,
    register,
)
from benchagent.operators.wording import (
    NUMERIC,
    YES_NO,
    given_away,
    mentions,
    normalize,
    telling,
)
from benchagent.records import FieldRole

_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_TELLS = re.compile(r"\b(?:the answer (?:is|to)|correct answer)\b", re.IGNORECASE)


def _as_number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", ""))
    except ValueError:
        return None


def _same_answer(stated: str, answers: list[str]) -> bool:
    """Whether `stated` gives one of `answers` (long free-form answers are not compared)."""
    if len(answers[0].split()) > 8:
        return True
    said = normalize(stated)
    for gold in answers:
        key = normalize(gold)
        if not key:
            continue
        if key in YES_NO:
            if said.split()[:1] == [key]:
                return True
        elif NUMERIC.match(gold.strip()):
            if _as_number(stated) == _as_number(gold) or mentions(stated, gold):
                return True
        elif key == said or (len(key) >= 2 and mentions(stated, gold)):
            return True
    return False


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _DIGITS.findall(text)}


_STYLES = {
    "paraphrase": "Say the same thing in different words and with a different sentence structure.",
    "harder": "Make it harder to read: more indirect, precise wording the reader has to parse "
              "carefully, with no new facts and no change to what is asked.",
    "simpler": "Make it easy to read: plain words and short sentences.",
    "formal": "Use a formal, academic register.",
}


class RewrittenQuestion(BaseModel):
    question: str = Field(min_length=3)


def check_question(new: str, old: str, answers: list[str]) -> None:
    """ValueError when a rewritten question is the old one or gives the answer away."""
    if normalize(new) == normalize(old):
        raise ValueError("the question is unchanged; rewrite it")
    if len(new) > 2 * len(old) + 300:
        raise ValueError("the rewritten question is far longer than the original")
    leaked = given_away(new, answers, before=old)
    if leaked is not None:
        raise ValueError(f"the question gives away the answer {leaked!r}; do not mention it")


class RewriteArgs(OperatorArgs):
    style: Literal["paraphrase", "harder", "simpler", "formal"] = Field(
        "paraphrase", description="how to reword the question")


def rewrite_question(state: SampleState, ctx: OpContext, args: RewriteArgs) -> SampleState:
    style = args.style
    answers = [state.answer, *state.answer_aliases]

    def check(out: RewrittenQuestion) -> None:
        check_question(out.question, state.question, answers)

    out = ask_model(ctx, "rewrite_question", "op_rewrite_question.j2", RewrittenQuestion, check,
                    style=style, how=_STYLES[style], question=clip(state.question, TEXT_BUDGET),
                    context=clip(state.context), options=shown_options(state.options),
                    answer=clip(state.answer, TEXT_BUDGET), instruction=clip(state.instruction))
    return state.model_copy(update={"question": out.question.strip()})


_CONTEXT_KINDS = {
    "story": "a short story in which the facts needed come up naturally",
    "document": "an encyclopedia-style or report-style passage",
    "table-description": "a description in sentences of a small table (its columns and the "
                         "values of each row) from which the answer can be read off or computed",
}


class BuiltContext(BaseModel):
    context: str = Field(min_length=20)
    evidence: str = Field(min_length=1)
    answer_from_context: str = Field(min_length=1, max_length=300)


def check_context(out: BuiltContext, state: SampleState, length_words: int) -> None:
    """ValueError for a passage of the wrong length, that tells the answer, or disagrees with it."""
    words = len(out.context.split())
    if not max(15, length_words // 2) <= words <= length_words * 2 + 40:
        raise ValueError(f"the passage has {words} words; write about {length_words}")
    if _TELLS.search(out.context):
        raise ValueError("the passage must not announce the answer ('the answer is ...'); "
                         "state facts only")
    question = normalize(state.question)
    if len(question.split()) >= 5 and question in normalize(out.context):
        raise ValueError("the passage must not repeat the question")
    if normalize(out.evidence) not in normalize(out.context):
        raise ValueError("evidence must be copied word for word from the passage")
    if not _same_answer(out.answer_from_context, [state.answer, *state.answer_aliases]):
        raise ValueError(f"the passage implies the answer {out.answer_from_context!r}, but it "
                         f"must support the gold answer {state.answer!r}")


class ContextArgs(OperatorArgs):
    kind: Literal["story", "document", "table-description"] = Field(
        "document", description="the kind of passage to write")
    length_words: Whole = Field(120, ge=30, le=800, description="about how many words")


def build_context(state: SampleState, ctx: OpContext, args: ContextArgs) -> SampleState:
    kind, length_words = args.kind, args.length_words

    def check(out: BuiltContext) -> None:
        check_context(out, state, length_words)

    out = ask_model(ctx, "build_context", "op_build_context.j2", BuiltContext, check,
                    max_tokens=max(400, length_words * 3), kind=kind,
                    kind_text=_CONTEXT_KINDS[kind], length_words=length_words,
                    question=clip(state.question, TEXT_BUDGET), facts=clip(state.context),
                    options=shown_options(state.options), answer=clip(state.answer, TEXT_BUDGET))
    return state.model_copy(update={"context": out.context.strip()})


_NAMES = ("Alice", "Ben", "Carmen", "Dev", "Elena", "Farid", "Grace", "Hiro")


class Turn(BaseModel):
    speaker: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1, max_length=600)


class Dialogue(BaseModel):
    turns: list[Turn] = Field(min_length=2, max_length=40)


def _list_of(item: type[BaseModel]) -> Any:
    return list[item]  # type: ignore[valid-type]


def dialogue_schema(names: list[str], turns: int) -> type[Dialogue]:
    """Dialogue whose speakers are `names` and whose length is about `turns`, for the decoder."""
    turn = create_model("Turn", __base__=Turn, speaker=(str, Field(
        min_length=1, max_length=40, json_schema_extra={"enum": list(names)})))
    return create_model("Dialogue", __base__=Dialogue, turns=(_list_of(turn), Field(
        min_length=max(2, turns - 2), max_length=turns + 2)))


def _speakers(value: Any, handler: ValidatorFunctionWrapHandler) -> int | list[str]:
    """A count of 2 to 4, or 2 to 4 distinct names without ':'; one reason either way."""
    try:
        speakers: int | list[str] = handler(value)
    except ValueError:
        speakers = []
    if isinstance(speakers, int) and 2 <= speakers <= 4:
        return speakers
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"must be between 2 and 4, not {value}")
    names = [n.strip() for n in speakers] if isinstance(speakers, list) else []
    if (2 <= len(names) <= 4 and len({n.lower() for n in names}) == len(names) and all(names)
            and not any(":" in n for n in names)):
        return names
    raise ValueError("must be a count (2-4) or 2 to 4 distinct names without ':'")


Speakers = Annotated[Annotated[int, Field(ge=2, le=4), accepts_whole_floats]
                     | Annotated[list[str], Field(min_length=2, max_length=4)],
                     WrapValidator(_speakers)]


class DialogueArgs(OperatorArgs):
    speakers: Speakers = Field(2, description="how many speakers (names are drawn), or their "
                                              "names")
    turns: Whole = Field(6, ge=2, le=20, description="about how many turns, at least one per "
                                                     "speaker")

    @model_validator(mode="after")
    def _a_turn_per_speaker(self) -> DialogueArgs:
        count = self.speakers if isinstance(self.speakers, int) else len(self.speakers)
        if self.turns < count:
            raise ValueError(f"turns must be between {count} and 20 with {count} speakers, "
                             f"not {self.turns}")
        return self


def _speaker_names(speakers: int | list[str], ctx: OpContext, source: str) -> list[str]:
    if isinstance(speakers, list):
        return speakers
    free = [n for n in _NAMES if not mentions(source, n)]
    return ctx.rng.sample(free, speakers)


def check_facts(text: str, source: str, state: SampleState) -> None:
    """ValueError when `text` drops the numbers or the answer of `source`, or adds the answer."""
    needed = _numbers(source)
    missing = sorted(needed - _numbers(text)) if len(needed) <= 12 else []
    if missing:
        raise ValueError(f"the dialogue drops facts: the numbers {', '.join(missing[:5])} are "
                         f"missing (write numbers as digits)")
    answers = [state.answer, *state.answer_aliases]
    present = [a for a in answers if telling(a) and mentions(source, a)]
    if present and not any(mentions(text, a) for a in present):
        raise ValueError(f"the dialogue drops the fact {present[0]!r} that the question needs")
    leaked = given_away(text, answers, before=f"{source}\n{state.question}")
    if leaked is not None:
        raise ValueError(f"the dialogue gives away the answer {leaked!r}; do not state it")


def _dialogue_lines(out: Dialogue, names: list[str]) -> list[str]:
    canonical = {n.lower(): n for n in names}
    lines: list[str] = []
    for turn in out.turns:
        name = canonical[turn.speaker.strip().lower()]
        text = " ".join(turn.text.split())
        if text.lower().startswith(f"{name.lower()}:"):
            text = text[len(name) + 1:].strip()
        lines.append(f"{name}: {text}")
    return lines


def check_dialogue(out: Dialogue, names: list[str], source: str, state: SampleState) -> None:
    known = {n.lower() for n in names}
    for turn in out.turns:
        if turn.speaker.strip().lower() not in known:
            raise ValueError(f"unknown speaker {turn.speaker!r}; use only {', '.join(names)}")
    spoke = {t.speaker.strip().lower() for t in out.turns}
    silent = [n for n in names if n.lower() not in spoke]
    if silent:
        raise ValueError(f"{', '.join(silent)} never speaks; every speaker takes a turn")
    said = [normalize(t.text) for t in out.turns]
    repeated = next((i for i, text in enumerate(said, 1) if text in said[:i - 1]), None)
    if repeated is not None:
        raise ValueError(f"turn {repeated} repeats an earlier turn; every turn must add something")
    check_facts(" ".join(t.text for t in out.turns), source, state)


def synthesize_dialogue(state: SampleState, ctx: OpContext, args: DialogueArgs) -> SampleState:
    source = state.context or state.question
    names = _speaker_names(args.speakers, ctx, source)
    turns = args.turns

    def check(out: Dialogue) -> None:
        check_dialogue(out, names, source, state)

    out = ask_model(ctx, "synthesize_dialogue", "op_dialogue.j2", dialogue_schema(names, turns),
                    check,
                    max_tokens=100 + turns * 160, names=names, turns=turns,
                    question=clip(state.question, TEXT_BUDGET), context=state.context,
                    answer=clip(state.answer, TEXT_BUDGET))
    lines = _dialogue_lines(out, names)
    return state.model_copy(update={"dialog": lines, "context": "\n".join(lines)})


_REASONING = {
    "counterfactual": "Change one premise of the item (\"Suppose that ... instead\") and ask what "
                      "follows under the changed premise. The new answer must follow from the "
                      "changed premise and differ from the original answer.",
    "multi_hop": "Make the question need one more reasoning step: chain the original fact with "
                 "a second fact, stated in the new question, so that the answer can only be "
                 "found by combining both.",
}


class Transformed(BaseModel):
    question: str = Field(min_length=3)
    rationale: str = Field(default="", max_length=600)
    options: list[Option] = Field(default_factory=list, max_length=MAX_OPTIONS)
    answer: str = Field(min_length=1)


def check_options(options: list[str], answer: str, expected: int) -> None:
    """ValueError unless there are `expected` distinct options and the answer is exactly one."""
    if len(options) != expected:
        raise ValueError(f"give {expected} options, not {len(options)}")
    keys = [normalize(o) for o in options]
    if len(set(keys)) != len(keys) or not all(keys):
        raise ValueError("the options must be distinct and non-empty")
    hits = sum(o.strip() == answer.strip() for o in options)
    if hits != 1:
        raise ValueError(f"the answer must be exactly one of the options, word for word "
                         f"(it matches {hits})")


def _check_shape(new: str, old: str) -> None:
    if normalize(old) in YES_NO and normalize(new) not in YES_NO:
        raise ValueError("the answer must be yes or no, like the original")
    if NUMERIC.match(old.strip()) and not NUMERIC.match(new.strip()):
        raise ValueError("the answer must be a number only, like the original")
    if len(new.split()) > max(12, 2 * len(old.split())):
        raise ValueError("the answer is much longer than the original; keep it as short")


def check_transformed(out: Transformed, state: SampleState, kind: str) -> None:
    if normalize(out.question) == normalize(state.question):
        raise ValueError("the question is unchanged; write the new, harder question")
    if state.options:
        check_options(out.options, out.answer, len(state.options))
    others = [o for o in out.options if o.strip() != out.answer.strip()]
    listed = bool(others) and all(mentions(out.question, o) for o in others)
    if not listed and given_away(out.question, [out.answer]) is not None:
        raise ValueError(f"the question gives away the answer {out.answer!r}")
    _check_shape(out.answer, state.answer)
    same = normalize(out.answer) == normalize(state.answer)
    if kind == "counterfactual" and same and normalize(state.answer) not in YES_NO:
        raise ValueError("under the changed premise the answer must differ from the original")


class ReasoningArgs(OperatorArgs):
    kind: Literal["counterfactual", "multi_hop"] = Field(
        "multi_hop", description="a changed premise, or one more reasoning step")


def transform_reasoning(state: SampleState, ctx: OpContext, args: ReasoningArgs) -> SampleState:
    kind = args.kind

    def check(out: Transformed) -> None:
        check_transformed(out, state, kind)

    schema = sized(Transformed, options=len(state.options))
    out = ask_model(ctx, "transform_reasoning", "op_transform_reasoning.j2", schema, check,
                    max_tokens=1000, kind=kind, how=_REASONING[kind],
                    question=clip(state.question, TEXT_BUDGET), context=clip(state.context),
                    options=shown_options(state.options), answer=clip(state.answer, TEXT_BUDGET))
    options = [o.strip() for o in out.options] if state.options else []
    return state.model_copy(update={"question": out.question.strip(), "options": options,
                                    "answer": out.answer.strip(), "answer_aliases": []})


_Q = FieldRole.question
_A = FieldRole.answer


def _model_op(name: str, description: str, requires: set[FieldRole], produces: set[FieldRole],
              fn: Callable[[SampleState, OpContext, Any], SampleState], args: type[OperatorArgs],
              traits: Traits) -> None:
    register(Operator(name=name, description=description, requires=frozenset(requires),
                      produces=frozenset(produces), fn=fn, args=args, traits=traits,
                      calls_model=True, cost_class="model"))


_model_op("rewrite_question", "Rephrase the question with the executor model, keeping its "
          "meaning and gold answer; a rewrite that gives the answer away is rejected.",
          {_Q}, {_Q}, rewrite_question, RewriteArgs, Traits(lossy=0.1, adaptable=True))
_model_op("build_context", "Write a short passage (executor model) from which the question can "
          "be answered, consistent with the gold answer; replaces any context.",
          {_Q, _A}, {FieldRole.context}, build_context, ContextArgs,
          Traits(lossy=0.1, adaptable=True))
_model_op("synthesize_dialogue", "Turn the context (or the question) into a dialogue of 2-4 named "
          "speakers carrying the same facts (executor model); dialog lines 'Name: text', and "
          "the context becomes the dialogue.",
          {_Q}, {FieldRole.dialog, FieldRole.context}, synthesize_dialogue, DialogueArgs,
          Traits(lossy=0.1, adaptable=True))
_model_op("transform_reasoning", "Make a harder variant with a new question and a new answer "
          "(executor model): a counterfactual premise or one more reasoning hop; items with "
          "options get new options with the answer among them once.",
          {_Q, _A}, {_Q, _A}, transform_reasoning, ReasoningArgs,
          Traits(lossy=0.2, adaptable=True))
