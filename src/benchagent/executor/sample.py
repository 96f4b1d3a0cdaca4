"""One candidate: source sample → operators → benchmark sample → verification → outcome."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchagent.executor.itemtext import (
    implied_statement,
    item_instruction,
    spell_out_codes,
    spelled_space,
    states_own_format,
)
from benchagent.executor.option_rules import one_right_option
from benchagent.executor.sample_plan import SamplePolicy, plan_sample
from benchagent.executor.steps import run_plan
from benchagent.executor.verify import VerifyLayers, verify_sample
from benchagent.models import ModelClient
from benchagent.operators import REGISTRY, OpContext, OperatorError, SampleState
from benchagent.records import (
    AnswerType,
    BenchmarkSample,
    CheckResult,
    DatasetCard,
    Grounding,
    Media,
    Modality,
    PlanStep,
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
    executor: ModelClient | None = None
    sample_policy: SamplePolicy = "rules"
    layers: VerifyLayers = field(default_factory=VerifyLayers.full)
    siblings: Callable[[int], list[SourceSample]] | None = None
    unsaid_task: str = ""  # the card's task, for a dataset that leaves its question unsaid


def outcome_key(subtask: str, dataset_id: str, source_id: str) -> str:
    return f"{subtask}|{dataset_id}|{source_id}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "subtask"


def initial_state(source: SourceSample, job: PairJob) -> SampleState:
    """The item as its dataset words it: the dataset's task statement and the subtask's answer
    format as the instruction (a task statement with nothing else to ask about is the
    question), option codes spelled out, one right option."""
    question, context, statement = source.question, source.context, source.instruction
    if not context and source.dialog:
        context = "\n".join(source.dialog)
    from_dialog = not question and not source.context and bool(source.dialog)
    if not question:  # datasets whose only text is the context (masked dialogues, say)
        question, context = (context, "") if context else (statement, "")
        statement = statement if question != statement else ""
    if not statement.strip():
        statement = implied_statement(f"{context}\n{question}", from_dialog) or job.unsaid_task
    options, answer, aliases = spell_out_codes(list(source.options), source.answer,
                                               list(source.answer_aliases), job.answer_space)
    options = one_right_option(options, answer, aliases)
    return SampleState(question=question, context=context, options=options, answer=answer,
                       answer_aliases=aliases, answer_type=job.card.answer_type,
                       instruction=item_instruction(statement, _answer_format(job, question),
                                                    question),
                       images=list(source.images), audio=list(source.audio),
                       dialog=list(source.dialog))


def _answer_format(job: PairJob, question: str) -> str:
    """The subtask's answer format, unless a free-form question says its own."""
    free = {job.card.answer_type, job.subtask.answer_type} <= {AnswerType.free_form,
                                                                AnswerType.short_text}
    return "" if free and states_own_format(question) else job.instruction


def _to_sample(state: SampleState, source: SourceSample, job: PairJob, key: str,
               applied: list[PlanStep], planned_by: str) -> BenchmarkSample:
    media = [Media(kind=Modality.image, path=p) for p in state.images]
    media += [Media(kind=Modality.audio, path=p) for p in state.audio]
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return BenchmarkSample(
        id=f"{_slug(job.subtask.name)}-{digest}", subtask=job.subtask.name,
        instruction=state.instruction, question=state.question, context=state.context,
        options=state.options, answer=state.answer, answer_type=state.answer_type, media=media,
        provenance=Provenance(source_dataset=job.card.id, source_dataset_name=job.card.name,
                              source_id=source.source_id, license=job.card.license,
                              operators=applied, models=job.models_used,
                              sample_plan=planned_by, media_text=state.media_text),
    )


def _source_if_rewritten(source: SourceSample, applied: list[PlanStep]) -> str:
    """The source's text when a model operator rewrote the item, for the faithfulness check."""
    if not any(REGISTRY[s.operator].calls_model for s in applied if s.operator in REGISTRY):
        return ""
    parts = [source.context, "\n".join(source.dialog), source.question,
             f"Answer: {source.answer}"]
    return "\n".join(p for p in parts if p)


def _rng(job: PairJob, key: str) -> random.Random:
    digest = hashlib.sha256(f"{job.seed}|{key}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def process_candidate(source: SourceSample, rank: int, job: PairJob) -> SampleOutcome:
    key = outcome_key(job.subtask.name, job.card.id, source.source_id)
    rng = _rng(job, key)
    ctx = OpContext(source=source, card=job.card, answer_space=spelled_space(job.answer_space),
                    rng=rng, run_dir=job.run_dir, model=job.executor, siblings=job.siblings)
    base = {"key": key, "subtask": job.subtask.name, "dataset_id": job.card.id,
            "source_id": source.source_id, "rank": rank}
    state = initial_state(source, job)
    plan = job.grounding.plan
    try:
        planned, planned_by = plan_sample(job.sample_policy, plan, state, job.subtask,
                                          job.executor, rng, job.seed)
        state, applied, notes = run_plan(planned, plan, state, ctx, f"{job.seed}|{key}")
        sample = _to_sample(state, source, job, key, applied, planned_by)
    except (OperatorError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        return SampleOutcome(**base, accepted=False,
                             checks=[CheckResult(check="transform", passed=False, reason=reason)])
    checks = [CheckResult(check="transform", passed=True, reason=n) for n in notes]
    checks += verify_sample(sample, state, job.subtask, job.run_dir, job.verifier, job.seed,
                            job.layers, _source_if_rewritten(source, applied))
    accepted = all(c.passed for c in checks)
    return SampleOutcome(**base, accepted=accepted, sample=sample, checks=checks)
