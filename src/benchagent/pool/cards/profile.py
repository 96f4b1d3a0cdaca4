"""Deciding a dataset's answer type from its valid samples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from benchagent.pool.cards.textprofile import describe_samples
from benchagent.pool.fields import is_number, is_yes_no, normalize
from benchagent.records import AnswerType, SourceSample

MAX_CLASS_LABELS = 12
MIN_CLASS_SAMPLES = 20
SHORT_MEDIAN_WORDS = 5
SHORT_P90_WORDS = 12


@dataclass
class AnswerProfile:
    answer_type: AnswerType
    vocab: list[str] = field(default_factory=list)


def _numeric_answer(s: SourceSample) -> str | None:
    if is_number(s.answer):
        return s.answer
    return next((a for a in s.answer_aliases if is_number(a)), None)


def _is_yes_no_options(options: list[str]) -> bool:
    return len(options) == 2 and {normalize(o) for o in options} == {"yes", "no"}


def profile_answers(samples: Sequence[SourceSample]) -> AnswerProfile:
    """Options -> multiple_choice (yes/no options -> yes_no); all yes/no -> yes_no;
    all numeric -> number; a small closed vocabulary over many samples -> class labels
    (short_text with `vocab`); short answers -> short_text; long ones -> free_form."""
    if not samples:
        return AnswerProfile(AnswerType.free_form)
    if all(s.options for s in samples):
        if all(_is_yes_no_options(s.options) for s in samples):
            return AnswerProfile(AnswerType.yes_no)
        return AnswerProfile(AnswerType.multiple_choice)
    answers = [s.answer for s in samples]
    if all(is_yes_no(a) for a in answers):
        return AnswerProfile(AnswerType.yes_no)
    if all(_numeric_answer(s) is not None for s in samples):
        return AnswerProfile(AnswerType.number)
    distinct = sorted(set(answers))
    if (len(samples) >= MIN_CLASS_SAMPLES and len(distinct) <= MAX_CLASS_LABELS
            and len(distinct) * 3 <= len(samples)):
        return AnswerProfile(AnswerType.short_text, vocab=distinct)
    words = sorted(len(a.split()) for a in answers)
    p90 = words[min(len(words) - 1, int(len(words) * 0.9))]
    if median(words) <= SHORT_MEDIAN_WORDS and p90 <= SHORT_P90_WORDS:
        return AnswerProfile(AnswerType.short_text)
    return AnswerProfile(AnswerType.free_form)


def apply_profile(samples: Sequence[SourceSample], profile: AnswerProfile) -> list[SourceSample]:
    """For number datasets, make the numeric alias the answer ("three" -> "3")."""
    if profile.answer_type is not AnswerType.number:
        return list(samples)
    out = []
    for s in samples:
        num = _numeric_answer(s)
        if num is not None and num != s.answer:
            aliases = s.answer_aliases or [s.answer]
            s = s.model_copy(update={"answer": num, "answer_aliases": aliases})
        out.append(s)
    return out


def profiled_fields(samples: Sequence[SourceSample]) -> dict[str, Any]:
    """Every card field profiling fills: answer type and vocabulary, language, text stats."""
    profile = profile_answers(samples)
    normalized = apply_profile(samples, profile)
    return {"answer_type": profile.answer_type, "answer_vocab": profile.vocab,
            **describe_samples(normalized)}


def normalize_answers(samples: Sequence[SourceSample],
                      answer_type: AnswerType) -> list[SourceSample]:
    """`apply_profile` for a card's answer type (a cached card has no AnswerProfile)."""
    return apply_profile(samples, AnswerProfile(answer_type))
