"""Cheap profiling of a dataset's text: its language and how long its questions and answers are.

The language detector is deliberately small: the writing system decides zh / ja / ko / ru /
ar / el / hi, and for Latin-script text the most frequent function words decide between
en / de / fr / es / it / pt / nl. Text it cannot place is "und" (ISO 639 "undetermined").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from statistics import fmean, median
from typing import Any

from benchagent.records import SourceSample

UNDETERMINED = "und"
PROFILE_SAMPLES = 60  # texts looked at for the language
PROFILE_CHARS = 300  # characters of each text looked at

_STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split()) for lang, words in {
        "en": "the a and of to is in that it for was on are with as be this by not what which "
              "you have from or an at who how does did were they he she his her i do many",
        "de": "der die das und ist nicht ein eine zu den von mit sich des auf für im dem auch "
              "es wie wer was ich sie wird sind oder aus bei nach",
        "fr": "le la les et est des une un du que dans pour pas qui sur au avec ce il elle "
              "sont ou aux cette quel quelle nous vous",
        "es": "el la los las y es de que en un una por con para del se no al lo como más "
              "qué cuál son está pero sus",
        "it": "il la di che è un una per non del della sono con gli le nel cosa quale come "
              "questo anche alla dei più",
        "pt": "o a os as e é de que um uma do da em para não com por se dos das qual como "
              "são está mais ao",
        "nl": "de het een en is van dat niet op te in met zijn voor er die wat hoe ook wordt "
              "aan bij naar",
    }.items()
}
_SCRIPTS: tuple[tuple[str, str], ...] = (  # (character class, language), checked in this order
    ("\u3040-\u30ff", "ja"), ("\uac00-\ud7af\u1100-\u11ff", "ko"), ("\u4e00-\u9fff", "zh"),
    ("\u0400-\u04ff", "ru"), ("\u0600-\u06ff", "ar"), ("\u0370-\u03ff", "el"),
    ("\u0900-\u097f", "hi"),
)
_SCRIPT_RES = tuple((re.compile(f"[{cls}]"), lang) for cls, lang in _SCRIPTS)
_WORD = re.compile(r"[^\W\d_]+")
_MIN_HITS = 3


def detect_language(texts: Sequence[str]) -> str:
    """An ISO 639-1 code for the texts taken together, or "und"."""
    text = "\n".join(t[:PROFILE_CHARS] for t in texts[:PROFILE_SAMPLES]).lower()
    found = _WORD.findall(text)
    letters = sum(map(len, found))
    if not letters:
        return UNDETERMINED
    counts = [(len(rx.findall(text)), lang) for rx, lang in _SCRIPT_RES]
    kana = counts[0][0]
    if kana and kana * 20 >= letters:  # any real share of kana means Japanese, with its kanji
        return "ja"
    best_count, best_lang = max(counts[1:])
    if best_count * 10 >= letters * 3:
        return best_lang
    words = Counter(found)
    # Distinct function words first (a repeated "per:" label is not Italian), then counts.
    scores = {lang: (len(stop & words.keys()), sum(words[w] for w in stop))
              for lang, stop in _STOPWORDS.items()}
    lang, (_, hits) = max(scores.items(), key=lambda kv: kv[1])
    if hits < _MIN_HITS or hits * 20 < len(found):
        return UNDETERMINED
    return lang


def _percentile(values: Sequence[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * q))])


def text_stats(samples: Sequence[SourceSample]) -> dict[str, float]:
    """Mean, median and 95th percentile of the characters of question + context (+ dialog)."""
    if not samples:
        return {}
    lengths = [len(s.question) + len(s.context) + sum(len(t) for t in s.dialog)
               for s in samples]
    return {"mean": round(fmean(lengths), 1), "median": float(median(lengths)),
            "p95": _percentile(lengths, 0.95)}


def describe_samples(samples: Sequence[SourceSample]) -> dict[str, Any]:
    """The card fields profiling fills from the samples themselves (besides the answer type)."""
    step = -(-len(samples) // PROFILE_SAMPLES) or 1  # spread over the whole dataset
    picked = samples[::step]
    texts = [" ".join(t for t in (s.instruction, s.question, s.context, *s.dialog, *s.options)
                      if t) for s in picked]
    return {
        "language": detect_language(texts),
        "text_stats": text_stats(samples),
        "answer_length_mean": round(fmean(len(s.answer) for s in samples), 1) if samples else 0.0,
        "num_options_mean": round(fmean(len(s.options) for s in samples), 2) if samples else 0.0,
    }
