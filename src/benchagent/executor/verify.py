"""Verification layers, cheapest first: rule checks on every sample, read-back of generated
media (readback.py), the blind check (is the item answerable without its image or audio?) and a
semantic check by the verifier model. `verify_sample` runs them in that order and stops at the
first layer that rejects the item, so no model call is spent on an item already rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, Field

from benchagent.executor.asking import what_it_asks
from benchagent.executor.option_rules import describe_pairs, restating_pairs, scored_right
from benchagent.executor.readback import ReadbackThresholds, normalize_reading, readback_checks
from benchagent.models import ModelClient, ask_or_fallback
from benchagent.operators.registry import SampleState
from benchagent.operators.text import normalize
from benchagent.prompts import render
from benchagent.records import AnswerType, BenchmarkSample, CheckResult, Modality, Subtask

_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_YES_NO = {"yes", "no"}
# Options that answer a proposition without naming it.
_POLAR_OPTIONS = frozenset({"yes", "no", "true", "false", "t", "f", "y", "n"})
_LETTER_CODES = {"t": "true", "f": "false", "y": "yes", "n": "no"}


CANNOT_TELL = "cannot tell"
_TARGETS = (Modality.image, Modality.audio)
_LETTERED = re.compile(r"^([a-z]) (.+)$")


class SemanticVerdict(BaseModel):
    reason: str = Field(default="", max_length=400)  # first, so the verdict follows a reason
    answerable: bool
    answer_correct: bool
    # Asked when the subtask is given; a verifier (or script) that leaves it out is not read
    # as rejecting the item.
    tests_subtask: bool = True


class FaithfulVerdict(SemanticVerdict):
    """Asked when a model rewrote the item: is it still faithful to its source?"""

    faithful: bool


class BlindVerdict(BaseModel):
    reason: str = Field(default="", max_length=400)
    answer: str = Field(max_length=300)  # the option's text, the answer, or "cannot tell"


@dataclass(frozen=True)
class VerifyLayers:
    """Which verification layers run; the schema check always does."""

    rules: bool = True
    readback: bool = True
    blind: bool = True
    semantic: bool = True
    thresholds: ReadbackThresholds = field(default_factory=ReadbackThresholds)

    @classmethod
    def full(cls) -> VerifyLayers:
        return cls()

    @classmethod
    def schema_only(cls) -> VerifyLayers:
        """`--ablate verification`: the schema check and nothing else."""
        return cls(rules=False, readback=False, blind=False, semantic=False)


def _check(name: str, ok: bool, reason: str = "") -> CheckResult:
    return CheckResult(check=name, passed=ok, reason="" if ok else reason)


def check_schema(sample: BenchmarkSample) -> CheckResult:
    if not sample.question.strip():
        return _check("schema", False, "empty question")
    if not sample.answer.strip():
        return _check("schema", False, "empty answer")
    return _check("schema", True)


def check_answer_type(sample: BenchmarkSample, subtask: Subtask) -> CheckResult:
    if sample.answer_type != subtask.answer_type:
        return _check("answer_type", False, f"{sample.answer_type.value} item in a "
                                            f"{subtask.answer_type.value} subtask")
    kind = sample.answer_type
    if kind == AnswerType.multiple_choice and len(sample.options) < 2:
        return _check("answer_type", False, "multiple choice with fewer than 2 options")
    if kind == AnswerType.yes_no and normalize(sample.answer) not in _YES_NO:
        return _check("answer_type", False, f"yes/no answer is {sample.answer!r}")
    if kind == AnswerType.number and not _NUMBER.match(sample.answer.strip()):
        return _check("answer_type", False, f"numeric answer is {sample.answer!r}")
    return _check("answer_type", True)


def check_options(sample: BenchmarkSample,
                  state: SampleState | None = None) -> list[CheckResult]:
    if not sample.options:
        return []
    normalized = [normalize(o) for o in sample.options]
    unique = len(set(normalized)) == len(normalized) and all(normalized)
    correct = normalized.count(normalize(sample.answer))
    restating = restating_pairs(sample.options)
    right = scored_right(sample.options, sample.answer, state.answer_aliases if state else [])
    return [_check("options_unique", unique, "duplicate or empty options"),
            _check("one_correct", correct == 1,
                   f"the answer matches {correct} options, not exactly one"),
            _check("options_distinct", not restating,
                   f"options restate each other: {describe_pairs(restating)}"),
            _check("gold_unique", len(right) <= 1,
                   f"the source counts {len(right)} options as right: "
                   f"{', '.join(repr(o[:60]) for o in right[:4])}")]


def _shown_texts(sample: BenchmarkSample, state: SampleState | None) -> list[str]:
    """Every text the item shows: instruction, context, question, what its media show or say."""
    media = state.media_text if state is not None else {}
    return [sample.instruction, sample.context, sample.question,
            *(media.get(m.path, "") for m in sample.media)]


def _is_yes_no(sample: BenchmarkSample) -> bool:
    options = {normalize(o) for o in sample.options}
    return sample.answer_type == AnswerType.yes_no or (
        len(options) == 2 and options <= _POLAR_OPTIONS)


def check_asks(sample: BenchmarkSample, state: SampleState | None = None) -> list[CheckResult]:
    """The item asks something; a yes/no item also says what "yes" would mean."""
    asking = what_it_asks(_shown_texts(sample, state), sample.question, sample.options)
    checks = [_check("asks", asking.asks,
                     "the item asks nothing: no question or task statement in its instruction, "
                     "context, question or media (only how to answer)")]
    if _is_yes_no(sample):
        checks.append(_check("yes_no_proposition", bool(asking.question),
                             "a yes/no item that states no proposition: no question or "
                             "instruction says what \"yes\" would mean"))
        checks += _codes_explained(sample, state)
    return checks


def _codes_explained(sample: BenchmarkSample, state: SampleState | None) -> list[CheckResult]:
    """Options "T" / "F" (or "Y" / "N") must be spelled out somewhere in what the item shows."""
    codes = [o.strip() for o in sample.options if len(normalize(o)) == 1]
    if not codes:
        return []
    shown = set(re.findall(r"[a-z]+", " ".join(_shown_texts(sample, state)).lower()))
    explained = all(_LETTER_CODES[normalize(c)] in shown for c in codes)
    return [_check("codes_explained", explained, f"the options {' / '.join(codes)} are letter "
                                                 f"codes the item does not spell out")]


def check_not_leaked(sample: BenchmarkSample) -> CheckResult:
    """The gold answer must not be given away by the question itself."""
    answer = normalize(sample.answer)
    question = f" {normalize(sample.question)} "
    if len(answer) < 3 or sample.answer_type == AnswerType.yes_no:
        return _check("not_leaked", True)
    if f" {answer} " not in question:
        return _check("not_leaked", True)
    others = [normalize(o) for o in sample.options if normalize(o) != answer]
    if others and all(f" {o} " in question for o in others):
        return _check("not_leaked", True)  # every option is listed in the question
    return _check("not_leaked", False, "the question contains the answer")


def check_media(sample: BenchmarkSample, run_dir: Path) -> CheckResult:
    missing = [m.path for m in sample.media if not (run_dir / m.path).is_file()]
    return _check("media", not missing, f"missing media {missing}")


def rule_checks(sample: BenchmarkSample, subtask: Subtask, run_dir: Path,
                state: SampleState | None = None) -> list[CheckResult]:
    """The checks that need no model: a reviewer's first reading of the item."""
    return [check_schema(sample), check_answer_type(sample, subtask),
            *check_options(sample, state), *check_asks(sample, state),
            check_not_leaked(sample), check_media(sample, run_dir)]


