"""Text operators that call the executor model (rewrite, context, dialogue, harder variants,
translation, model-written distractors).

Every model call goes through `ask_model`: a prompt template, a typed output schema and a check
that rejects output breaking the item; the client's repair loop retries, and output that stays
invalid rejects the sample with a one-line reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, create_model

from benchagent.models import StructuredOutputError
from benchagent.operators.registry import OpContext, Operator, OperatorError, SampleState, register
from benchagent.operators.text import choice_arg, int_arg, normalize
from benchagent.prompts import render
from benchagent.records import FieldRole

T = TypeVar("T", bound=BaseModel)

CONTEXT_BUDGET = 4000  # characters of one context shown in a prompt
TEXT_BUDGET = 1500  # characters of a question or an answer shown in a prompt
OPTION_BUDGET = 200  # characters of one option
MAX_OPTIONS = 20
PROMPT_BUDGET = 16000  # no rendered prompt is longer than this
# Long text fields carry no maxLength: llama.cpp's grammar refuses repetitions above ~2000.
_MARKER_ROOM = 40

_YES_NO = {"yes", "no"}
_NUMERIC = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_TELLS = re.compile(r"\b(?:the answer (?:is|to)|correct answer)\b", re.IGNORECASE)

Option = Annotated[str, Field(min_length=1, max_length=OPTION_BUDGET)]


def clip(text: str, budget: int = CONTEXT_BUDGET) -> str:
    """`text` if it fits in `budget` characters, else its head and a marker saying what was cut."""
    if len(text) <= budget:
        return text
    head = text[:max(budget - _MARKER_ROOM, 1)]
    space = head.rfind(" ")
    if space > len(head) * 0.8:
        head = head[:space]
    return f"{head.rstrip()} [… {len(text) - len(head)} characters cut]"


def sized(schema: type[T], **lengths: int) -> type[T]:
    """`schema` with list fields of exactly these lengths, which constrained decoding keeps."""
    fields: dict[str, Any] = {}
    for name, length in lengths.items():
        annotation = schema.model_fields[name].annotation
        fields[name] = (annotation, Field(min_length=length, max_length=length) if length
                        else Field(default_factory=list, max_length=0))
    return create_model(schema.__name__, __base__=schema, **fields)


def shown_options(options: list[str]) -> list[str]:
    return [clip(o, OPTION_BUDGET) for o in options[:MAX_OPTIONS]]


def ask_model(ctx: OpContext, op: str, template: str, schema: type[T],
              check: Callable[[T], None], *, max_tokens: int = 768, **values: Any) -> T:
    """The executor model's checked `schema` answer to a prompt; invalid output → OperatorError."""
    client = ctx.require_model(op)
    prompt = render(template, **values)
    if len(prompt) > PROMPT_BUDGET:
        raise OperatorError(f"{op}: the item is too long for one prompt ({len(prompt)} characters, "
                            f"limit {PROMPT_BUDGET})")
    try:
        return client.generate([{"role": "user", "content": prompt}], schema, role="executor",
                               check=check, max_tokens=max_tokens,
                               seed=ctx.rng.randrange(2**31))
    except StructuredOutputError as exc:
        reason = " ".join(str(exc).split())
        raise OperatorError(f"{op}: model output stayed invalid: {reason}") from None


def mentions(text: str, phrase: str) -> bool:
    """`phrase` occurs in `text` as whole words, ignoring case and punctuation."""
    needle = normalize(phrase)
    return bool(needle) and f" {needle} " in f" {normalize(text)} "


def _telling(answer: str) -> bool:
    """Whether finding `answer` in a text gives it away (not for yes/no or a lone letter)."""
    key = normalize(answer)
    return key not in _YES_NO and (len(key) >= 2 or key.isdigit())


def given_away(text: str, answers: list[str], before: str = "") -> str | None:
    """An answer that `text` states and `before` did not."""
    for answer in answers:
        if _telling(answer) and mentions(text, answer) and not mentions(before, answer):
            return answer
    return None


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
        if key in _YES_NO:
            if said.split()[:1] == [key]:
                return True
        elif _NUMERIC.match(gold.strip()):
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


