"""Evidence read-back: the facts a medium's source text states must survive into what OCR reads
off the image or ASR hears in the clip, each as often as the text states it.

An error rate over the whole text cannot tell a smudged word from a lost fact: an occlusion box
over "The swimming pool was closed after 10pm" costs a few percent of the characters and the one
fact the answer depends on. The facts checked here are every number (with its am/pm: "10pm"),
time, date and proper name (a capitalised word inside a sentence, "Andrew", "AFTER") of the
source text. Both sides are normalised the same way before counting: for images case,
punctuation and how a number is split ("10pm" / "10 pm", "3:45" / "3.45"); for clips numbers
are written out as words ("10 p.m." and "ten pm" are the same fact).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from benchagent.operators.speech import normalize_words

Mode = Literal["image", "audio"]

_MERIDIEM = re.compile(r"\b([ap])\.\s?m\b\.?", re.IGNORECASE)
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_DIGIT_SEPARATOR = re.compile(r"(?<=\d)[:.,/-](?=\d)")
_NUMBER_FACT = re.compile(r"\d+(?:[.,:/-]\d+)*(?:\s?(?:[ap]m|[ap]\.m\.)(?![^\W_]))?",
                          re.IGNORECASE)
# A capitalised word that does not open a sentence, a line or a labelled field.
_NAME_FACT = re.compile(r"(?<=[^\W_]|[,;)'\"’”]) +([A-Z][^\W_]*(?:['’-][^\W_]+)*)")
# A capitalised word that opens a sentence or line: a name unless it is a common opener.
_OPENING_WORD = re.compile(r"(?:^|(?<=[.!?:]\s)|(?<=\n))\s*([A-Z][a-z]+(?:['’-][a-z]+)*)\b",
                           re.MULTILINE)
_OPENERS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "it", "its", "he", "she", "they", "we",
    "i", "you", "your", "our", "their", "his", "her", "my", "there", "here", "then", "so", "and",
    "but", "or", "if", "when", "while", "after", "before", "since", "until", "because", "although",
    "though", "as", "what", "which", "who", "whom", "whose", "how", "why", "where", "is", "are",
    "was", "were", "do", "does", "did", "can", "could", "would", "should", "will", "may", "might",
    "must", "shall", "has", "have", "had", "not", "no", "yes", "today", "yesterday", "tomorrow",
    "tonight", "now", "question", "answer", "answers", "options", "option", "choose", "select",
    "between", "during", "from", "to", "in", "on", "at", "by", "for", "with", "without", "of",
    "about", "above", "below", "under", "over", "into", "onto", "near", "each", "every", "all",
    "some", "any", "many", "most", "few", "several", "both", "either", "neither", "one", "two",
    "three", "four", "five", "six", "seven", "eight", "nine", "ten", "first", "second", "third",
    "last", "next", "finally", "also", "however", "therefore", "thus", "hence", "please", "let",
    "given", "consider", "suppose", "imagine", "note", "know",
})
_TOKEN = re.compile(r"[^\W_]+")
_DIGIT_LOOKALIKES = str.maketrans("oilszbg", "0115289")
_SHORT_LOOKALIKES = frozenset("lo")  # alone, "l" and "o" are no words ("I", "is", "so" are)
_FOLDED_TIME = re.compile(r"\d+[ap]m")
_LOWER_WORD = re.compile(r"(?<![^\W_])[a-z]+(?:['’-][a-z]+)*(?![^\W_])")
_OPTION_MARK = re.compile(r"(?m)(?:^|(?<=\s))\(?[A-Za-z][.)](?=\s|$)")


@dataclass(frozen=True)
class LostFact:
    fact: str  # as the source text writes it
    expected: int  # times the source text states it
    found: int  # times the reading holds it

    def describe(self) -> str:
        return f"{self.fact!r} {self.found} of {self.expected} times"


def _plain(text: str) -> str:
    text = _MERIDIEM.sub(lambda m: f" {m.group(1)}m ", text)
    return _DIGIT_LETTER.sub(" ", text)


def tokens(text: str, mode: Mode) -> list[str]:
    """The words read-back compares: lower case, numbers split from units and at their
    separators; for audio, numbers written out as words."""
    text = _OPTION_MARK.sub(" ", _plain(text))
    if mode == "audio":
        text = _THOUSANDS.sub("", text)  # "5,746" is one number, said as one
        return normalize_words(_DIGIT_SEPARATOR.sub(" ", text))
    return _TOKEN.findall(text.lower())


def facts(text: str) -> list[str]:
    """The numbers, times, dates and proper names `text` states, once each, in text order.

    A capitalised word inside a sentence is a name; one that opens a sentence or line is a name
    when it is no common opener and the text never writes it in lower case."""
    numbers = [m.group(0).strip() for m in _NUMBER_FACT.finditer(text)]
    names = [m.group(1) for m in _NAME_FACT.finditer(text) if len(m.group(1)) > 1]
    written_lower = set(_LOWER_WORD.findall(text))
    names += [m.group(1) for m in _OPENING_WORD.finditer(text)
              if m.group(1).lower() not in _OPENERS and m.group(1).lower() not in written_lower]
    return list(dict.fromkeys(numbers + names))


def _ocr_numbers(text: str) -> list[str]:
    """Tokens for comparing numbers in an image: glyphs OCR confuses with digits ("1O", "Sam"
    for "5am", "ipm" for "1pm", "l" for "1") read as those digits inside a token that holds a
    digit, is a time or is a lone "l" or "lo", so a blurred number still counts and a lost one
    still does not. Both sides are read alike."""
    out: list[str] = []
    text = _MERIDIEM.sub(lambda m: f" {m.group(1)}m ", text).replace("|", "1")
    for token in _TOKEN.findall(_OPTION_MARK.sub(" ", text).lower()):
        folded = token.translate(_DIGIT_LOOKALIKES)
        short_number = len(token) <= 2 and set(token) <= _SHORT_LOOKALIKES  # "l", "lO": 1, 10
        if any(c.isdigit() for c in token) or short_number or _FOLDED_TIME.fullmatch(folded):
            out += _DIGIT_LETTER.sub(" ", folded).split()
        else:
            out.append(token)
    return out


def _same_name(a: str, b: str) -> bool:
    """A name read with one letter off ("Skylar" / "Skyler") is still the name."""
    if a == b:
        return True
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1:
        return False
    return _within_one_edit(a, b)


def _within_one_edit(a: str, b: str) -> bool:
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)):] == b[i + 1:]


def _count(needle: tuple[str, ...], haystack: list[str], fuzzy: bool = False) -> int:
    """Non-overlapping occurrences of the word sequence `needle` in `haystack`."""
    if not needle:
        return 0
    count, i, size = 0, 0, len(needle)
    while i + size <= len(haystack):
        window = haystack[i:i + size]
        if all(_same_name(w, n) if fuzzy else w == n
               for w, n in zip(window, needle, strict=True)):
            count, i = count + 1, i + size
        else:
            i += 1
    return count


def lost_facts(expected: str, reading: str, mode: Mode) -> list[LostFact]:
    """The facts of `expected` that `reading` holds fewer times than `expected` states them."""
    words = tokens(expected, mode), tokens(reading, mode)
    numbers = (_ocr_numbers(expected), _ocr_numbers(reading)) if mode == "image" else words
    lost: list[LostFact] = []
    for fact in facts(expected):
        is_number = bool(_NUMBER_FACT.match(fact))
        if is_number and mode == "image":
            needle, (want_in, got_in) = tuple(_ocr_numbers(fact)), numbers
        else:
            needle, (want_in, got_in) = tuple(tokens(fact, mode)), words
        want = _count(needle, want_in, fuzzy=not is_number)
        got = _count(needle, got_in, fuzzy=not is_number)
        if got < want:
            lost.append(LostFact(fact, want, got))
    return lost


def describe_lost(lost: list[LostFact], limit: int = 8) -> str:
    shown = ", ".join(f.describe() for f in lost[:limit])
    more = f" and {len(lost) - limit} more" if len(lost) > limit else ""
    return shown + more