def _media_for_prompt(sample: BenchmarkSample, state: SampleState | None) -> list[dict[str, str]]:
    texts = state.media_text if state is not None else {}
    return [{"kind": m.kind.value, "path": m.path, "text": texts.get(m.path, "")}
            for m in sample.media]


V = TypeVar("V", bound=BaseModel)


def _ask(client: ModelClient, prompt: str, schema: type[V], seed: int) -> V | CheckResult:
    """The verifier's verdict, or (traced as a fallback) a passed check saying it was skipped
    because the output stayed invalid."""
    return ask_or_fallback(client, "verifier", lambda c: c.generate(
        [{"role": "user", "content": prompt}], schema, role="verifier", seed=seed,
        max_tokens=256), lambda reason: CheckResult(
            check="", passed=True, reason=f"skipped: verifier output stayed invalid ({reason})"))


def _skipped(check: str, result: CheckResult) -> CheckResult:
    return result.model_copy(update={"check": check})


def semantic_check(client: ModelClient, sample: BenchmarkSample, seed: int,
                   state: SampleState | None = None, source: str = "",
                   subtask: Subtask | None = None) -> CheckResult:
    """The verifier's judgement of the item, its reason kept whether it passes or not. With
    `state`, the text its generated media show or say is part of the prompt, so content moved
    into an image or clip is still judged. With `source` (the sample it was made from, given
    when a model rewrote it) the verifier also judges whether the item is faithful to it; with
    `subtask`, whether the item tests that subtask."""
    prompt = render("verify_user.j2", instruction=sample.instruction, context=sample.context,
                    question=sample.question, options=sample.options, answer=sample.answer,
                    media=_media_for_prompt(sample, state), source=source,
                    subtask=subtask)
    verdict = _ask(client, prompt, FaithfulVerdict if source else SemanticVerdict, seed)
    if isinstance(verdict, CheckResult):
        return _skipped("semantic", verdict)
    reason = verdict.reason
    if isinstance(verdict, FaithfulVerdict) and not verdict.faithful:
        return _check("semantic", False, f"not faithful to its source: {reason}"[:400])
    if subtask is not None and not verdict.tests_subtask:
        return _check("semantic", False,
                      f"does not test its subtask {subtask.name!r}: {reason}"[:400])
    if not (verdict.answerable and verdict.answer_correct):
        return _check("semantic", False, reason or "the verifier judged the item unsound")
    return CheckResult(check="semantic", passed=True, reason=reason)


