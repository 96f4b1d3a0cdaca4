"""What a build will cost, from its plan: model calls, prompt and completion tokens, and US
dollars per role (plan/estimate.json), and `estimate_vs_spent` to hold it against the run.

The planner's roles have run by the time there is a plan: their calls are measured (the trace).
The build's other roles are estimated per allocated pair: a quota of q items draws about
q × oversample candidates (the acceptance the allocation plans for), capped by the pair's
attempt budget and its sources. Each candidate asks the executor once to set its arguments
(when the sample policy is `model` and a step is adaptable) and once per step whose operator
calls a model; the verifier once for the semantic check and once more for the blind check of an
image or audio subtask. Each subtask's instruction is one executor call.

Prompt tokens: the role's measured average when it has calls, else the verifier prompt
rendered on the pair's first sources, in characters times the tokens per character this run's
calls measured (0.25 before any). Completion tokens: the role's measured average, else every
role's, else DEFAULT_COMPLETION_TOKENS. Cost needs a price (`price_in_per_mtok`,
`price_out_per_mtok` of the role's model in the config): without one it stays unknown.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from benchagent.errors import BenchagentError
from benchagent.executor.sample_plan import adaptable
from benchagent.executor.verify import VerifyLayers, target_modalities
from benchagent.models import ModelConfig
from benchagent.operators import REGISTRY
from benchagent.prompts import render
from benchagent.records import Allocation, Grounding, SourceSample, Subtask
from benchagent.stages.context import BuildContext
from benchagent.stages.execution import check_plan, pair_sources, sample_policy, verify_layers
from benchagent.stages.paths import ALLOCATION, ESTIMATE, GROUNDINGS, SUBTASKS, TRACE
from benchagent.store import MANIFEST, file_hash, hash_of, read_jsonl
from benchagent.trace import UsageTotals

PLANNER_ROLES = ("design", "grounding", "allocation")
EXECUTION_ROLES = ("executor", "verifier")
BUILD_ROLES = (*PLANNER_ROLES, *EXECUTION_ROLES)
DEFAULT_TOKENS_PER_CHAR = 0.25
DEFAULT_COMPLETION_TOKENS = 100
PROMPT_SAMPLES = 3  # sources per pair whose prompts are rendered and measured


class RoleEstimate(BaseModel):
    role: str
    model: str
    basis: Literal["measured", "estimated"]
    calls: int
    cached_calls: int = 0  # answered by the response cache: no cost
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = None  # None: no price is configured for the model


class Estimate(BaseModel):
    plan_hash: str
    candidates: int  # candidates the execution is expected to try
    acceptance: float
    tokens_per_char: float
    roles: list[RoleEstimate] = Field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.roles)

    @property
    def cost_usd(self) -> float | None:
        """The total, or None when any role with calls has no price."""
        costs = [r.cost_usd for r in self.roles if r.calls - r.cached_calls > 0]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

    def totals(self) -> dict[str, Any]:
        return {"calls": self.calls, "cached_calls": sum(r.cached_calls for r in self.roles),
                "prompt_tokens": sum(r.prompt_tokens for r in self.roles),
                "completion_tokens": sum(r.completion_tokens for r in self.roles),
                "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6)}

    def as_dict(self) -> dict[str, Any]:
        return {**self.model_dump(mode="json"), "total": self.totals()}


def plan_hash(ctx: BuildContext) -> str:
    return hash_of(*(file_hash(ctx.store.path(rel)) for rel in (SUBTASKS, GROUNDINGS,
                                                                ALLOCATION)))


def price(cfg: ModelConfig | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    if cfg is None or cfg.price_in_per_mtok is None or cfg.price_out_per_mtok is None:
        return None
    return (prompt_tokens * cfg.price_in_per_mtok
            + completion_tokens * cfg.price_out_per_mtok) / 1e6


class _Measured:
    """What this run's calls measured: usage per role and tokens per prompt character."""

    def __init__(self, ctx: BuildContext) -> None:
        self.usage = {role: UsageTotals(**t) for role, t in ctx.models.trace.totals().items()}
        tokens = chars = 0
        for event in read_jsonl(ctx.store.path(TRACE)):
            if event.get("event") == "model_call" and event.get("prompt_chars"):
                tokens += int(event.get("prompt_tokens") or 0)
                chars += int(event["prompt_chars"])
        self.tokens_per_char = tokens / chars if tokens and chars else DEFAULT_TOKENS_PER_CHAR

    def completion(self, role: str) -> float:
        mine = self.usage.get(role)
        if mine is not None and mine.calls:
            return mine.completion_tokens / mine.calls
        calls = sum(u.calls for u in self.usage.values())
        if calls:
            return sum(u.completion_tokens for u in self.usage.values()) / calls
        return DEFAULT_COMPLETION_TOKENS

    def prompt(self, role: str, rendered_chars: float) -> float:
        mine = self.usage.get(role)
        if mine is not None and mine.calls:
            return mine.prompt_tokens / mine.calls
        return rendered_chars * self.tokens_per_char