def rewrite_question(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    style = choice_arg("rewrite_question", "style", args, _STYLES, "paraphrase")
    answers = [state.answer, *state.answer_aliases]

    def check(out: RewrittenQuestion) -> None:
        check_question(out.question, state.question, answers)

    out = ask_model(ctx, "rewrite_question", "op_rewrite_question.j2", RewrittenQuestion, check,
                    style=style, how=_STYLES[style], question=clip(state.question, TEXT_BUDGET),
                    context=clip(state.context), options=shown_options(state.options),
                    answer=clip(state.answer, TEXT_BUDGET))
    return state.model_copy(update={"question": out.question.strip()})


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


def build_context(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    kind = choice_arg("build_context", "kind", args, _CONTEXT_KINDS, "document")
    length_words = int_arg("build_context", "length_words", args.get("length_words", 120),
                           30, 800)

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


def _speaker_names(raw: Any, ctx: OpContext, source: str) -> list[str]:
    if isinstance(raw, list):
        names = [str(n).strip() for n in raw]
        distinct = len({n.lower() for n in names}) == len(names)
        if not (2 <= len(names) <= 4 and distinct and all(names)) or any(":" in n for n in names):
            raise OperatorError("synthesize_dialogue: speakers must be a count (2-4) or 2 to 4 "
                                "distinct names without ':'")
        return names
    count = int_arg("synthesize_dialogue", "speakers", raw, 2, 4)
    free = [n for n in _NAMES if not mentions(source, n)]
    return ctx.rng.sample(free, count)


def check_facts(text: str, source: str, state: SampleState) -> None:
    """ValueError when `text` drops the numbers or the answer of `source`, or adds the answer."""
    needed = _numbers(source)
    missing = sorted(needed - _numbers(text)) if len(needed) <= 12 else []
    if missing:
        raise ValueError(f"the dialogue drops facts: the numbers {', '.join(missing[:5])} are "
                         f"missing (write numbers as digits)")
    answers = [state.answer, *state.answer_aliases]
    present = [a for a in answers if _telling(a) and mentions(source, a)]
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


def synthesize_dialogue(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    source = state.context or state.question
    names = _speaker_names(args.get("speakers", 2), ctx, source)
    turns = int_arg("synthesize_dialogue", "turns", args.get("turns", 6), len(names), 20)

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
    if normalize(old) in _YES_NO and normalize(new) not in _YES_NO:
        raise ValueError("the answer must be yes or no, like the original")
    if _NUMERIC.match(old.strip()) and not _NUMERIC.match(new.strip()):
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
    if kind == "counterfactual" and same and normalize(state.answer) not in _YES_NO:
        raise ValueError("under the changed premise the answer must differ from the original")


def transform_reasoning(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    kind = choice_arg("transform_reasoning", "kind", args, _REASONING, "multi_hop")

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


_LANGUAGES = {
    "ar": "Arabic", "bn": "Bengali", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian",
    "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "no": "Norwegian",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sv": "Swedish",
    "sw": "Swahili", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
    "vi": "Vietnamese", "zh": "Chinese (simplified)",
}


class Translation(BaseModel):
    question: str = Field(min_length=1)
    context: str = ""
    dialog: list[str] = Field(default_factory=list, max_length=60)
    options: list[Option] = Field(default_factory=list, max_length=MAX_OPTIONS)
    answer: str = ""


def language_name(target: Any) -> str:
    raw = str(target or "").strip()
    names = {name.lower(): name for name in _LANGUAGES.values()}
    code = re.split(r"[-_]", raw.lower())[0]
    if code in _LANGUAGES:
        return _LANGUAGES[code]
    if raw.lower() in names:
        return names[raw.lower()]
    raise OperatorError(f"translate: target must be a language code such as 'fr' (or a "
                        f"language name), not {raw!r}")


def _gold_index(state: SampleState) -> int | None:
    if not state.options:
        return None
    keys = [normalize(o) for o in state.options]
    if keys.count(normalize(state.answer)) != 1:
        raise OperatorError("translate: the answer is not exactly one of the options")
    return keys.index(normalize(state.answer))


def _keeps_answer(state: SampleState) -> bool:
    """Yes/no and numeric answers stay as they are; option answers follow their option."""
    answer = state.answer.strip()
    return bool(state.options) or normalize(answer) in _YES_NO or bool(_NUMERIC.match(answer))


def check_translation(out: Translation, state: SampleState, send_context: bool,
                      language: str) -> None:
    if send_context != bool(out.context.strip()):
        raise ValueError("translate the context" if send_context else "leave the context empty")
    if not all(line.strip() for line in out.dialog):
        raise ValueError("a translated dialogue line is empty; translate every line")
    if len({normalize(o) for o in out.options}) != len(out.options):
        raise ValueError("two translated options became the same; keep them distinct")
    if not _keeps_answer(state) and not out.answer.strip():
        raise ValueError("translate the answer")
    words = re.findall(r"[^\W\d_]{2,}", state.question)
    if (language != "English" and len(words) >= 4
            and normalize(out.question) == normalize(state.question)):
        raise ValueError(f"the question is not translated into {language}")
    answer = _translated_answer(out, state)
    leaked = given_away(out.question, [answer])
    if leaked is not None and not mentions(state.question, state.answer):
        raise ValueError("the translated question gives away the answer")


def _translated_answer(out: Translation, state: SampleState) -> str:
    index = _gold_index(state)
    if index is not None:
        return out.options[index].strip()
    return state.answer if _keeps_answer(state) else out.answer.strip()


def translate(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    language = language_name(args.get("target"))
    _gold_index(state)
    in_dialog = bool(state.dialog) and state.context == "\n".join(state.dialog)
    send_context = bool(state.context) and not in_dialog

    def check(out: Translation) -> None:
        check_translation(out, state, send_context, language)

    schema = sized(Translation, options=len(state.options), dialog=len(state.dialog))
    out = ask_model(ctx, "translate", "op_translate.j2", schema, check, max_tokens=3000,
                    language=language, question=state.question,
                    context=state.context if send_context else "", dialog=state.dialog,
                    options=state.options,
                    answer="" if _keeps_answer(state) else state.answer)
    answer = _translated_answer(out, state)
    dialog = [line.strip() for line in out.dialog]
    context = "\n".join(dialog) if in_dialog else out.context.strip()
    aliases = state.answer_aliases if answer == state.answer else []
    return state.model_copy(update={
        "question": out.question.strip(), "context": context, "dialog": dialog,
        "options": [o.strip() for o in out.options], "answer": answer, "answer_aliases": aliases})


_Q = FieldRole.question
_A = FieldRole.answer


def _model_op(name: str, description: str, requires: set[FieldRole], produces: set[FieldRole],
              fn: Callable[[SampleState, OpContext, dict[str, Any]], SampleState],
              params: dict[str, str]) -> None:
    register(Operator(name=name, description=description, requires=frozenset(requires),
                      produces=frozenset(produces), fn=fn, params=params, calls_model=True,
                      cost_class="model"))


_model_op("rewrite_question", "Rephrase the question with the executor model, keeping its "
          "meaning and gold answer; a rewrite that gives the answer away is rejected.",
          {_Q}, {_Q}, rewrite_question,
          {"style": "paraphrase | harder | simpler | formal (default paraphrase)"})
_model_op("build_context", "Write a short passage (executor model) from which the question can "
          "be answered, consistent with the gold answer; replaces any context.",
          {_Q, _A}, {FieldRole.context}, build_context,
          {"kind": "story | document | table-description (default document)",
           "length_words": "int 30-800 (default 120)"})
_model_op("synthesize_dialogue", "Turn the context (or the question) into a dialogue of 2-4 named "
          "speakers carrying the same facts (executor model); dialog lines 'Name: text', and "
          "the context becomes the dialogue.",
          {_Q}, {FieldRole.dialog, FieldRole.context}, synthesize_dialogue,
          {"speakers": "int 2-4 or a list of 2-4 names (default 2)",
           "turns": "int (default 6)"})
_model_op("transform_reasoning", "Make a harder variant with a new question and a new answer "
          "(executor model): a counterfactual premise or one more reasoning hop; items with "
          "options get new options with the answer among them once.",
          {_Q, _A}, {_Q, _A}, transform_reasoning,
          {"kind": "counterfactual | multi_hop (default multi_hop)"})
_model_op("translate", "Translate question, context, dialogue, options and answer into another "
          "language (executor model); the answer stays the translated gold option; yes/no and "
          "numeric answers are kept as they are.",
          {_Q, _A}, {_Q, _A}, translate,
          {"target": "language code such as 'fr', 'de', 'zh' (required)"})
