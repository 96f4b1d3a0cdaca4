"""Rules on an item's options a reviewer applies: no two options say the same thing, and the
source does not count more than one option as right.

Two options restate each other when they are the same words once case, punctuation and filler
("Feeling sad" / "Sad", "To be happy" / "happy") are set aside, or when their meaning is the
same by a sentence embedding whose lexical overlap is low (`paraphrase_pairs`). Options that
differ by a word that carries meaning ("an analogy" / "a false analogy", "Buy the food" /
"Not buy the food", "9am to 1pm" / "1pm to 9pm") are different answers.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from benchagent.operators.text import normalize

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# Words that change no option's meaning when added or dropped.
_FILLER = frozenset({
    "a", "an", "the", "be", "being", "been", "feel", "feels", "feeling", "felt", "very",
    "really", "quite", "just", "so", "some", "that", "is", "are", "was", "were", "get",
    "getting", "got", "have", "having", "of", "would", "will",
})


def core_words(option: str) -> tuple[str, ...]:
    """The option's words, lower-cased, without punctuation, filler or an opening infinitive
    "to" ("To be happy" is "happy"; "quarter to" keeps its "to")."""
    every = _TOKEN.findall(option.lower())
    opening = 1 if every[:1] == ["to"] else 0
    words = [w for w in every[opening:] if w not in _FILLER]
    return tuple(words) if words else tuple(every)


def restating_pairs(options: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of options that are the same words once case, punctuation and filler go."""
    pairs: list[tuple[str, str]] = []
    for a, b in itertools.combinations(options, 2):
        core_a, core_b = core_words(a), core_words(b)
        if core_a and core_a == core_b:
            pairs.append((a, b))
    return pairs


def scored_right(options: Sequence[str], answer: str, aliases: Sequence[str]) -> list[str]:
    """The options the source counts as right: the gold and every alias it gave (BIG-bench's
    tied top `target_scores`, a short answer's accepted variants)."""
    golds = {normalize(a) for a in [answer, *aliases]} - {""}
    return [o for o in options if normalize(o) in golds]


def one_right_option(options: Sequence[str], answer: str, aliases: Sequence[str]) -> list[str]:
    """The options without the other ones the source also counts as right ("circle" and
    "ellipse" for a circular arc), so that the gold is the one right option; unchanged when
    that would leave fewer than two options."""
    gold = normalize(answer)
    right = {normalize(o) for o in scored_right(options, answer, aliases)} - {gold}
    kept = [o for o in options if normalize(o) not in right]
    return kept if len(kept) >= 2 else list(options)


def describe_pairs(pairs: Sequence[tuple[str, str]], limit: int = 3) -> str:
    return "; ".join(f"{a[:60]!r} / {b[:60]!r}" for a, b in pairs[:limit])
