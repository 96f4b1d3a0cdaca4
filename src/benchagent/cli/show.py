"""`benchagent show RUN_DIR`: what a run did and where it stands."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from benchagent.cli.common import out, print_shortfall
from benchagent.cli.listing import JsonOpt, listing_table, print_json, print_table
from benchagent.records import ExecutorUsage
from benchagent.stages.paths import ACCEPTED, BENCHMARK, REJECTED
from benchagent.store import Manifest, RunStore, read_jsonl

Row = dict[str, Any]


def _stages(manifest: Manifest) -> list[Row]:
    return [{"stage": name, "status": info.status, "finished": info.finished or "",
             "note": info.error or ""} for name, info in manifest.stages.items()]


def _usage(manifest: Manifest) -> list[Row]:
    return [{"role": role, "model": manifest.models.get(role, "?"), **usage.as_dict()}
            for role, usage in manifest.usage.items()]


def _executor(manifest: Manifest) -> Row | None:
    ran = manifest.executor
    if ran is None:
        return None
    return {**ran.model_dump(mode="json"), "tasks_per_s": ran.throughput()}


def executor_line(ran: ExecutorUsage) -> str:
    """Where the CPU work ran and how fast: `executor: ray (local), 2 workers, 30 tasks in
    12.0 s (driver 3.1 CPU-s);
    per worker: 1a2b3c4d/pid 77 1.3/s, ...`."""
    where = f" ({ran.address})" if ran.address else ""
    rates = ", ".join(f"{name} {rate:.2f}/s" for name, rate in ran.throughput().items())
    return (f"executor: {ran.backend}{where}, {ran.workers} workers, {ran.tasks} tasks in "
            f"{ran.wall_s:.1f} s (driver {ran.driver_cpu_s:.1f} CPU-s); per worker: "
            f"{rates or 'none'}")


def _subtasks(store: RunStore) -> list[Row]:
    items = Counter(r["subtask"] for r in read_jsonl(store.path(BENCHMARK)))
    acc = Counter(r["subtask"] for r in read_jsonl(store.path(ACCEPTED)))
    rej = Counter(r["subtask"] for r in read_jsonl(store.path(REJECTED)))
    return [{"subtask": name, "items": items[name], "accepted": acc[name],
             "rejected": rej[name]} for name in store.manifest.subtasks]


def _print_tables(stages: list[Row], subtasks: list[Row], usage: list[Row]) -> None:
    table = listing_table("stage", "status", "finished", "note", title="stages")
    for s in stages:
        table.add_row(s["stage"], s["status"], s["finished"], s["note"])
    print_table(table)
    if subtasks:
        table = listing_table("subtask", "items", "accepted", "rejected", title="subtasks",
                              right=("items", "accepted", "rejected"))
        for t in subtasks:
            table.add_row(t["subtask"], str(t["items"]), str(t["accepted"]), str(t["rejected"]))
        print_table(table)
    if usage:
        columns = ("role", "model", "calls", "cache hits", "tokens in", "tokens out", "repairs",
                   "fallbacks", "cost")
        table = listing_table(*columns, title="model usage", right=columns[2:])
        for u in usage:
            cost = f"${u['cost_usd']:.4f}" if u.get("cost_usd") is not None else "unknown"
            table.add_row(u["role"], u["model"], str(u["calls"]), str(u["cache_hits"]),
                          str(u["prompt_tokens"]), str(u["completion_tokens"]),
                          str(u["repairs"]), str(u["fallbacks"]), cost)
        print_table(table)


def show(run_dir: Annotated[Path, typer.Argument(help="The run directory.")],
         as_json: JsonOpt = False) -> None:
    """Summarise a run: stages, counts, subtasks, model usage, shortfall."""
    store = RunStore.open(run_dir)
    m = store.manifest
    stages, usage, subtasks = _stages(m), _usage(m), _subtasks(store)
    if as_json:
        print_json({"run": str(store.root), "query": m.query.model_dump(mode="json"),
                    "counts": m.counts.model_dump() if m.counts else {}, "stages": stages,
                    "subtasks": subtasks, "usage": usage, "executor": _executor(m),
                    "shortfall": [s.model_dump() for s in m.shortfall]})
        return
    out.print(f"[bold]{m.query.id}[/]: {m.query.description}")
    if m.counts:
        c = m.counts
        out.print(f"items: {c.benchmark} / target {c.target}  (candidates accepted "
                  f"{c.accepted_candidates}, rejected {c.rejected_candidates})")
    _print_tables(stages, subtasks, usage)
    if m.executor is not None and m.executor.tasks:  # a text-only build ran no CPU task
        out.print(executor_line(m.executor), soft_wrap=True)
    print_shortfall(m.shortfall)
