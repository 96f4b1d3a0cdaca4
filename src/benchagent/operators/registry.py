"""The operator registry: typed transformations of a sample's state, and plan type-checking."""

from __future__ import annotations

import copy
import dataclasses
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from benchagent.errors import BenchagentError
from benchagent.operators.args import OperatorArgs, arg_summaries, args_schema, problems_of
from benchagent.records import AnswerType, DatasetCard, FieldRole, PlanStep, SourceSample

if TYPE_CHECKING:
    from benchagent.models import ModelClient


class SampleState(BaseModel):
    """A sample on its way from source to benchmark; operators read and update it."""

    question: str = ""
    context: str = ""
    options: list[str] = Field(default_factory=list)
    answer: str = ""
    answer_aliases: list[str] = Field(default_factory=list)
    answer_type: AnswerType = AnswerType.free_form
    instruction: str = ""
    images: list[str] = Field(default_factory=list)  # relative to the run directory once attached
    audio: list[str] = Field(default_factory=list)
    dialog: list[str] = Field(default_factory=list)
    # For read-back: media path -> the text the image shows or the clip says.
    media_text: dict[str, str] = Field(default_factory=dict)
    # Media paths that were deliberately degraded or mixed with noise (looser read-back).
    degraded: list[str] = Field(default_factory=list)

    def roles(self) -> set[FieldRole]:
        present = {
            FieldRole.question: bool(self.question), FieldRole.context: bool(self.context),
            FieldRole.options: bool(self.options), FieldRole.answer: bool(self.answer),
            FieldRole.image: bool(self.images), FieldRole.audio: bool(self.audio),
            FieldRole.dialog: bool(self.dialog), FieldRole.instruction: bool(self.instruction),
        }
        return {role for role, ok in present.items() if ok}


@dataclass
class OpContext:
    """What an operator may use besides the state: the source, its dataset, a seeded rng."""

    source: SourceSample
    card: DatasetCard
    answer_space: list[str]
    rng: random.Random
    run_dir: Path
    source_root: Path | None = None
    model: ModelClient | None = None  # the executor's model, for operators that call one
    # Other source samples of the same dataset, never used elsewhere (compose_items).
    siblings: Callable[[int], list[SourceSample]] | None = None

    def resolve(self, path: str) -> Path:
        """A media path of the state as a file: absolute (source) or relative to the run."""
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.run_dir / candidate

    def require_model(self, operator: str) -> ModelClient:
        if self.model is None:
            raise OperatorError(f"{operator} calls a model, and no executor model is set "
                                f"(--model or --role executor=...)")
        return self.model


class OperatorError(BenchagentError):
    """An operator could not transform this sample; the sample is rejected with this reason."""


A = TypeVar("A", bound=OperatorArgs)


@dataclass(frozen=True)
class Traits:
    """What planners need to know of an operator besides its types and arguments."""

    lossy: float = 0.0  # share of the source's signal it costs (plan scoring)
    optional: bool = False  # the rules sample planner skips it for about a third of the items
    adaptable: bool = False  # its arguments are worth choosing per sample


@dataclass(frozen=True)
class Operator(Generic[A]):
    """A registered transformation. `fn` gets the validated arguments; `vary`, when set, is how
    the rules sample planner varies them per sample (drawing from the rng it is given)."""

    name: str
    description: str
    requires: frozenset[FieldRole]
    produces: frozenset[FieldRole]
    fn: Callable[[SampleState, OpContext, A], SampleState]
    args: type[A]
    traits: Traits = Traits()
    vary: Callable[[A, random.Random], A] | None = None
    calls_model: bool = False
    cost_class: Literal["cheap", "cpu", "model"] = "cheap"

    def parse_args(self, raw: Mapping[str, Any]) -> A:
        """`raw` as this operator's arguments; OperatorError naming each argument that is wrong."""
        try:
            return self.args.model_validate(dict(raw))
        except ValidationError as exc:
            reasons = "; ".join(reason for _, reason in problems_of(self.args, exc))
            raise OperatorError(f"{self.name}: {reasons}") from None

    def run(self, state: SampleState, ctx: OpContext, raw: Mapping[str, Any]) -> SampleState:
        return self.fn(state, ctx, self.parse_args(raw))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "requires": sorted(r.value for r in self.requires),
                "produces": sorted(r.value for r in self.produces),
                "args": arg_summaries(self.args),
                "args_schema": copy.deepcopy(args_schema(self.args)),
                "traits": {**dataclasses.asdict(self.traits), "varied": self.vary is not None},
                "calls_model": self.calls_model, "cost_class": self.cost_class}


REGISTRY: dict[str, Operator[Any]] = {}


def register(op: Operator[A]) -> Operator[A]:
    REGISTRY[op.name] = op
    return op


def unregister(name: str) -> None:
    REGISTRY.pop(name, None)


def get_operator(name: str) -> Operator[Any]:
    try:
        return REGISTRY[name]
    except KeyError:
        raise OperatorError(f"unknown operator {name!r}") from None


def type_check(plan: list[PlanStep], available: set[FieldRole],
               needed: set[FieldRole]) -> list[str]:
    """Reasons the plan does not type-check (empty when it does)."""
    problems: list[str] = []
    have = set(available)
    for i, step in enumerate(plan):
        op = REGISTRY.get(step.operator)
        if op is None:
            problems.append(f"step {i + 1}: unknown operator {step.operator!r}")
            continue
        missing = op.requires - have
        if missing:
            names = ", ".join(sorted(m.value for m in missing))
            problems.append(f"step {i + 1} ({op.name}): needs {names}, not present at this step")
        have |= op.produces
    lacking = needed - have
    if lacking:
        problems.append("end state lacks " + ", ".join(sorted(m.value for m in lacking)))
    return problems
