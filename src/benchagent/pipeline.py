"""The build: each stage of DESIGN.md, skipped on resume when its inputs are unchanged."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, TypeAdapter

from benchagent.config import ROLES, Settings
from benchagent.exec_stage import BENCHMARK, ProgressFactory, run_benchmark, run_execution
from benchagent.models import RoleModels
from benchagent.plan_stage import run_planner
from benchagent.planner import PlanningError
from benchagent.pool import Pool
from benchagent.records import Query
from benchagent.store import RunStore, hash_of

__all__ = ["BENCHMARK", "BuildContext", "ProgressFactory", "run_build", "stage"]
T = TypeVar("T", bound=BaseModel)


@dataclass
class BuildContext:
    store: RunStore
    settings: Settings
    query: Query
    pool: Pool
    models: RoleModels

    @property
    def seed(self) -> int:
        return self.settings.seed

    def label(self, role: str) -> str:
        return self.models.labels().get(role, "rules")

    @functools.cached_property
    def fingerprint(self) -> str:
        return hash_of(sorted((c.id, c.size) for c in self.pool.cards))

    def dump(self, items: Sequence[BaseModel]) -> list[dict[str, Any]]:
        return [i.model_dump(mode="json") for i in items]

    def load_list(self, rel: str, kind: type[T]) -> list[T]:
        adapter = TypeAdapter(list[kind])  # type: ignore[valid-type]
        try:
            return adapter.validate_python(self.store.read_json(rel))
        except ValueError as exc:
            raise PlanningError(f"{self.store.path(rel)} is not a valid plan file: "
                                f"{str(exc).splitlines()[0]}") from exc


StageRun = Literal["skip", "fresh", "continue"]


@contextlib.contextmanager
def stage(ctx: BuildContext, name: str, input_hash: str) -> Iterator[StageRun]:
    """Whether the body should run: "skip" when the stage is done on these inputs, "continue"
    when earlier work on the same inputs was interrupted, else "fresh". Records the outcome."""
    if ctx.store.is_done(name, input_hash):
        yield "skip"
        return
    continuing = ctx.store.start(name, input_hash)
    try:
        yield "continue" if continuing else "fresh"
    except BaseException as exc:
        ctx.store.fail(name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    ctx.store.finish(name)


def run_build(ctx: BuildContext, progress: ProgressFactory, plan_only: bool = False) -> None:
    ctx.store.manifest["models"] = {role: ctx.label(role) for role in ROLES}
    try:
        run_planner(ctx)
        if not plan_only:
            run_execution(ctx, progress)
            run_benchmark(ctx)
    finally:
        ctx.store.manifest["usage"] = ctx.models.trace.totals()
        ctx.store.save()
