"""Comparing texts and answers, for the text operators and the verifier: normalized words,
whole-word mentions, and whether a text gives an answer away."""

from __future__ import annotations

import re

YES_NO = {"yes", "no"}
NUMERIC = re.compile(r"^-?\d+(?:[.,]\d+)?$")  # an answer that is a number only


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def mentions(text: str, phrase: str) -> bool:
    """`phrase` occurs in `text` as whole words, ignoring case and punctuation."""
    needle = normalize(phrase)
    return bool(needle) and f" {needle} " in f" {normalize(text)} "


def telling(answer: str) -> bool:
    """Whether finding `answer` in a text gives it away (not for yes/no or a lone letter)."""
    key = normalize(answer)
    return key not in YES_NO and (len(key) >= 2 or key.isdigit())


def given_away(text: str, answers: list[str], before: str = "") -> str | None:
    """An answer that `text` states and `before` did not."""
    for answer in answers:
        if telling(answer) and mentions(text, answer) and not mentions(before, answer):
            return answer
    return None
