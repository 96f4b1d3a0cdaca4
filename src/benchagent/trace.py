"""trace.jsonl: one line for every model and tool call, and running usage totals."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class UsageTotals:
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    cost_usd: float | None = None
    repairs: int = 0
    fallbacks: int = 0

    def add_cost(self, cost: float | None) -> None:
        if cost is not None:
            self.cost_usd = (self.cost_usd or 0.0) + cost

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_s"] = round(self.latency_s, 3)
        if self.cost_usd is not None:
            data["cost_usd"] = round(self.cost_usd, 6)
        return data


@dataclass
class Trace:
    """Appends events to trace.jsonl (or keeps them in memory) and keeps usage per role."""

    path: Path | None = None
    by_role: dict[str, UsageTotals] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def write(self, event: dict[str, Any]) -> None:
        event = {"ts": round(time.time(), 3), **event}
        line = json.dumps(event, ensure_ascii=False, default=str)
        with self._lock:
            if self.path is None:
                self.events.append(event)
                return
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def usage(self, role: str) -> UsageTotals:
        with self._lock:
            return self.by_role.setdefault(role, UsageTotals())

    def model_call(self, *, role: str, model: str, prompt_tokens: int, completion_tokens: int,
                   latency_s: float, cache_hit: bool, cost: float | None, **extra: Any) -> None:
        totals = self.usage(role)
        with self._lock:
            totals.calls += 1
            totals.cache_hits += int(cache_hit)
            totals.prompt_tokens += prompt_tokens
            totals.completion_tokens += completion_tokens
            totals.latency_s += latency_s
            totals.add_cost(cost)
        self.write({"event": "model_call", "role": role, "model": model,
                    "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                    "latency_s": round(latency_s, 4), "cache_hit": cache_hit, **extra})

    def decision(self, *, role: str, outcome: str, **extra: Any) -> None:
        """How a typed decision was reached: `valid`, `repaired`, or `fallback` to rules."""
        totals = self.usage(role)
        with self._lock:
            totals.repairs += int(outcome == "repaired")
            totals.fallbacks += int(outcome == "fallback")
        self.write({"event": "decision", "role": role, "outcome": outcome, **extra})

    def totals(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {role: t.as_dict() for role, t in sorted(self.by_role.items())}
