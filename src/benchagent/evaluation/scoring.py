"""Reading a model's answer the way models really write it, and scoring it against the gold.

Every reader returns what it found or None; `score_answer` never raises on any text. An answer
that states no readable choice, or more than one, is "unscored": never counted wrong."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from benchagent.common.numwords import number_words
from benchagent.operators.wording import normalize
from benchagent.records import AnswerType, BenchmarkSample

Outcome = Literal["correct", "wrong", "unscored", "unsupported"]
SCORED: tuple[Outcome, ...] = ("correct", "wrong")

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SPACES = re.compile(r"\s{2,}")
_MARKUP = re.compile(r"[*_`#]+|\\boxed\{([^}]*)\}")
# "The answer is (B)", "Answer: b", "correct option is C", "Final answer - D"
# (a lower-case letter followed by a word is an article: "the answer is a cat")
_STATED = re.compile(r"(?i:answer|option|choice)\s*(?i:is|would be|:|-|=)?\s*(?i:option\s+)?"
                     r"[:\-]?\s*[(\[]?([A-Z]|[a-z](?!\s+[a-z]))(?![A-Za-z])")
# "B) Paris", "(B) Paris", "B. Paris", "B: Paris", "B", "B - Paris" at the very start
_LEADING = re.compile(r"^\s*(?:[(\[]([A-Za-z])[)\]]|([A-Za-z])\s*[).:\]](?!\d)|([A-Z])\s*(?:$|"
                      r"\s[-–—]\s|,\s))")
_STATED_TEXT = re.compile(r"^(?:the\s+)?(?:final\s+|correct\s+)?answer\s*(?:is|:)\s*",
                          re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.,])[-−]?\d+,\d{1,2}(?![\d,])"
                     r"|(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_STATED_NUMBER = re.compile(r"answer\s*(?:is|:|=)\s*(?:about\s+|approximately\s+|≈\s*)?"
                            r"([-−]?[\d.,]+(?:[eE][-+]?\d+)?)", re.IGNORECASE)
_WORD_NUMBERS = {normalize(number_words(i)): i for i in range(101)}
_YES = {"yes", "true"}
_NO = {"no", "false"}
_ARTICLES = {"a", "an", "the"}
REL_TOLERANCE = 1e-4  # a number within this share of the gold counts as the gold


@dataclass(frozen=True)
class Score:
    outcome: Outcome
    extracted: str | None = None  # what was read from the answer (an option's text, a number)
    reason: str = ""


def clean(text: str) -> str:
    """The answer without markdown emphasis, code ticks or a LaTeX box around it, each run of
    white space one space or one line break (so that no pattern backtracks over a long run)."""
    text = _MARKUP.sub(lambda m: m.group(1) or "", text)
    return _SPACES.sub(lambda m: "\n" if "\n" in m.group(0) else " ", text).strip()


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


# ---------------------------------------------------------------- multiple choice


def read_option(text: str, options: list[str]) -> int | None:
    """The index of the option `text` chooses, by letter or by option text; None when it names
    none, several, or a letter followed by another option's text ("B. 780000" when 780000 is
    option D)."""
    answer = clean(text)
    keys = [normalize(o) for o in options]
    whole = normalize(answer)
    if whole and keys.count(whole) == 1:  # exactly an option's text, as the instruction asks
        return keys.index(whole)
    lettered = _stated_letter(answer, len(options))
    if lettered is not None:
        index, after = lettered
        written = _leading_option(after, keys)
        return index if written is None or written == index else None
    stated = normalize(_STATED_TEXT.sub("", first_line(answer)))
    if stated and keys.count(stated) == 1:
        return keys.index(stated)
    for part in (first_line(answer), answer):
        found = _mentioned_options(part, keys)
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def _letter_index(letter: str, count: int) -> int | None:
    index = LETTERS.find(letter.upper())
    return index if 0 <= index < count else None


def _stated_letter(answer: str, count: int) -> tuple[int, str] | None:
    """The option letter the answer states, and what follows it on its line."""
    stated = [m for m in _STATED.finditer(answer) if _letter_index(m.group(1), count) is not None]
    if stated:  # after any reasoning, the last one stands
        return _with_rest(answer, stated[-1], count)
    if re.fullmatch(r"[(\[]?[A-Za-z][)\].]?", answer):
        index = _letter_index(answer.strip("()[]."), count)
        return None if index is None else (index, "")
    leading = _LEADING.match(answer)
    return _with_rest(answer, leading, count) if leading else None


def _with_rest(answer: str, match: re.Match[str], count: int) -> tuple[int, str] | None:
    letter = next(g for g in match.groups() if g)
    index = _letter_index(letter, count)
    rest = answer[match.end():].lstrip(" ).:]-–—").splitlines()
    return None if index is None else (index, rest[0] if rest else "")


def _leading_option(text: str, keys: list[str]) -> int | None:
    """The option whose text `text` starts with (the longest, when one starts another)."""
    words = f"{normalize(text)} "
    starts = [i for i, key in enumerate(keys) if key and words.startswith(f"{key} ")]
    return max(starts, key=lambda i: len(keys[i])) if starts else None


def _mentioned_options(text: str, keys: list[str]) -> list[int]:
    padded = f" {normalize(text)} "
    found = [i for i, key in enumerate(keys) if key and f" {key} " in padded]
    # "3pm to 4pm" names "4pm" as well: keep only options no other found one contains
    return [i for i in found
            if not any(j != i and f" {keys[i]} " in f" {keys[j]} " for j in found)]


# ---------------------------------------------------------------- yes / no


def read_yes_no(text: str) -> str | None:
    answer = clean(text)
    stated = _STATED_TEXT.sub("", first_line(answer))
    first = normalize(stated).split()[:1]
    if first and first[0] in _YES | _NO:
        return "yes" if first[0] in _YES else "no"
    words = set(normalize(answer).split())
    says_yes, says_no = bool(words & {"yes"}), bool(words & {"no"})
    if says_yes != says_no:
        return "yes" if says_yes else "no"
    return None


# ---------------------------------------------------------------- numbers


def parse_number(text: str) -> float | None:
    """A number as written: "780,000", "3.5", "3,5", "-2", "1e3", "seven"; None otherwise."""
    raw = text.strip().replace("−", "-")
    if re.fullmatch(r"-?\d+,\d{1,2}", raw):
        raw = raw.replace(",", ".")
    raw = raw.replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        word = _WORD_NUMBERS.get(normalize(text))
        return float(word) if word is not None else None
    return value if math.isfinite(value) else None


def read_number(text: str) -> float | None:
    """The number an answer gives, units and all after it ("780,000 ml", "Answer: 42"); None
    when it gives several different ones and says none is the answer."""
    answer = clean(text)
    stated = [parse_number(m.group(1).rstrip(".,")) for m in _STATED_NUMBER.finditer(answer)]
    if stated and stated[-1] is not None:
        return stated[-1]
    line = first_line(answer)
    leading = _NUMBER.match(line.lstrip("≈~ "))
    if leading:
        return parse_number(leading.group(0))
    values = {parse_number(m.group(0)) for m in _NUMBER.finditer(answer)} - {None}
    if len(values) == 1:
        return values.pop()
    if not values:
        return parse_number(normalize(line).split()[0]) if normalize(line) else None
    return None


def same_number(value: float, gold: float, gold_text: str) -> bool:
    """Equal within REL_TOLERANCE, or, for a gold with decimals, equal once rounded to them
    (3.1416 for 3.14; but never 2.4 for 2)."""
    if abs(value - gold) <= max(1e-9, REL_TOLERANCE * abs(gold)):
        return True
    decimals = len(gold_text.strip().replace(",", ".").partition(".")[2])
    return decimals > 0 and round(value, decimals) == round(gold, decimals)


# ---------------------------------------------------------------- short text


def short_text_key(text: str) -> str:
    words = normalize(_STATED_TEXT.sub("", first_line(clean(text)))).split()
    while words and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def short_text_matches(text: str, gold: str) -> bool:
    """The same words as the gold (articles aside), or the gold within a short answer."""
    said, key = short_text_key(text), short_text_key(gold)
    if not key:
        return False
    if said == key:
        return True
    return f" {key} " in f" {said} " and len(said.split()) <= len(key.split()) + 3


# ---------------------------------------------------------------- scoring


def score_answer(sample: BenchmarkSample, text: str) -> Score:
    """The outcome of `text` as an answer to `sample`; free-form answers are "unscored" here
    (a judge grades them: `grade_to_score`)."""
    if not text.strip():
        return Score("unscored", reason="empty answer")
    kind = sample.answer_type
    if kind == AnswerType.multiple_choice and sample.options:
        return _score_option(sample, text)
    if kind == AnswerType.yes_no:
        said = read_yes_no(text)
        if said is None:
            return Score("unscored", reason="says neither yes nor no")
        return Score("correct" if said == normalize(sample.answer) else "wrong", said)
    if kind == AnswerType.number:
        return _score_number(sample, text)
    if kind in (AnswerType.short_text, AnswerType.multiple_choice):
        said = short_text_key(text)
        return Score("correct" if short_text_matches(text, sample.answer) else "wrong", said)
    return Score("unscored", reason="a free-form answer needs a judge")


def _score_option(sample: BenchmarkSample, text: str) -> Score:
    index = read_option(text, sample.options)
    if index is None:
        return Score("unscored", reason="names no single option (or a letter and another "
                                        "option's text)")
    chosen = sample.options[index]
    right = normalize(chosen) == normalize(sample.answer)
    return Score("correct" if right else "wrong", chosen)


def _score_number(sample: BenchmarkSample, text: str) -> Score:
    gold = parse_number(sample.answer)
    if gold is None:
        return Score("unscored", reason=f"the gold answer {sample.answer!r} is not a number")
    value = read_number(text)
    if value is None:
        return Score("unscored", reason="gives no single number")
    shown = f"{value:g}"
    return Score("correct" if same_number(value, gold, sample.answer) else "wrong", shown)


def grade_to_score(correct: bool | None, reason: str) -> Score:
    """A judge's verdict on a free-form answer (None: the judge gave none)."""
    if correct is None:
        return Score("unscored", reason=reason or "the judge gave no verdict")
    return Score("correct" if correct else "wrong", reason=reason)
