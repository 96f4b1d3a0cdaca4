"""Typed records that every stage reads and writes (DESIGN.md, Records)."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Modality(StrEnum):
    text = "text"
    image = "image"
    audio = "audio"
    video = "video"  # no loader or operator provides it yet: requests for it are diagnosed


class AnswerType(StrEnum):
    multiple_choice = "multiple_choice"
    yes_no = "yes_no"
    number = "number"
    short_text = "short_text"
    free_form = "free_form"


class FieldRole(StrEnum):
    question = "question"
    context = "context"
    options = "options"
    answer = "answer"
    image = "image"
    audio = "audio"
    dialog = "dialog"
    id = "id"
    instruction = "instruction"
    other = "other"


MAX_QUERY_CHARS = 20_000  # a request longer than this is refused (README, Limits)
MAX_SLUG_CHARS = 60


def safe_slug(text: str, fallback: str = "query") -> str:
    """`text` as a name that is safe in a path: lowercase ASCII letters, digits and single
    dashes, at most MAX_SLUG_CHARS, never empty (so never `.` or `..`)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG_CHARS].strip("-") or fallback


class Query(Record):
    id: str
    description: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    target_size: int = Field(default=40, ge=1)

    @field_validator("description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the request is empty")
        return value

    @property
    def slug(self) -> str:
        """The id as a safe path component: where the run goes by default."""
        return safe_slug(self.id)


# ---------------------------------------------------------------- pool


class DatasetCard(Record):
    """What a dataset holds, in terms the planner can reason about."""

    id: str
    name: str
    format: Literal["general-bench", "bigbench", "starter", "jsonl", "csv", "parquet", "hf-disk",
                    "hf"]
    source: str  # path of the data file, as given to the pool
    description: str = ""
    tasks: list[str] = Field(default_factory=list)
    domain: str = ""
    modalities_in: list[Modality] = Field(default_factory=lambda: [Modality.text])
    modalities_out: list[Modality] = Field(default_factory=lambda: [Modality.text])
    fields: dict[FieldRole, str] = Field(default_factory=dict)  # role -> dotted path
    answer_type: AnswerType = AnswerType.free_form
    answer_vocab: list[str] = Field(default_factory=list)
    size: int = 0
    language: str = "en"
    license: str = ""
    citation: str = ""
    split: str = ""  # the source split (train / validation / test) when the source has splits
    # Character lengths of question + context (+ dialog turns) over the samples: mean, median,
    # p95. `language` is detected ("und" when undetermined) unless the source states it.
    text_stats: dict[str, float] = Field(default_factory=dict)
    answer_length_mean: float = 0.0  # characters
    num_options_mean: float = 0.0  # over all samples (0 when none has options)
    content_hash: str = ""  # the card-cache key: data bytes + mapping + loader version

    def search_text(self) -> str:
        roles = " ".join(r.value for r in self.fields)
        mods = " ".join(m.value for m in self.modalities_in)
        return " ".join(
            [self.name, self.name, self.description, " ".join(self.tasks), self.domain,
             self.answer_type.value.replace("_", " "), roles, mods]
        )


class SourceSample(Record):
    """One sample of a pool dataset, its fields resolved by role."""

    dataset_id: str
    source_id: str
    question: str = ""
    context: str = ""
    options: list[str] = Field(default_factory=list)
    answer: str = ""
    answer_aliases: list[str] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)  # absolute, already confined to the root
    audio: list[str] = Field(default_factory=list)
    dialog: list[str] = Field(default_factory=list)
    instruction: str = ""


# ---------------------------------------------------------------- planner


class Subtask(Record):
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1)
    capability: str = ""
    modalities: list[Modality] = Field(default_factory=lambda: [Modality.text])
    answer_type: AnswerType = AnswerType.multiple_choice
    difficulty: Literal["easy", "medium", "hard"] = "medium"


class PlanStep(Record):
    operator: str
    args: dict[str, Any] = Field(default_factory=dict)


class Grounding(Record):
    subtask: str
    dataset_id: str
    score: float
    reason: str
    plan: list[PlanStep]
    # alignment / robustness / signal_preservation, and the measured signals behind them
    scores: dict[str, float] = Field(default_factory=dict)
    plan_by: Literal["model", "rules"] = "rules"


class RejectedPlan(Record):
    """A (subtask, dataset) plan that did not type-check or score, with who proposed it."""

    subtask: str
    dataset: str
    reason: str
    by: Literal["model", "rules"] = "rules"
    plan: str | None = None  # the operator chain, "a → b", when there was one


class DesignStep(Record):
    """One step of the design loop, for plan/design_log.json and plan.md."""

    round: str = "0"
    op: str
    subtask: str
    reason: str
    by: str


class Quota(Record):
    subtask: str
    dataset_id: str
    quota: int = Field(ge=0)
    capacity: int = Field(ge=0)


class Allocation(Record):
    target_size: int
    quotas: list[Quota]
    notes: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- samples


class Media(Record):
    kind: Modality
    path: str  # relative to the run directory


class Provenance(Record):
    source_dataset: str
    source_dataset_name: str
    source_id: str
    license: str = ""
    operators: list[PlanStep] = Field(default_factory=list)  # as applied, with their arguments
    models: list[str] = Field(default_factory=list)
    sample_plan: str = ""  # who set the step arguments: model, rules or dataset (as planned)
    media_text: dict[str, str] = Field(default_factory=dict)  # what each image shows / clip says


class BenchmarkSample(Record):
    id: str
    subtask: str
    instruction: str = ""
    question: str
    context: str = ""
    options: list[str] = Field(default_factory=list)
    answer: str
    answer_type: AnswerType
    media: list[Media] = Field(default_factory=list)
    provenance: Provenance


class Shortfall(Record):
    """A (subtask, dataset) pair that ended with fewer verified items than its quota."""

    subtask: str
    dataset_id: str
    quota: int
    accepted: int
    missing: int
    cause: str


class CheckResult(Record):
    check: str
    passed: bool
    reason: str = ""


class SampleOutcome(Record):
    """One processed candidate: accepted or rejected, with every check it went through."""

    key: str  # subtask|dataset|source_id: never processed twice
    subtask: str
    dataset_id: str
    source_id: str
    rank: int  # position of the source sample in the pair's candidate order
    accepted: bool
    sample: BenchmarkSample | None = None
    checks: list[CheckResult] = Field(default_factory=list)


class WorkerUsage(Record):
    """What one worker of the executor backend did: tasks run and seconds spent on them."""

    tasks: int = 0
    busy_s: float = 0.0  # the tasks' wall time
    cpu_s: float = 0.0  # their CPU time (of the worker process; a driver thread's own only)


class ExecutorUsage(Record):
    """Where the CPU operators and read-back of the last execution ran, and how fast."""

    backend: Literal["local", "ray"] = "local"
    workers: int = 0  # tasks that could run at once
    address: str = ""  # the Ray cluster's, when it ran on one
    tasks: int = 0
    wall_s: float = 0.0  # the execution stage's seconds
    driver_cpu_s: float = 0.0  # the build process's own CPU seconds in them (checks, writes)
    per_worker: dict[str, WorkerUsage] = Field(default_factory=dict)  # "node/pid N" -> usage

    def throughput(self) -> dict[str, float]:
        """Tasks per second of the execution's wall time, per worker."""
        wall = max(self.wall_s, 1e-9)
        return {name: round(w.tasks / wall, 3) for name, w in self.per_worker.items()}