def _prompt_chars(sources: list[SourceSample], subtask: Subtask) -> float:
    """The verifier prompt's mean length over `sources`: the item and its instructions, the
    size every per-candidate prompt has."""
    lengths = [len(render("verify_user.j2", instruction=s.instruction, context=s.context,
                          question=s.question, options=s.options, answer=s.answer, media=[],
                          source="", subtask=subtask)) for s in sources[:PROMPT_SAMPLES]]
    return sum(lengths) / len(lengths) if lengths else 0.0


def _calls_per_candidate(ctx: BuildContext, grounding: Grounding, subtask: Subtask,
                         layers: VerifyLayers) -> dict[str, int]:
    plan = grounding.plan
    executor = sum(1 for s in plan if s.operator in REGISTRY and REGISTRY[s.operator].calls_model)
    if sample_policy(ctx) == "model" and adaptable(plan):
        executor += 1
    verifier = 0
    if ctx.models.get("verifier") is not None:
        verifier = int(layers.semantic) + int(layers.blind and bool(target_modalities(subtask)))
    return {"executor": executor if ctx.models.get("executor") is not None else 0,
            "verifier": verifier}


def _execution(ctx: BuildContext, acceptance: float) -> tuple[int, dict[str, list[float]]]:
    """Candidates in all, and per execution role its calls and their summed prompt chars."""
    subtasks = ctx.read_list(SUBTASKS, Subtask)
    groundings = ctx.read_list(GROUNDINGS, Grounding)
    allocation = ctx.read(ALLOCATION, Allocation)
    check_plan((subtasks, groundings, allocation))
    sources = pair_sources(ctx, groundings, allocation)
    by_name = {st.name: st for st in subtasks}
    by_pair: dict[tuple[str, str], Grounding] = {}
    for g in groundings:
        by_pair.setdefault((g.subtask, g.dataset_id), g)
    layers = verify_layers(ctx)
    totals = {role: [0.0, 0.0] for role in EXECUTION_ROLES}  # calls, prompt chars
    candidates = 0
    for q in allocation.quotas:
        pair = (q.subtask, q.dataset_id)
        if q.quota == 0 or pair not in by_pair or q.subtask not in by_name:
            continue
        ordered = sources.ordered[pair]
        tried = min(math.ceil(q.quota / acceptance), q.quota * ctx.settings.attempts_per_item,
                    len(ordered))
        candidates += tried
        chars = _prompt_chars(ordered, by_name[q.subtask])
        for role, n in _calls_per_candidate(ctx, by_pair[pair], by_name[q.subtask],
                                            layers).items():
            totals[role][0] += n * tried
            totals[role][1] += n * tried * chars
    if ctx.models.get("executor") is not None:  # one instruction per subtask
        totals["executor"][0] += len(subtasks)
        totals["executor"][1] += sum(len(render("instruction_user.j2", subtask=st))
                                     for st in subtasks)
    return candidates, totals


def _measured_role(ctx: BuildContext, role: str, usage: UsageTotals) -> RoleEstimate:
    cost = usage.cost_usd
    if cost is None and usage.calls == usage.cache_hits:
        cost = 0.0  # every answer came from the cache
    return RoleEstimate(role=role, model=ctx.label(role), basis="measured", calls=usage.calls,
                        cached_calls=usage.cache_hits, prompt_tokens=usage.prompt_tokens,
                        completion_tokens=usage.completion_tokens, cost_usd=cost)


