"""One candidate: source sample → operators → benchmark sample → verification → outcome."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from benchagent.executor.verify import rule_checks, semantic_check
from benchagent.models import ModelClient
from benchagent.operators import OpContext, OperatorError, SampleState, get_operator
from benchagent.records import (
    BenchmarkSample,
    CheckResult,
    DatasetCard,
    Grounding,
    Media,
    Modality,
    Provenance,
    SampleOutcome,
    SourceSample,
    Subtask,
)


@dataclass
class PairJob:
    """What every candidate of one (subtask, dataset) pair shares."""

    subtask: Subtask
    grounding: Grounding
    card: DatasetCard
    answer_space: list[str]
    instruction: str
    run_dir: Path
    seed: int
    verifier: ModelClient | None
    models_used: list[str]


def outcome_key(subtask: str, dataset_id: str, source_id: str) -> str:
    return f"{subtask}|{dataset_id}|{source_id}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "subtask"


def initial_state(source: SourceSample, job: PairJob) -> SampleState:
    question, context = source.question, source.context
    if not context and source.dialog:
        context = "\n".join(source.dialog)
    if not question:  # datasets whose only text is the context (masked dialogues, say)
        question, context = (context, "") if context else (source.instruction, "")
    return SampleState(question=question, context=context, options=list(source.options),
                       answer=source.answer, answer_aliases=list(source.answer_aliases),
                       answer_type=job.card.answer_type, instruction=job.instruction,
                       images=list(source.images), audio=list(source.audio),
                       dialog=list(source.dialog))


def _to_sample(state: SampleState, source: SourceSample, job: PairJob, key: str) -> BenchmarkSample:
    media = [Media(kind=Modality.image, path=p) for p in state.images]
    media += [Media(kind=Modality.audio, path=p) for p in state.audio]
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return BenchmarkSample(
        id=f"{_slug(job.subtask.name)}-{digest}", subtask=job.subtask.name,
        instruction=state.instruction, question=state.question, context=state.context,
        options=state.options, answer=state.answer, answer_type=state.answer_type, media=media,
        provenance=Provenance(source_dataset=job.card.id, source_dataset_name=job.card.name,
                              source_id=source.source_id, license=job.card.license,
                              operators=job.grounding.plan, models=job.models_used),
    )


def process_candidate(source: SourceSample, rank: int, job: PairJob) -> SampleOutcome:
    key = outcome_key(job.subtask.name, job.card.id, source.source_id)
    rng = random.Random(int.from_bytes(hashlib.sha256(f"{job.seed}|{key}".encode()).digest()[:8],
                                       "big"))
    ctx = OpContext(source=source, card=job.card, answer_space=job.answer_space, rng=rng,
                    run_dir=job.run_dir)
    base = {"key": key, "subtask": job.subtask.name, "dataset_id": job.card.id,
            "source_id": source.source_id, "rank": rank}
    state = initial_state(source, job)
    try:
        for step in job.grounding.plan:
            state = get_operator(step.operator).fn(state, ctx, step.args)
        sample = _to_sample(state, source, job, key)
    except (OperatorError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        return SampleOutcome(**base, accepted=False,
                             checks=[CheckResult(check="transform", passed=False, reason=reason)])
    checks = rule_checks(sample, job.subtask, job.run_dir)
    if all(c.passed for c in checks) and job.verifier is not None:
        checks.append(semantic_check(job.verifier, sample, job.seed))
    accepted = all(c.passed for c in checks)
    return SampleOutcome(**base, accepted=accepted, sample=sample, checks=checks)
