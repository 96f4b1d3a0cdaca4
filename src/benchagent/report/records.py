"""The typed content of report/summary.json: what the report shows, without its media and plots.

The eval and judge parts are read from files other commands write; their records ignore fields
they do not know, so that a newer eval or judge does not stop the report."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from benchagent.records import Query, Shortfall

REPORT_VERSION = 1


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Read(BaseModel):
    """A record read from another command's file: unknown fields are left out."""

    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------- the plan


class PlannedPair(Part):
    dataset_id: str
    dataset: str  # the dataset's name where the run names it, else its id
    operators: str  # the chain, "a(x=1) → b"
    score: float
    planned_by: str
    quota: int = 0
    capacity: int = 0


class PlannedSubtask(Part):
    name: str
    description: str
    capability: str
    modalities: list[str]
    answer_type: str
    difficulty: str
    pairs: list[PlannedPair]
    quota: int  # over its pairs


class PlanPart(Part):
    target_size: int
    allocated: int
    subtasks: list[PlannedSubtask]
    notes: list[str] = Field(default_factory=list)
    rejected_plans: int = 0  # (subtask, dataset) plans that did not type-check or score


# ---------------------------------------------------------------- the benchmark


class Distributions(Part):
    """Items per subtask, dataset, modality mix and answer type (counts add up to the items)."""

    subtasks: dict[str, int]
    datasets: dict[str, int]
    modalities: dict[str, int]
    answer_types: dict[str, int]


class ReasonCount(Part):
    reason: str
    count: int


class CheckRejections(Part):
    check: str
    count: int
    reasons: list[ReasonCount]  # the most frequent first
    other_reasons: int = 0  # rejections for reasons not listed


class Rejections(Part):
    """Every candidate rejected, counted by the first check it failed."""

    candidates: int
    accepted: int
    rejected: int
    by_check: list[CheckRejections]


# ---------------------------------------------------------------- eval (eval/summary.json)


class Tally(Read):
    items: int = 0
    correct: int = 0
    wrong: int = 0
    unscored: int = 0
    unsupported: int = 0
    accuracy: float | None = None
    ci95: tuple[float, float] | None = None


class ModelScores(Tally):
    model: str
    subtasks: dict[str, Tally] = Field(default_factory=dict)
    media_items: dict[str, Tally] = Field(default_factory=dict)  # with_media, blind


class ItemRow(Read):
    item: str
    subtask: str = ""
    models_scored: int = 0
    difficulty: float | None = None  # the share of models right
    discrimination: float | None = None
    saturated: bool = False
    dead: bool = False
    blind_models: int = 0
    blind_right: int = 0
    blind_solvable: bool = False


class Ladder(Read):
    order: list[str] = Field(default_factory=list)
    kendall_tau: float | None = None
    monotonic_steps: float | None = None
    monotonic: bool | None = None


class Blind(Read):
    items: int = 0
    solvable: list[str] = Field(default_factory=list)


class EvalPart(Read):
    items: int = 0
    judge: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    models: list[ModelScores] = Field(default_factory=list)
    separability: float | None = None
    ladder: Ladder | None = None
    saturated: list[str] = Field(default_factory=list)
    dead: list[str] = Field(default_factory=list)
    blind: Blind = Field(default_factory=Blind)
    per_item: list[ItemRow] = Field(default_factory=list)


# ---------------------------------------------------------------- judge (judge/summary.json)


class JudgeRow(Part):
    name: str
    value: str


class JudgeTable(Part):
    title: str
    rows: list[JudgeRow]


# ---------------------------------------------------------------- usage (trace.jsonl)


class RoleUsage(Part):
    role: str
    models: list[str]
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    cost_usd: float | None = None  # None: no price is known for the role's models
    repairs: int = 0
    fallbacks: int = 0


class StageTime(Part):
    stage: str
    status: str
    seconds: float | None = None


class PerItem(Part):
    """The build's model usage divided over the benchmark's items."""

    calls: float
    tokens: float
    model_seconds: float  # time spent waiting for models
    wall_seconds: float | None  # the build's stages, start to finish
    cost_usd: float | None = None


class UsagePart(Part):
    roles: list[RoleUsage]
    build: RoleUsage  # the build's roles added up
    per_item: PerItem | None = None  # None for an empty benchmark
    stages: list[StageTime]


# ---------------------------------------------------------------- the whole


class GalleryPart(Part):
    shown: list[str]  # item ids, in the order shown
    total: int


class ReportSummary(Part):
    version: int = REPORT_VERSION
    run: str
    created: str
    query: Query
    models: dict[str, str]  # role -> model label, or "rules"
    items: int
    plan: PlanPart
    shortfall: list[Shortfall] = Field(default_factory=list)
    distributions: Distributions
    rejections: Rejections
    eval: EvalPart | None = None
    eval_note: str = ""  # why the eval part is missing, when eval/summary.json cannot be read
    judge: list[JudgeTable] | None = None
    judge_note: str = ""
    review: list[JudgeTable] | None = None  # review/: acceptance, reasons, agreement
    review_note: str = ""
    cost: list[JudgeTable] | None = None  # plan/estimate.json beside what the build spent
    usage: UsagePart
    gallery: GalleryPart
