"""What the run cost: model calls, tokens and time per role from trace.jsonl, the cost the
manifest counted (only for models whose prices the config gives), and each stage's wall time."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from benchagent.config import ROLES
from benchagent.report.records import PerItem, RoleUsage, StageTime, UsagePart
from benchagent.stages import STAGES
from benchagent.stages.paths import TRACE
from benchagent.store import Manifest

BUILD_ROLES = tuple(r for r in ROLES if r != "judge")  # the roles a build calls models for
BUILD_STAGES = tuple(s.name for s in STAGES)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def _model_calls(path: Path) -> list[dict[str, Any]]:
    """The trace's model calls; a line that does not read (torn by a kill) is skipped."""
    if not path.is_file():
        return []
    calls = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and event.get("event") == "model_call":
                calls.append(event)
    return calls


def _number(event: dict[str, Any], key: str) -> float:
    value = event.get(key)
    return float(value) if isinstance(value, int | float) else 0.0


def _role_rows(calls: list[dict[str, Any]], manifest: Manifest) -> list[RoleUsage]:
    rows: dict[str, RoleUsage] = {}
    for event in calls:
        role = str(event.get("role", "?"))
        row = rows.setdefault(role, RoleUsage(role=role, models=[]))
        model = str(event.get("model", "?"))
        if model not in row.models:
            row.models.append(model)
        row.calls += 1
        row.cache_hits += bool(event.get("cache_hit"))
        row.prompt_tokens += int(_number(event, "prompt_tokens"))
        row.completion_tokens += int(_number(event, "completion_tokens"))
        row.latency_s += _number(event, "latency_s")
    for role, totals in manifest.usage.items():
        row = rows.setdefault(role, RoleUsage(role=role, models=[]))
        row.cost_usd, row.repairs, row.fallbacks = (totals.cost_usd, totals.repairs,
                                                    totals.fallbacks)
    order: dict[str, int] = {role: i for i, role in enumerate(BUILD_ROLES)}
    ordered = sorted(rows.values(), key=lambda r: (order.get(r.role, len(order)), r.role))
    for row in ordered:
        row.latency_s = round(row.latency_s, 3)
    return ordered


def _added(role: str, rows: list[RoleUsage]) -> RoleUsage:
    costs = [r.cost_usd for r in rows if r.cost_usd is not None]
    return RoleUsage(
        role=role, models=sorted({m for r in rows for m in r.models}),
        calls=sum(r.calls for r in rows), cache_hits=sum(r.cache_hits for r in rows),
        prompt_tokens=sum(r.prompt_tokens for r in rows),
        completion_tokens=sum(r.completion_tokens for r in rows),
        latency_s=round(sum(r.latency_s for r in rows), 3),
        cost_usd=round(sum(costs), 6) if costs else None,
        repairs=sum(r.repairs for r in rows), fallbacks=sum(r.fallbacks for r in rows))


def _stage_times(manifest: Manifest) -> list[StageTime]:
    times = []
    for name, record in manifest.stages.items():
        seconds = None
        if record.started and record.finished and record.status == "done":
            try:
                seconds = (datetime.strptime(record.finished, TIME_FORMAT)
                           - datetime.strptime(record.started, TIME_FORMAT)).total_seconds()
            except ValueError:
                seconds = None
        times.append(StageTime(stage=name, status=record.status, seconds=seconds))
    return times


def usage_part(root: Path, manifest: Manifest, items: int) -> UsagePart:
    roles = _role_rows(_model_calls(root / TRACE), manifest)
    build = _added("build", [r for r in roles if r.role in BUILD_ROLES])
    stages = _stage_times(manifest)
    walls = [s.seconds for s in stages if s.stage in BUILD_STAGES and s.seconds is not None]
    per_item = None
    if items:
        per_item = PerItem(
            calls=round(build.calls / items, 3),
            tokens=round((build.prompt_tokens + build.completion_tokens) / items, 1),
            model_seconds=round(build.latency_s / items, 4),
            wall_seconds=round(sum(walls) / items, 3) if walls else None,
            cost_usd=None if build.cost_usd is None else round(build.cost_usd / items, 6))
    return UsagePart(roles=roles, build=build, per_item=per_item, stages=stages)
