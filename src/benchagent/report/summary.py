"""Everything the report shows, gathered from the run directory into a `ReportSummary`: the
request and the plan, the benchmark's distributions, the rejections, and, when their files are
there, the eval and the judge."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from benchagent.errors import BenchagentError, UserError
from benchagent.evaluation import SUMMARY as EVAL_SUMMARY
from benchagent.records import (
    Allocation,
    BenchmarkSample,
    Grounding,
    PlanStep,
    RejectedPlan,
    SampleOutcome,
    Subtask,
)
from benchagent.report.judge import judge_tables
from benchagent.report.records import (
    CheckRejections,
    Distributions,
    EvalPart,
    GalleryPart,
    JudgeTable,
    PlannedPair,
    PlannedSubtask,
    PlanPart,
    ReasonCount,
    Rejections,
    ReportSummary,
)
from benchagent.report.usage import usage_part
from benchagent.review import review_summary
from benchagent.stages.estimate import estimate_vs_spent
from benchagent.stages.paths import (
    ACCEPTED,
    ALLOCATION,
    BENCHMARK,
    GROUNDINGS,
    JUDGE_SUMMARY,
    REJECTED,
    REJECTED_PLANS,
    SUBTASKS,
)
from benchagent.store import Manifest, RunError, read_jsonl

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
REASONS_SHOWN = 3  # per check, the most frequent reasons


@dataclass(frozen=True)
class RunFiles:
    """The records of one run that the report reads."""

    root: Path
    manifest: Manifest
    subtasks: list[Subtask]
    groundings: list[Grounding]
    allocation: Allocation | None
    rejected_plans: list[RejectedPlan]
    samples: list[BenchmarkSample]
    outcomes: list[SampleOutcome]  # accepted and rejected candidates

    def dataset_names(self) -> dict[str, str]:
        names = {smp.provenance.source_dataset: smp.provenance.source_dataset_name
                 for o in self.outcomes if (smp := o.sample) is not None}
        names.update({s.provenance.source_dataset: s.provenance.source_dataset_name
                      for s in self.samples})
        return names


def _validated(path: Path, adapter: TypeAdapter[T], data: object) -> T:
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "root"
        raise RunError(f"{path} is not a valid run file: {where}: {first['msg']}") from exc


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise RunError(f"cannot read {path}: {exc}") from exc


def _list(root: Path, rel: str, kind: type[M]) -> list[M]:
    path = root / rel
    if not path.is_file():
        return []
    return _validated(path, TypeAdapter(list[kind]), _json(path))  # type: ignore[valid-type]


def _jsonl(root: Path, rel: str, kind: type[M]) -> list[M]:
    path = root / rel
    return _validated(path, TypeAdapter(list[kind]), read_jsonl(path))  # type: ignore[valid-type]


def read_run(root: Path, manifest: Manifest) -> RunFiles:
    if not (root / SUBTASKS).is_file():
        raise UserError(f"{root} has no plan yet: build it first (`benchagent resume {root}`)")
    allocation_path = root / ALLOCATION
    allocation = _validated(allocation_path, TypeAdapter(Allocation), _json(allocation_path)) \
        if allocation_path.is_file() else None
    return RunFiles(root=root, manifest=manifest, subtasks=_list(root, SUBTASKS, Subtask),
                    groundings=_list(root, GROUNDINGS, Grounding), allocation=allocation,
                    rejected_plans=_list(root, REJECTED_PLANS, RejectedPlan),
                    samples=_jsonl(root, BENCHMARK, BenchmarkSample),
                    outcomes=_jsonl(root, ACCEPTED, SampleOutcome)
                    + _jsonl(root, REJECTED, SampleOutcome))


# ---------------------------------------------------------------- the plan


def operator_chain(plan: Sequence[PlanStep]) -> str:
    def step(s: PlanStep) -> str:
        args = ", ".join(f"{k}={v}" for k, v in s.args.items())
        return f"{s.operator}({args})" if args else s.operator

    return " → ".join(step(s) for s in plan) or "(as the dataset is)"


def plan_part(run: RunFiles) -> PlanPart:
    names = run.dataset_names()
    quotas = {(q.subtask, q.dataset_id): q for q in run.allocation.quotas} \
        if run.allocation else {}
    subtasks = []
    for st in run.subtasks:
        pairs = [PlannedPair(dataset_id=g.dataset_id, dataset=names.get(g.dataset_id,
                                                                        g.dataset_id),
                             operators=operator_chain(g.plan), score=g.score,
                             planned_by=g.plan_by,
                             quota=q.quota if (q := quotas.get((st.name, g.dataset_id))) else 0,
                             capacity=q.capacity if q else 0)
                 for g in run.groundings if g.subtask == st.name]
        subtasks.append(PlannedSubtask(
            name=st.name, description=st.description, capability=st.capability,
            modalities=[m.value for m in st.modalities], answer_type=st.answer_type.value,
            difficulty=st.difficulty, pairs=pairs, quota=sum(p.quota for p in pairs)))
    return PlanPart(target_size=run.manifest.query.target_size,
                    allocated=sum(q.quota for q in quotas.values()), subtasks=subtasks,
                    notes=run.allocation.notes if run.allocation else [],
                    rejected_plans=len(run.rejected_plans))


# ---------------------------------------------------------------- the benchmark


def modality_mix(sample: BenchmarkSample) -> str:
    """The item's inputs: `text`, `text+image`, `text+audio`, `text+audio+image`, ..."""
    return "+".join(["text", *sorted({m.kind.value for m in sample.media})])