# ---------------------------------------------------------------- blind check


def target_modalities(subtask: Subtask) -> list[Modality]:
    """The non-text modalities the subtask's items must depend on."""
    return [m for m in subtask.modalities if m in _TARGETS]


def _readings(answer: str, options: list[str]) -> set[str]:
    """What a reply can mean: itself, "B. Rome" as "Rome", and a bare letter as its option."""
    text = normalize(answer)
    readings = {text}
    lettered = _LETTERED.match(text)
    if lettered and options:
        readings.add(lettered.group(2))
    if len(text) == 1 and text.isalpha() and ord(text) - ord("a") < len(options):
        readings.add(normalize(options[ord(text) - ord("a")]))
    return readings


def _is_gold(answer: str, sample: BenchmarkSample, state: SampleState | None) -> bool:
    golds = {normalize(a) for a in [sample.answer, *(state.answer_aliases if state else [])]}
    options = [normalize(o) for o in sample.options]
    readings = _readings(answer, sample.options)
    if normalize(answer) in options:  # an option literally named "a" stays itself
        readings = {normalize(answer)}
    return bool(readings & (golds - {""}))


def _gold_in_text(sample: BenchmarkSample) -> bool:
    answer = normalize(sample.answer)
    text = f" {normalize(sample.question)} {normalize(sample.context)} "
    if len(answer) < 3 or sample.answer_type == AnswerType.yes_no or f" {answer} " not in text:
        return False
    others = [normalize(o) for o in sample.options if normalize(o) != answer]
    return not (others and all(f" {o} " in text for o in others))


def _repeated_media(sample: BenchmarkSample, state: SampleState | None) -> str | None:
    """The first medium whose every line the item's text already holds."""
    if state is None:
        return None
    fields = [sample.question, sample.context, *sample.options]
    haystack = " | ".join(f" {normalize_reading(f)} " for f in fields)
    for media in sample.media:
        lines = [normalize_reading(line).removeprefix("question ")
                 for line in state.media_text.get(media.path, "").splitlines()]
        lines = [line for line in lines if line]
        if sum(map(len, lines)) >= 8 and all(f" {line} " in haystack for line in lines):
            return media.path
    return None


def blind_rules(sample: BenchmarkSample, state: SampleState | None,
                targets: list[Modality]) -> CheckResult:
    """The blind check without a model: the text must not give away what the media carry."""
    names = " or ".join(m.value for m in targets)
    kinds = {m.kind for m in sample.media}
    if not kinds & set(targets):
        return _check("blind", False, f"answerable without its {names}: the item has no {names}")
    if _gold_in_text(sample):
        return _check("blind", False,
                      f"answerable without its {names}: the text gives the gold answer")
    repeated = _repeated_media(sample, state)
    if repeated is not None:
        return _check("blind", False,
                      f"answerable without its {names}: the text repeats what {repeated} holds")
    return _check("blind", True)


def blind_check(sample: BenchmarkSample, state: SampleState | None, subtask: Subtask,
                verifier: ModelClient | None, seed: int) -> CheckResult:
    """Rejects an image/audio item that can be answered from its text alone."""
    targets = target_modalities(subtask)
    if not targets:
        return CheckResult(check="blind", passed=True, reason="text-only subtask")
    rules = blind_rules(sample, state, targets)
    if verifier is None or not rules.passed:
        return rules
    names = " or ".join(m.value for m in targets)
    prompt = render("blind_user.j2", modalities=names, instruction=sample.instruction,
                    context=sample.context, question=sample.question, options=sample.options)
    verdict = _ask(verifier, prompt, BlindVerdict, seed)
    if isinstance(verdict, CheckResult):
        return _skipped("blind", verdict)
    if _is_gold(verdict.answer, sample, state):
        return _check("blind", False, f"answerable without its {names}: shown only the text, "
                                      f"the verifier answered {verdict.answer!r} "
                                      f"({verdict.reason})"[:400])
    return CheckResult(check="blind", passed=True,
                       reason=f"without its {names} the verifier answered {verdict.answer!r}")


# ---------------------------------------------------------------- all layers


def verify_sample(sample: BenchmarkSample, state: SampleState, subtask: Subtask, run_dir: Path,
                  verifier: ModelClient | None, seed: int,
                  layers: VerifyLayers, source: str = "") -> list[CheckResult]:
    """Every enabled layer's checks, cheapest first, up to the first layer that rejects."""
    checks = (rule_checks(sample, subtask, run_dir, state) if layers.rules
              else [check_schema(sample)])
    stages: list[Callable[[], list[CheckResult]]] = []
    if layers.readback:
        stages.append(lambda: readback_checks(state, run_dir, layers.thresholds))
    if layers.blind and target_modalities(subtask):
        stages.append(lambda: [blind_check(sample, state, subtask, verifier, seed)])
    if layers.semantic and verifier is not None:
        stages.append(lambda: [semantic_check(verifier, sample, seed, state, source, subtask)])
    for stage in stages:
        if not all(c.passed for c in checks):
            break
        checks += stage()
    return checks
