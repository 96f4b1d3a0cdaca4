"""The build engine: walks the stage table, skipping every stage whose inputs are unchanged.

A stage's key hashes the run files it reads and the settings that change its result. The key is
recorded when the stage finishes, from its inputs as it leaves them (grounding drops subtasks it
cannot serve from the file it read). When a stage rewrites files that an earlier stage reads
(allocation's feedback revises subtasks), the engine records that earlier stage's key anew: the
rewrite is part of the plan, not an edit that should rerun it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from benchagent.config import ROLES
from benchagent.stages.context import BuildContext
from benchagent.store import file_hash, hash_of
from benchagent.trace import UsageTotals

StageRun = Literal["fresh", "continue"]  # continue: earlier work on the same inputs was cut off


def _no_settings(ctx: BuildContext) -> tuple[Any, ...]:
    return ()


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[BuildContext, StageRun], None]
    inputs: tuple[str, ...] = ()  # run files whose content enters the key
    settings: Callable[[BuildContext], tuple[Any, ...]] = _no_settings  # the rest of the key
    outputs: tuple[str, ...] = field(default=())
    plan: bool = False  # part of the plan: runs under --plan-only, copied by --from-plan

    def key(self, ctx: BuildContext) -> str:
        return hash_of(*(file_hash(ctx.store.path(rel)) for rel in self.inputs),
                       *self.settings(ctx))


@contextlib.contextmanager
def _guard(ctx: BuildContext, stage: Stage, key: str) -> Iterator[StageRun]:
    continuing = ctx.store.start(stage.name, key)
    try:
        yield "continue" if continuing else "fresh"
    except BaseException as exc:
        ctx.store.fail(stage.name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise


def run_stage(ctx: BuildContext, stage: Stage, table: tuple[Stage, ...]) -> bool:
    """Run `stage` unless it is done on its current inputs; True when it ran."""
    key = stage.key(ctx)
    if ctx.store.is_done(stage.name, key):
        return False
    with _guard(ctx, stage, key) as mode:
        stage.run(ctx, mode)
    ctx.store.finish(stage.name, stage.key(ctx))
    for earlier in table[:table.index(stage)]:
        if set(earlier.inputs) & set(stage.outputs) and \
                ctx.store.stage(earlier.name).status == "done":
            ctx.store.rekey(earlier.name, earlier.key(ctx))
    return True


def run_stages(ctx: BuildContext, table: tuple[Stage, ...], plan_only: bool = False) -> None:
    """Every stage of `table` in order (only the plan's with `plan_only`)."""
    ctx.store.manifest.models = {role: ctx.label(role) for role in ROLES}
    try:
        for stage in table:
            if plan_only and not stage.plan:
                break
            run_stage(ctx, stage, table)
    finally:
        ctx.store.manifest.usage = {role: UsageTotals(**totals)
                                    for role, totals in ctx.models.trace.totals().items()}
        ctx.store.save()