def _ordered(counts: Counter[str], first: Sequence[str] = ()) -> dict[str, int]:
    """`first` in its order, then the rest by count."""
    ordered = {name: counts[name] for name in first if counts[name]}
    rest = sorted((n for n in counts if n not in ordered), key=lambda n: (-counts[n], n))
    return {**ordered, **{n: counts[n] for n in rest}}


def distributions(run: RunFiles) -> Distributions:
    samples = run.samples
    return Distributions(
        subtasks=_ordered(Counter(s.subtask for s in samples), [st.name for st in run.subtasks]),
        datasets=_ordered(Counter(s.provenance.source_dataset_name for s in samples)),
        modalities=_ordered(Counter(modality_mix(s) for s in samples)),
        answer_types=_ordered(Counter(s.answer_type.value for s in samples)))


def rejections(run: RunFiles) -> Rejections:
    rejected = [o for o in run.outcomes if not o.accepted]
    by_check: dict[str, Counter[str]] = {}
    for outcome in rejected:
        failed = next((c for c in outcome.checks if not c.passed), None)
        check, reason = (failed.check, failed.reason) if failed else ("unrecorded", "")
        by_check.setdefault(check, Counter())[reason or "(no reason given)"] += 1
    rows = []
    for check, reasons in by_check.items():
        top = reasons.most_common(REASONS_SHOWN)
        total = sum(reasons.values())
        rows.append(CheckRejections(check=check, count=total,
                                    reasons=[ReasonCount(reason=r, count=n) for r, n in top],
                                    other_reasons=total - sum(n for _, n in top)))
    rows.sort(key=lambda r: (-r.count, r.check))
    return Rejections(candidates=len(run.outcomes), accepted=len(run.outcomes) - len(rejected),
                      rejected=len(rejected), by_check=rows)


# ---------------------------------------------------------------- eval and judge


def eval_part(root: Path) -> tuple[EvalPart | None, str]:
    """The eval's summary, or None and why (no eval yet, or a file that does not read)."""
    path = root / EVAL_SUMMARY
    if not path.is_file():
        return None, ""
    try:
        return EvalPart.model_validate(_json(path)), ""
    except (RunError, ValidationError) as exc:
        return None, f"{EVAL_SUMMARY} could not be read: {str(exc).splitlines()[0]}"


def judge_part(root: Path) -> tuple[list[JudgeTable] | None, str]:
    path = root / JUDGE_SUMMARY
    if not path.is_file():
        return None, ""
    try:
        return judge_tables(_json(path)), ""
    except RunError as exc:
        return None, str(exc)


def review_part(root: Path) -> tuple[list[JudgeTable] | None, str]:
    """The reviewers' acceptance rates, reasons and agreement, when someone reviewed."""
    try:
        summary = review_summary(root, write=False)
    except BenchagentError as exc:
        return None, f"the review could not be read: {str(exc).splitlines()[0]}"
    return (judge_tables(summary, "review"), "") if summary else (None, "")


def cost_part(root: Path) -> list[JudgeTable] | None:
    """The build's estimated model calls and cost per role beside what it spent."""
    compared = estimate_vs_spent(root)
    if compared["estimate"] is None and not compared["spent"]:
        return None
    return judge_tables({"total": compared["total"], "per role": compared["roles"]},
                        "estimate vs spent")


def gather(run: RunFiles, gallery_ids: Sequence[str]) -> ReportSummary:
    root, manifest = run.root, run.manifest
    evaluation, eval_note = eval_part(root)
    judge, judge_note = judge_part(root)
    review, review_note = review_part(root)
    return ReportSummary(
        run=str(root), created=manifest.created, query=manifest.query, models=manifest.models,
        items=len(run.samples), plan=plan_part(run), shortfall=manifest.shortfall,
        distributions=distributions(run), rejections=rejections(run), eval=evaluation,
        eval_note=eval_note, judge=judge, judge_note=judge_note, review=review,
        review_note=review_note, cost=cost_part(root),
        usage=usage_part(root, manifest, len(run.samples)),
        gallery=GalleryPart(shown=list(gallery_ids), total=len(run.samples)))
