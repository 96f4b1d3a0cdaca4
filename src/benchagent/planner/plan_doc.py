"""plan/plan.md: the plan as a person reads it."""

from __future__ import annotations

from benchagent.pool import Pool
from benchagent.records import Allocation, Grounding, Query, Subtask


def render_plan_md(query: Query, subtasks: list[Subtask], groundings: list[Grounding],
                   allocation: Allocation, pool: Pool, rejected: list[dict[str, str]]) -> str:
    quotas = {(q.subtask, q.dataset_id): q for q in allocation.quotas}
    lines = [f"# Plan: {query.id}", "", f"> {query.description}", "",
             f"Target size: **{allocation.target_size}**; allocated: "
             f"**{sum(q.quota for q in allocation.quotas)}**.", ""]
    for subtask in subtasks:
        lines += [f"## {subtask.name}", "", subtask.description, "",
                  f"- capability: {subtask.capability or '-'}",
                  f"- modalities: {', '.join(m.value for m in subtask.modalities)}",
                  f"- answer type: {subtask.answer_type.value}", ""]
        mine = [g for g in groundings if g.subtask == subtask.name]
        if not mine:
            lines += ["No dataset could serve this subtask.", ""]
            continue
        lines += ["| dataset | score | operators | quota / capacity |", "|---|---|---|---|"]
        for g in mine:
            q = quotas.get((g.subtask, g.dataset_id))
            chain = " → ".join(s.operator for s in g.plan) or "(fields as they are)"
            share = f"{q.quota} / {q.capacity}" if q else "-"
            lines.append(f"| {pool.card(g.dataset_id).name} | {g.score:.2f} | {chain} | {share} |")
        lines.append("")
    if allocation.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in allocation.notes] + [""]
    if rejected:
        lines += ["## Rejected candidates", ""]
        lines += [f"- {r['subtask']} × {r['dataset']}: {r['reason']}" for r in rejected] + [""]
    return "\n".join(lines)
