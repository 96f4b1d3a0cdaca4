"""The stage engine on a table of its own: skip, rerun on an edit, keys kept current when a later
stage refines an earlier one's inputs, failures recorded, --plan-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from benchagent.config import Settings
from benchagent.models import RoleModels
from benchagent.pool import Pool
from benchagent.records import Query
from benchagent.stages import BuildContext, Stage, StageRun, run_stages
from benchagent.store import RunStore
from benchagent.trace import Trace

RAN: list[str] = []


def _write(rel: str, text: str) -> Any:
    def run(ctx: BuildContext, mode: StageRun) -> None:
        RAN.append(f"{rel}:{mode}")
        ctx.store.path(rel).parent.mkdir(parents=True, exist_ok=True)
        ctx.store.path(rel).write_text(text)
    return run


def _refine(ctx: BuildContext, mode: StageRun) -> None:
    RAN.append(f"refine:{mode}")
    first = ctx.store.path("a.txt")
    first.write_text(first.read_text() + " refined")
    ctx.store.path("c.txt").write_text("c")


def _fail(ctx: BuildContext, mode: StageRun) -> None:
    RAN.append(f"fail:{mode}")
    raise RuntimeError("the endpoint went away\nsecond line")


TABLE = (
    Stage("first", _write("a.txt", "a"), outputs=("a.txt",), plan=True),
    Stage("second", _write("b.txt", "b"), inputs=("a.txt",), outputs=("b.txt",), plan=True),
    Stage("third", _refine, inputs=("b.txt",), outputs=("a.txt", "c.txt")),
)


def _ctx(root: Path, table: tuple[Stage, ...] = TABLE) -> BuildContext:
    query = Query(id="q", description="d")
    store = (RunStore.open(root) if (root / "manifest.json").exists()
             else RunStore.create(root, query, Settings(), tuple(s.name for s in table)))
    models = RoleModels({}, Trace(), None)
    return BuildContext(store, store.manifest.settings, query, cast(Pool, None), models)


def test_a_second_walk_skips_every_stage_and_an_edit_reruns_what_reads_it(tmp_path: Path) -> None:
    RAN.clear()
    run_stages(_ctx(tmp_path / "run"), TABLE)
    assert RAN == ["a.txt:fresh", "b.txt:fresh", "refine:fresh"]
    RAN.clear()
    run_stages(_ctx(tmp_path / "run"), TABLE)
    assert RAN == []  # "second" reads a.txt, which "third" refined: still current
    (tmp_path / "run" / "b.txt").write_text("edited")
    run_stages(_ctx(tmp_path / "run"), TABLE)
    assert RAN == ["refine:fresh"]


def test_plan_only_stops_after_the_plan_stages(tmp_path: Path) -> None:
    RAN.clear()
    ctx = _ctx(tmp_path / "run")
    run_stages(ctx, TABLE, plan_only=True)
    assert RAN == ["a.txt:fresh", "b.txt:fresh"]
    assert ctx.store.manifest.stages["third"].status == "pending"


def test_a_failed_stage_is_recorded_and_continues_on_the_same_inputs(tmp_path: Path) -> None:
    table = (*TABLE[:2], Stage("flaky", _fail, inputs=("b.txt",)))
    RAN.clear()
    with pytest.raises(RuntimeError):
        run_stages(_ctx(tmp_path / "run", table), table)
    manifest = RunStore.open(tmp_path / "run").manifest
    assert manifest.stages["flaky"].status == "failed"
    assert manifest.stages["flaky"].error == "the endpoint went away"
    with pytest.raises(RuntimeError):
        run_stages(_ctx(tmp_path / "run", table), table)
    assert RAN == ["a.txt:fresh", "b.txt:fresh", "fail:fresh", "fail:continue"]
