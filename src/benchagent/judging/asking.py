"""Asking one judge about one item (with its image or audio when the judge takes them, from
the text and the build's record of the media when it does not) or about the benchmark as a
whole."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchagent.evaluation import item_text
from benchagent.evaluation.prompt import media_part
from benchagent.evaluation.scoring import LETTERS
from benchagent.judging.records import (
    QUALITY_ROLE,
    BenchmarkVerdict,
    ItemVerdict,
    JudgeScore,
)
from benchagent.models import InputRejectedError, Message, ModelClient, ask_or_fallback
from benchagent.prompts import render
from benchagent.records import BenchmarkSample, Modality, Subtask
from benchagent.store import file_hash, hash_of

ITEM_TOKENS = 1200
BENCHMARK_TOKENS = 400
EXAMPLES_PER_SUBTASK = 3
MAX_EXAMPLES = 24
_SEEN = (Modality.image, Modality.audio)


@dataclass(frozen=True)
class JudgeModel:
    name: str  # as the user gave it: the rows' and the summary's name for the judge
    client: ModelClient


@dataclass(frozen=True)
class JudgeContext:
    run_dir: Path
    request: str
    subtasks: dict[str, Subtask]
    seed: int


def subtask_of(ctx: JudgeContext, sample: BenchmarkSample) -> Subtask:
    """The item's planned subtask; one named in the item but missing from the plan is
    described by its name."""
    return ctx.subtasks.get(sample.subtask) or Subtask(name=sample.subtask[:80] or "unnamed",
                                                       description=sample.subtask or "unnamed",
                                                       answer_type=sample.answer_type)


def _item_prompt(ctx: JudgeContext, sample: BenchmarkSample, media_note: str) -> str:
    subtask = subtask_of(ctx, sample)
    recorded = sample.provenance.media_text
    media = [{"kind": m.kind.value, "path": m.path, "recorded": recorded.get(m.path, "")}
             for m in sample.media if m.kind in _SEEN]
    options = [f"{LETTERS[i]}. {o}" for i, o in enumerate(sample.options[:26])]
    kinds = sorted({m["kind"] for m in media})
    signal = f"the {' and the '.join(kinds)}" if kinds else \
        "the context and the reasoning the question asks for"
    return render("judge_item.j2", request=ctx.request, subtask=subtask, signal=signal,
                  answer_type=sample.answer_type.value, instruction=sample.instruction.strip(),
                  context=sample.context.strip(), question=sample.question.strip(),
                  options=options, answer=sample.answer, media=media, media_note=media_note)


def item_key(judge: JudgeModel, ctx: JudgeContext, sample: BenchmarkSample) -> str:
    media = [(m.path, file_hash(ctx.run_dir / m.path)) for m in sample.media if m.kind in _SEEN]
    return hash_of(judge.client.provider.spec, "item", _item_prompt(ctx, sample, ""), media)


def _verdict(client: ModelClient, messages: list[Message], seed: int) -> ItemVerdict | str:
    """The verdict, or why there is none (the output stayed invalid; traced as a fallback)."""
    return ask_or_fallback(
        client, QUALITY_ROLE,
        lambda c: c.generate(messages, ItemVerdict, role=QUALITY_ROLE, max_tokens=ITEM_TOKENS,
                             seed=seed),
        lambda reason: reason.splitlines()[0] if reason else "no verdict")


def _row(judge: JudgeModel, sample: BenchmarkSample, key: str, verdict: ItemVerdict | str,
         saw_media: bool | None, note: str) -> JudgeScore:
    row = JudgeScore(key=key, judge=judge.name, item=sample.id, subtask=sample.subtask,
                     saw_media=saw_media, media_note=note)
    if isinstance(verdict, str):
        row.error = verdict
    else:
        row.scores, row.reasons = verdict.as_scores()
    return row


def judge_item(judge: JudgeModel, ctx: JudgeContext, sample: BenchmarkSample,
               key: str) -> JudgeScore:
    """One judge's scores for one item. A judge that refuses the media judges from the text;
    the row says it did not see the media, and why."""
    media = [m for m in sample.media if m.kind in _SEEN]
    text = _item_prompt(ctx, sample, "")
    if media:
        parts: list[dict[str, Any]] = [media_part(ctx.run_dir, m.kind, m.path) for m in media]
        try:
            verdict = _verdict(judge.client, [{"role": "user", "content": [
                *parts, {"type": "text", "text": text}]}], ctx.seed)
            return _row(judge, sample, key, verdict, True, "")
        except InputRejectedError as exc:
            note = str(exc).splitlines()[0] if str(exc) else "the model refused the media"
        text = _item_prompt(ctx, sample, note)
    else:
        note = ""
    try:
        verdict = _verdict(judge.client, [{"role": "user", "content": text}], ctx.seed)
    except InputRejectedError as exc:
        verdict = str(exc).splitlines()[0] if str(exc) else "the model refused the prompt"
    return _row(judge, sample, key, verdict, False if media else None, note)


# ---------------------------------------------------------------- the benchmark as a whole


def _modalities(samples: Sequence[BenchmarkSample]) -> str:
    kinds = Counter(m.kind.value for s in samples for m in s.media if m.kind in _SEEN)
    return ", ".join(f"{n} with {kind}" for kind, n in kinds.items()) or "text only"


def benchmark_prompt(ctx: JudgeContext, samples: Sequence[BenchmarkSample]) -> str:
    by_subtask: dict[str, list[BenchmarkSample]] = {}
    for sample in samples:
        by_subtask.setdefault(sample.subtask, []).append(sample)
    subtasks = [{"name": name, "count": len(mine), "modalities": _modalities(mine),
                 "answer_types": ", ".join(sorted({s.answer_type.value for s in mine})),
                 "description": subtask_of(ctx, mine[0]).description}
                for name, mine in by_subtask.items()]
    examples = [{"subtask": s.subtask, "text": item_text(s), "answer": s.answer}
                for mine in by_subtask.values() for s in mine[:EXAMPLES_PER_SUBTASK]]
    return render("judge_benchmark.j2", request=ctx.request, items=len(samples),
                  subtasks=subtasks, examples=examples[:MAX_EXAMPLES])


def benchmark_key(judge: JudgeModel, prompt: str) -> str:
    return hash_of(judge.client.provider.spec, "benchmark", prompt)


def judge_benchmark(judge: JudgeModel, ctx: JudgeContext, prompt: str, key: str) -> JudgeScore:
    """One judge's UIA for the benchmark as a whole, against the request."""
    row = JudgeScore(key=key, judge=judge.name, scope="benchmark")
    try:
        verdict = ask_or_fallback(
            judge.client, QUALITY_ROLE,
            lambda c: c.generate([{"role": "user", "content": prompt}], BenchmarkVerdict,
                                 role=QUALITY_ROLE, max_tokens=BENCHMARK_TOKENS, seed=ctx.seed),
            lambda reason: reason.splitlines()[0] if reason else "no verdict")
    except InputRejectedError as exc:
        verdict = str(exc).splitlines()[0] if str(exc) else "the model refused the prompt"
    if isinstance(verdict, str):
        row.error = verdict
    else:
        row.scores, row.reasons = {"UIA": verdict.uia.score}, {"UIA": verdict.uia.reason}
    return row
