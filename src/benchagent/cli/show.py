"""`benchagent show RUN_DIR`: what a run did and where it stands."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from benchagent.cli.common import out, print_shortfall
from benchagent.cli.listing import JsonOpt, listing_table, print_json, print_table
from benchagent.store import RunStore, read_jsonl

Row = dict[str, Any]
USAGE_FIELDS = ("calls", "cache_hits", "prompt_tokens", "completion_tokens", "repairs",
                "fallbacks", "cost_usd")


def _stages(manifest: dict[str, Any]) -> list[Row]:
    return [{"stage": name, "status": info.get("status", "?"),
             "finished": info.get("finished", ""), "note": info.get("error", "")}
            for name, info in manifest.get("stages", {}).items()]


def _usage(manifest: dict[str, Any]) -> list[Row]:
    models = manifest.get("models", {})
    return [{"role": role, "model": models.get(role, "?"),
             **{field: usage.get(field) for field in USAGE_FIELDS}}
            for role, usage in manifest.get("usage", {}).items()]


def _subtasks(store: RunStore) -> list[Row]:
    items = Counter(r["subtask"] for r in read_jsonl(store.path("benchmark/benchmark.jsonl")))
    acc = Counter(r["subtask"] for r in read_jsonl(store.path("samples/accepted.jsonl")))
    rej = Counter(r["subtask"] for r in read_jsonl(store.path("samples/rejected.jsonl")))
    return [{"subtask": name, "items": items[name], "accepted": acc[name],
             "rejected": rej[name]} for name in store.manifest.get("subtasks", [])]


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
            cost = f"${u['cost_usd']:.4f}" if u["cost_usd"] is not None else "unknown"
            table.add_row(u["role"], u["model"], str(u["calls"]), str(u["cache_hits"]),
                          str(u["prompt_tokens"]), str(u["completion_tokens"]),
                          str(u["repairs"]), str(u["fallbacks"]), cost)
        print_table(table)


def show(run_dir: Annotated[Path, typer.Argument(help="The run directory.")],
         as_json: JsonOpt = False) -> None:
    """Summarise a run: stages, counts, subtasks, model usage, shortfall."""
    store = RunStore.open(run_dir)
    m = store.manifest
    stages, usage = _stages(m), _usage(m)
    subtasks = _subtasks(store) if m.get("subtasks") else []
    if as_json:
        print_json({"run": str(store.root), "query": m.get("query", {}),
                    "counts": m.get("counts", {}), "stages": stages, "subtasks": subtasks,
                    "usage": usage, "shortfall": m.get("shortfall", [])})
        return
    query = m.get("query", {})
    out.print(f"[bold]{query.get('id')}[/]: {query.get('description')}")
    counts = m.get("counts", {})
    if counts:
        out.print(f"items: {counts.get('benchmark')} / target {counts.get('target')}  "
                  f"(candidates accepted {counts.get('accepted_candidates')}, "
                  f"rejected {counts.get('rejected_candidates')})")
    _print_tables(stages, subtasks, usage)
    print_shortfall(m)
