"""plan/plan.md: the plan as a person reads it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchagent.planner.coverage import SMALLER_THAN_ASKED, request_parts
from benchagent.planner.demands import Demand
from benchagent.planner.request import names_content
from benchagent.pool import Pool
from benchagent.records import (
    Allocation,
    DesignStep,
    Grounding,
    PlanStep,
    Query,
    RejectedPlan,
    Subtask,
)


def _chain(plan: list[PlanStep]) -> str:
    def step(s: PlanStep) -> str:
        args = ", ".join(f"{k}={v}" for k, v in s.args.items())
        return f"{s.operator}({args})" if args else s.operator
    return " → ".join(step(s) for s in plan) or "(fields as they are)"


def _subtask_section(subtask: Subtask, groundings: list[Grounding],
                     quotas: dict[tuple[str, str], Any], pool: Pool) -> list[str]:
    lines = [f"## {subtask.name}", "", subtask.description, "",
             f"- capability: {subtask.capability or '-'}",
             f"- modalities: {', '.join(m.value for m in subtask.modalities)}",
             f"- answer type: {subtask.answer_type.value}", ""]
    mine = [g for g in groundings if g.subtask == subtask.name]
    if not mine:
        return [*lines, "No dataset could serve this subtask.", ""]
    lines += ["| dataset | relevance to request / subtask | score (align / robust / signal) | "
              "planned by | operators | quota / capacity |", "|---|---|---|---|---|---|"]
    for g in mine:
        q = quotas.get((g.subtask, g.dataset_id))
        parts = " / ".join(f"{g.scores[d]:.2f}" for d in
                           ("alignment", "robustness", "signal_preservation") if d in g.scores)
        share = f"{q.quota} / {q.capacity}" if q else "-"
        relevance = " / ".join(f"{g.scores[k]:.2f}" if k in g.scores else "-"
                               for k in ("request_relevance", "subtask_relevance"))
        lines.append(f"| {pool.card(g.dataset_id).name} | {relevance} | {g.score:.2f} "
                     f"({parts or '-'}) | {g.plan_by} | {_chain(g.plan)} | {share} |")
    return [*lines, ""]


def _request_parts(query: Query, allocation: Allocation, pool: Pool,
                   demands: Sequence[Demand]) -> list[str]:
    lines = ["## What the plan serves", ""]
    if not names_content(query):
        lines += ["The request names no content: every dataset with the inputs it asks for "
                  "serves it.", ""]
    lines += [f"- {part.line()}" for part in request_parts(query, allocation, pool)]
    lines += [f"- {demand.line()}" for demand in demands]
    lines += [f"- size: {n}" for n in allocation.notes if n.startswith(SMALLER_THAN_ASKED)]
    return [*lines, ""]


def render_plan_md(query: Query, subtasks: list[Subtask], groundings: list[Grounding],
                   allocation: Allocation, pool: Pool, rejected: list[RejectedPlan],
                   design_log: list[DesignStep] | None = None,
                   demands: Sequence[Demand] = ()) -> str:
    quotas = {(q.subtask, q.dataset_id): q for q in allocation.quotas}
    lines = [f"# Plan: {query.id}", "", f"> {query.description}", "",
             f"Target size: **{allocation.target_size}**; allocated: "
             f"**{sum(q.quota for q in allocation.quotas)}**.", ""]
    lines += _request_parts(query, allocation, pool, demands)
    for subtask in subtasks:
        lines += _subtask_section(subtask, groundings, quotas, pool)
    if allocation.notes:
        lines += ["## Allocation notes", ""] + [f"- {n}" for n in allocation.notes] + [""]
    if design_log:
        lines += ["## Design steps", ""]
        lines += [f"- {d.op} {d.subtask} ({d.by}): {d.reason}" for d in design_log]
        lines.append("")
    if rejected:
        lines += ["## Rejected plans", ""]
        lines += [f"- {r.subtask} × {r.dataset} [{r.by}"
                  f"{': ' + r.plan if r.plan else ''}]: {r.reason}"
                  for r in rejected] + [""]
    return "\n".join(lines)
