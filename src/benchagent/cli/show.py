"""`benchagent show RUN_DIR`: what a run did and where it stands."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from benchagent.cli.common import out, print_shortfall
from benchagent.store import RunStore, read_jsonl


def _stages(manifest: dict[str, Any]) -> Table:
    table = Table(title="stages", title_justify="left")
    for col in ("stage", "status", "finished", "note"):
        table.add_column(col)
    for name, info in manifest.get("stages", {}).items():
        table.add_row(name, info.get("status", "?"), info.get("finished", ""),
                      info.get("error", ""))
    return table


def _usage(manifest: dict[str, Any]) -> Table:
    table = Table(title="model usage", title_justify="left")
    for col in ("role", "model", "calls", "cache hits", "tokens in", "tokens out", "repairs",
                "fallbacks", "cost"):
        table.add_column(col, justify="right" if col not in ("role", "model") else "left")
    models = manifest.get("models", {})
    for role, u in manifest.get("usage", {}).items():
        cost = f"${u['cost_usd']:.4f}" if u.get("cost_usd") is not None else "unknown"
        table.add_row(role, models.get(role, "?"), str(u["calls"]), str(u["cache_hits"]),
                      str(u["prompt_tokens"]), str(u["completion_tokens"]), str(u["repairs"]),
                      str(u["fallbacks"]), cost)
    return table


def _subtasks(store: RunStore) -> Table:
    table = Table(title="subtasks", title_justify="left")
    for col in ("subtask", "items", "accepted", "rejected"):
        table.add_column(col, justify="left" if col == "subtask" else "right")
    items = Counter(r["subtask"] for r in read_jsonl(store.path("benchmark/benchmark.jsonl")))
    acc = Counter(r["subtask"] for r in read_jsonl(store.path("samples/accepted.jsonl")))
    rej = Counter(r["subtask"] for r in read_jsonl(store.path("samples/rejected.jsonl")))
    for name in store.manifest.subtasks:
        table.add_row(name, str(items[name]), str(acc[name]), str(rej[name]))
    return table


def show(run_dir: Annotated[Path, typer.Argument(help="The run directory.")]) -> None:
    """Summarise a run: stages, counts, subtasks, model usage, shortfall."""
    store = RunStore.open(run_dir)
    m = store.manifest.model_dump(mode="json", exclude_none=True)
    query = m.get("query", {})
    out.print(f"[bold]{query.get('id')}[/]: {query.get('description')}")
    counts = m.get("counts", {})
    if counts:
        out.print(f"items: {counts.get('benchmark')} / target {counts.get('target')}  "
                  f"(candidates accepted {counts.get('accepted_candidates')}, "
                  f"rejected {counts.get('rejected_candidates')})")
    out.print(_stages(m))
    if m.get("subtasks"):
        out.print(_subtasks(store))
    if m.get("usage"):
        out.print(_usage(m))
    print_shortfall(store.manifest.shortfall)
