"""An item's own words: the dataset's task statement before the subtask's answer format, and
option codes ("T" / "F", "Y" / "N") spelled out, so that the item says what it asks."""

from __future__ import annotations

import re
from collections.abc import Sequence

from benchagent.executor.asking import what_it_asks
from benchagent.operators.wording import normalize
from benchagent.records import SourceSample

# Codes that stand for words; a set of options made only of one pair's codes is spelled out.
CODE_PAIRS: tuple[dict[str, str], ...] = (
    {"t": "true", "f": "false"},
    {"y": "yes", "n": "no"},
)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_PARAGRAPH = "\n\n"  # after a statement of several lines (a table, worked examples)


_MASK = re.compile(r"<MASK>|\[MASK\]|<mask>|_{3,}")
_OWN_FORMAT = re.compile(
    r"\b(format (each|your|the) \w+|provide only|output only|only output|in the (following )?"
    r"format|(respond|reply|answer) (only )?(with|in) (a|an|the|one|exactly)\b)", re.IGNORECASE)


def states_own_format(question: str) -> bool:
    """The question says how to write the answer ("Format each relation as ...")."""
    return bool(_OWN_FORMAT.search(question))


def implied_statement(text: str, from_dialog: bool) -> str:
    """What an item asks when its dataset does not say it: which words fill a masked span, or
    the next turn of a dialogue that is all the item holds."""
    mask = _MASK.search(text)
    if mask:
        return f"Choose what fills {mask.group(0)} in the text."
    if from_dialog:
        return "Write the next turn of this dialogue."
    return ""


# How a card states its task: "... asks the model to select the most appropriate trait.",
# "The task is to pick the word that ...", "Models must decide whether ...".
_CARD_TASK = re.compile(
    r"\b(?:the task is to|(?:asks|requires) (?:the |a )?(?:model|reader|system)s? to|"
    r"(?:the |a )?models? (?:must|should|has to|needs to|is asked to))\s+([^.;]{8,200})",
    re.IGNORECASE)


def card_task(description: str) -> str:
    """The task a dataset card's description states, as an instruction ("Select the most
    appropriate moral or character-based description."); "" when it states none."""
    match = _CARD_TASK.search(description)
    if not match:
        return ""
    task = match.group(1).strip().rstrip(",")
    return f"{task[0].upper()}{task[1:]}."


UNSAID_PROBE = 20  # samples looked at to tell whether a dataset leaves its question unsaid


def unsaid_task(description: str, samples: Sequence[SourceSample]) -> str:
    """The task the card states, for a dataset most of whose samples ask nothing of their own
    (bare sentences with trait options): every item of it then says that task, also the ones
    whose sentence happens to be a question ("Can you grab some milk?" to classify)."""
    probe = [s for s in samples[:UNSAID_PROBE] if not s.instruction.strip()]
    silent = sum(not what_it_asks([s.context, s.question, *s.dialog], s.question,
                                  list(s.options)).asks for s in probe)
    return card_task(description) if probe and 2 * silent > len(probe) else ""


def item_instruction(statement: str, answer_format: str, question: str) -> str:
    """The dataset's task statement (unless the question already holds it), then the answer
    format; a sentence of the answer format the statement already says is not said again."""
    statement = statement.strip()
    if not statement:
        return answer_format
    if f" {normalize(statement)} " in f" {normalize(question)} ":
        return answer_format
    if statement.endswith(":"):  # "Sort the following words alphabetically:" introduced input
        statement = statement[:-1].rstrip() + "."
    elif statement[-1] not in ".?!":
        statement += "."
    said = normalize(statement)
    rest = " ".join(s for s in _SENTENCE_END.split(answer_format.strip())
                    if s and f" {normalize(s)} " not in f" {said} ")
    if not rest:
        return statement
    separator = _PARAGRAPH if "\n" in statement else " "
    return f"{statement}{separator}{rest}"


def code_words(values: list[str]) -> dict[str, str] | None:
    """The pair of codes `values` are all written in (at least two of them, and at least two
    different codes), or None."""
    keys = {v.strip().casefold() for v in values if v.strip()}
    if len(keys) < 2:
        return None
    return next((pair for pair in CODE_PAIRS if keys <= pair.keys()), None)


def spelled(value: str, words: dict[str, str]) -> str:
    """`value` spelled out when it is a code ("T" -> "True", "f" -> "false"), else itself."""
    code = value.strip()
    word = words.get(code.casefold())
    if word is None:
        return value
    return word.capitalize() if code.isupper() else word


def spell_out_codes(options: list[str], answer: str, aliases: list[str],
                    answer_space: list[str]) -> tuple[list[str], str, list[str]]:
    """Options, answer and aliases with their codes spelled out: when the options are codes of
    one pair, or (without options) when every answer of the dataset is."""
    words = code_words(options) if options else code_words(answer_space)
    if words is None:
        return options, answer, aliases
    return ([spelled(o, words) for o in options], spelled(answer, words),
            [spelled(a, words) for a in aliases])


def spelled_space(answers: list[str]) -> list[str]:
    """A dataset's answers, spelled out when they are all codes of one pair."""
    words = code_words(answers)
    return answers if words is None else [spelled(a, words) for a in answers]
