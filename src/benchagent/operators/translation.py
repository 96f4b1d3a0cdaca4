"""translate: question, context, dialogue, options and answer into another language, by the
executor model."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from benchagent.operators.args import OperatorArgs
from benchagent.operators.modelcall import MAX_OPTIONS, Option, ask_model, sized
from benchagent.operators.registry import (
    OpContext,
    Operator,
    OperatorError,
    SampleState,
    Traits,
    register,
)
from benchagent.operators.wording import NUMERIC, YES_NO, given_away, mentions, normalize
from benchagent.records import FieldRole

LANGUAGES = {
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


def language_name(target: str) -> str:
    """The language a code ('fr', 'pt-BR') or a name ('German') stands for; ValueError else."""
    raw = target.strip()
    names = {name.lower(): name for name in LANGUAGES.values()}
    code = re.split(r"[-_]", raw.lower())[0]
    if code in LANGUAGES:
        return LANGUAGES[code]
    if raw.lower() in names:
        return names[raw.lower()]
    raise ValueError(f"must be a language code such as 'fr' (or a language name), not {raw!r}")


def _known_language(target: str) -> str:
    language_name(target)
    return target


class TranslateArgs(OperatorArgs):
    target: Annotated[str, AfterValidator(_known_language)] = Field(
        description="the language: a code such as 'fr', 'de', 'zh', or its English name")


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
    return bool(state.options) or normalize(answer) in YES_NO or bool(NUMERIC.match(answer))


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


def translate(state: SampleState, ctx: OpContext, args: TranslateArgs) -> SampleState:
    language = language_name(args.target)
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


register(Operator(
    name="translate",
    description="Translate question, context, dialogue, options and answer into another "
                "language (executor model); the answer stays the translated gold option; yes/no "
                "and numeric answers are kept as they are.",
    requires=frozenset({FieldRole.question, FieldRole.answer}),
    produces=frozenset({FieldRole.question, FieldRole.answer}), fn=translate,
    args=TranslateArgs, traits=Traits(lossy=0.15), calls_model=True, cost_class="model",
))