def estimate(ctx: BuildContext) -> Estimate:
    """The expected calls, tokens and cost of building the plan now in `ctx`'s run."""
    measured = _Measured(ctx)
    acceptance = 1 / ctx.settings.oversample
    candidates, execution = _execution(ctx, acceptance)
    roles = [_measured_role(ctx, role, measured.usage[role]) for role in PLANNER_ROLES
             if role in measured.usage and measured.usage[role].calls]
    for role in EXECUTION_ROLES:
        calls, chars = execution[role]
        if not calls:
            continue
        prompt = round(calls * measured.prompt(role, chars / calls))
        completion = round(calls * measured.completion(role))
        roles.append(RoleEstimate(role=role, model=ctx.label(role), basis="estimated",
                                  calls=int(calls), prompt_tokens=prompt,
                                  completion_tokens=completion,
                                  cost_usd=price(ctx.models.configs.get(role), prompt,
                                                 completion)))
    return Estimate(plan_hash=plan_hash(ctx), candidates=candidates,
                    acceptance=round(acceptance, 4),
                    tokens_per_char=round(measured.tokens_per_char, 4), roles=roles)


def write_estimate(ctx: BuildContext) -> Estimate | None:
    """plan/estimate.json for the current plan: kept when it was made for this plan (a resumed
    build keeps the estimate made before it spent anything), made anew otherwise. None for a
    plan that does not hold together (an edit): the execution stage then says why."""
    path = ctx.store.path(ESTIMATE)
    if path.is_file():
        try:
            kept = Estimate.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError:
            kept = None
        if kept is not None and kept.plan_hash == plan_hash(ctx):
            return kept
    try:
        made = estimate(ctx)
    except BenchagentError:
        return None
    ctx.store.write_json(ESTIMATE, made.as_dict())
    return made


def read_estimate(run_dir: Path) -> Estimate | None:
    path = run_dir / ESTIMATE
    if not path.is_file():
        return None
    try:
        return Estimate.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def _spent(run_dir: Path) -> dict[str, dict[str, Any]]:
    try:
        manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    usage = manifest.get("usage", {}) if isinstance(manifest, dict) else {}
    return {role: dict(totals) for role, totals in usage.items() if role in BUILD_ROLES}


def estimate_vs_spent(run_dir: Path) -> dict[str, Any]:
    """The build's estimate (plan/estimate.json) beside what it spent (the manifest's usage),
    for a report. Returns {"estimate": the estimate file's content or None, "spent": usage per
    build role (calls, cache_hits, prompt_tokens, completion_tokens, cost_usd when priced),
    "roles": per role {"role", "estimated_calls", "spent_calls", "estimated_cost_usd",
    "spent_cost_usd"}, "total": the same summed, with "calls_ratio" = spent / estimated calls
    (None without an estimate)}. Calls count cached answers too (they cost nothing); eval and
    judge calls are not part of the build and are left out."""
    made = read_estimate(run_dir)
    spent = _spent(run_dir)
    estimated = {r.role: r for r in made.roles} if made else {}
    rows = [_compared(role, estimated.get(role), spent.get(role, {}))
            for role in BUILD_ROLES if role in estimated or role in spent]
    est_calls = made.calls if made else 0
    spent_calls = sum(int(r["spent_calls"]) for r in rows)
    spent_costs = [r["spent_cost_usd"] for r in rows if r["spent_calls"]]
    total = {"estimated_calls": est_calls, "spent_calls": spent_calls,
             "calls_ratio": round(spent_calls / est_calls, 4) if est_calls else None,
             "estimated_cost_usd": made.cost_usd if made else None,
             "spent_cost_usd": None if any(c is None for c in spent_costs)
             else round(sum(float(c or 0.0) for c in spent_costs), 6)}
    return {"estimate": made.as_dict() if made else None, "spent": spent, "roles": rows,
            "total": total}


def _compared(role: str, made: RoleEstimate | None, spent: dict[str, Any]) -> dict[str, Any]:
    return {"role": role, "estimated_calls": made.calls if made else 0,
            "spent_calls": int(spent.get("calls", 0)),
            "estimated_cost_usd": made.cost_usd if made else None,
            "spent_cost_usd": spent.get("cost_usd")}
