"""Grounding agent: per subtask, candidate datasets, a transformation plan for each, checked by
type and scored; the subtasks left with no plan go back to Design with the reasons."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from benchagent.models import ModelClient, ask_or_fallback
from benchagent.operators import REGISTRY
from benchagent.operators.args import brief_schema
from benchagent.planner.design import PlanningError
from benchagent.planner.plans import check_plan, plan_for
from benchagent.planner.relevance import (
    RELATED,
    RELEVANT,
    Relevance,
    relevance,
    request_relevance,
)
from benchagent.planner.request import produced_modalities
from benchagent.planner.scoring import DIMENSIONS, blend, measure, overall, rules_scores
from benchagent.pool import Pool, ScoredCard
from benchagent.prompts import render
from benchagent.records import Grounding, PlanStep, Query, RejectedPlan, Subtask

MAX_PER_SUBTASK = 3
THRESHOLD = 0.65
MODEL_CANDIDATES = 4  # candidates shown to the model per subtask (each gets a plan)


class ProposedStep(BaseModel):
    operator: str  # free text on purpose: an unknown operator is rejected by the type check
    args: dict[str, Any] = Field(default_factory=dict)


class PlanProposal(BaseModel):
    dataset_id: str
    plan: list[ProposedStep] = Field(max_length=8)
    alignment: float = Field(ge=0.0, le=1.0)
    robustness: float = Field(ge=0.0, le=1.0)
    signal_preservation: float = Field(ge=0.0, le=1.0)
    reason: str = Field(default="", max_length=300)


class GroundingOutput(BaseModel):
    preferences: str = Field(default="", max_length=400)  # what the data should look like
    proposals: list[PlanProposal] = Field(default_factory=list)


def grounding_schema(ids: list[str]) -> type[GroundingOutput]:
    """GroundingOutput whose dataset ids are an enum of the candidates, so that constrained
    decoding cannot name a dataset that is not on the list."""
    proposal = create_model("PlanProposal", __base__=PlanProposal,
                            dataset_id=(Literal[tuple(ids)], ...))  # type: ignore[arg-type]
    return create_model("GroundingOutput", __base__=GroundingOutput,
                        proposals=(list[proposal], Field(min_length=1, max_length=len(ids))))


@dataclass
class GroundingReport:
    groundings: list[Grounding] = field(default_factory=list)
    rejected: list[RejectedPlan] = field(default_factory=list)
    preferences: dict[str, str] = field(default_factory=dict)  # subtask -> retrieval preferences
    # card id -> its relevance to the request (eligible cards only), measured once per build
    request_relevance: dict[str, Relevance] = field(default_factory=dict)

    def reject(self, subtask: str, dataset: str, reason: str, plan: list[PlanStep] | None = None,
               by: str = "rules") -> None:
        chain = None if plan is None else " → ".join(s.operator for s in plan) or "(none)"
        self.rejected.append(RejectedPlan(subtask=subtask, dataset=dataset, reason=reason,
                                          by="model" if by == "model" else "rules", plan=chain))

    def unserved(self, subtasks: list[Subtask]) -> dict[str, list[str]]:
        """Subtask -> why no dataset serves it, for the subtasks left without a grounding."""
        grounded = {g.subtask for g in self.groundings}
        return {s.name: [f"{r.dataset}: {r.reason}" for r in self.rejected
                         if r.subtask == s.name][:6] or ["no dataset in the pool matched"]
                for s in subtasks if s.name not in grounded}


@dataclass(frozen=True)
class GroundingOptions:
    k: int = 8
    keep: int = MAX_PER_SUBTASK
    ablate_scoring: bool = False  # paper's "w/o TC + Scoring": no type check, search order only
    with_executor_model: bool = False  # plans may use operators that call a model
    include_related: bool = False  # datasets merely related to the request may ground it


def candidates(subtask: Subtask, query: Query, pool: Pool, k: int = 8,
               preferences: str = "") -> list[ScoredCard]:
    """Datasets for the subtask's own words; the whole query only when those find nothing."""
    text = subtask_text(subtask, preferences)
    return pool.search(text, k=k) or pool.search(f"{text} {query.description}", k=k)


def subtask_text(subtask: Subtask, preferences: str = "") -> str:
    return f"{subtask.name} {subtask.description} {subtask.capability} {preferences}".strip()


def _relevant_hits(subtask: Subtask, query: Query, pool: Pool, opts: GroundingOptions,
                   report: GroundingReport) -> tuple[list[ScoredCard], dict[str, Relevance]]:
    """The subtask's candidates that serve the request (search hits and the request's own
    relevant datasets), best served first; the others are rejected with their relevance."""
    floor = RELATED if opts.include_related else RELEVANT
    hits = candidates(subtask, query, pool, opts.k, report.preferences.get(subtask.name, ""))
    found = {h.card.id for h in hits}
    hits += [ScoredCard(card=pool.card(cid), score=0.0, reason="relevant to the request")
             for cid, r in sorted(report.request_relevance.items()) if r.score >= floor
             and cid not in found]
    own = relevance(subtask_text(subtask), pool, subtask.modalities,
                    produced_modalities(query))
    kept = []
    for hit in hits:
        to_request = report.request_relevance.get(hit.card.id)
        if to_request is None or to_request.score < floor:
            why = (f"{to_request.describe()} to the request, below {floor}" if to_request
                   else "its inputs are not the modalities the request asks for")
            report.reject(subtask.name, hit.card.name, why)
        elif not to_request.form_only and own.get(hit.card.id, to_request).score < floor:
            report.reject(subtask.name, hit.card.name, f"{own[hit.card.id].describe()} to the "
                          f"subtask, below {floor}")
        else:
            kept.append(hit)
    kept.sort(key=lambda h: (-_served(h.card.id, own, report), h.card.name))
    return kept, own


def _served(card_id: str, own: dict[str, Relevance], report: GroundingReport) -> float:
    """How well a dataset serves a subtask of the request: its mean relevance to both."""
    request = report.request_relevance[card_id].score
    return (request + own[card_id].score) / 2 if card_id in own else request


def _operator_menu(with_models: bool) -> list[dict[str, Any]]:
    """The operators a plan may use, each with its arguments' schema as compact JSON."""
    return [{**op.describe(), "args_json": json.dumps(brief_schema(op.args), ensure_ascii=False)}
            for op in REGISTRY.values() if with_models or not op.calls_model]


def _model_proposals(client: ModelClient, subtask: Subtask, query: Query,
                     hits: list[ScoredCard], opts: GroundingOptions, seed: int,
                     report: GroundingReport) -> GroundingOutput | None:
    """The model's plans, repaired while none type-checks; None (after recording why each
    last proposal failed) when the output stays invalid."""
    by_id = {h.card.id: h.card for h in hits}
    seen: list[GroundingOutput] = []

    def problems_of(out: GroundingOutput) -> dict[str, list[str]]:
        return {p.dataset_id: check_plan(subtask, by_id[p.dataset_id], _steps(p),
                                         opts.with_executor_model) for p in out.proposals}

    def check(out: GroundingOutput) -> None:
        seen.append(out)
        if len({p.dataset_id for p in out.proposals}) != len(out.proposals):
            raise ValueError("propose at most one plan per dataset id")
        problems = problems_of(out)
        if all(problems.values()):
            detail = "; ".join(f"{d}: {', '.join(v)}" for d, v in problems.items())
            raise ValueError(f"no proposed plan type-checks ({detail})")

    operators = _operator_menu(opts.with_executor_model)  # in the system prompt: a prefix
    messages = [{"role": "system", "content": render("grounding_system.j2",  # every call shares
                                                     operators=operators)},
                {"role": "user", "content": render(
                    "grounding_user.j2", query=query, subtask=subtask, candidates=hits,
                    operators=operators)}]
    output = ask_or_fallback(client, "grounding", lambda c: c.generate(
        messages, grounding_schema(sorted(by_id)), role="grounding", check=check, seed=seed,
        max_tokens=220 * len(hits) + 120), lambda _: None)
    if output is not None:
        return output
    for proposal in seen[-1].proposals if seen else []:
        reasons = check_plan(subtask, by_id[proposal.dataset_id], _steps(proposal),
                             opts.with_executor_model)
        report.reject(subtask.name, by_id[proposal.dataset_id].name,
                      "; ".join(reasons) or "the model's output stayed invalid",
                      _steps(proposal), by="model")
    return None


def _steps(proposal: PlanProposal) -> list[PlanStep]:
    return [PlanStep(operator=s.operator, args=s.args) for s in proposal.plan]


Triple = tuple[ScoredCard, list[PlanStep], dict[str, float] | None, str]


def _triples(subtask: Subtask, query: Query, hits: list[ScoredCard],
             out: GroundingOutput | None, opts: GroundingOptions,
             report: GroundingReport) -> list[Triple]:
    """(hit, plan, model scores, planner) for every hit with a plan that type-checks."""
    proposals = {p.dataset_id: p for p in out.proposals} if out else {}
    kept: list[Triple] = []
    for hit in hits:
        proposal = proposals.get(hit.card.id)
        if proposal is not None:
            plan = _steps(proposal)
            problems = check_plan(subtask, hit.card, plan, opts.with_executor_model)
            if not problems:
                model = {d: float(getattr(proposal, d)) for d in DIMENSIONS}
                kept.append((hit, plan, model, "model"))
                continue
            report.reject(subtask.name, hit.card.name, "; ".join(problems), plan, by="model")
        plan = plan_for(subtask, hit.card, query.description)
        problems = check_plan(subtask, hit.card, plan, opts.with_executor_model)
        if problems:
            report.reject(subtask.name, hit.card.name, "; ".join(problems), plan)
        else:
            kept.append((hit, plan, None, "rules"))
    return kept


def ground_subtask(subtask: Subtask, query: Query, pool: Pool, client: ModelClient | None,
                   report: GroundingReport, opts: GroundingOptions, need: int,
                   seed: int = 0) -> list[Grounding]:
    if opts.ablate_scoring:
        hits = candidates(subtask, query, pool, opts.k, report.preferences.get(subtask.name, ""))
        return _unchecked(subtask, query, hits, opts)
    hits, own = _relevant_hits(subtask, query, pool, opts, report)
    out = None
    if client is not None and hits:
        out = _model_proposals(client, subtask, query, hits[:MODEL_CANDIDATES], opts, seed,
                               report)
        if out is not None:
            report.preferences[subtask.name] = out.preferences
    scored: list[Grounding] = []
    for hit, plan, model, by in _triples(subtask, query, hits, out, opts, report):
        served = _served(hit.card.id, own, report)
        scores = blend(rules_scores(measure(subtask, hit.card, served, need), plan), model)
        total = overall(scores)
        if total < THRESHOLD:
            report.reject(subtask.name, hit.card.name,
                          f"plan scored {total:.3f}, below the threshold {THRESHOLD}", plan, by)
            continue
        relevance_scores = {"request_relevance": report.request_relevance[hit.card.id].score,
                            "subtask_relevance": own[hit.card.id].score
                            if hit.card.id in own else 0.0}
        scored.append(Grounding(
            subtask=subtask.name, dataset_id=hit.card.id, score=total, plan=plan, plan_by=by,
            scores={**{k: round(v, 3) for k, v in scores.items()}, **relevance_scores},
            reason=f"{report.request_relevance[hit.card.id].describe()} to the request; "
                   + ", ".join(f"{k} {v:.2f}" for k, v in scores.items())))
    scored.sort(key=lambda g: (-g.score, g.dataset_id))
    return scored[:opts.keep]


def _unchecked(subtask: Subtask, query: Query, hits: list[ScoredCard],
               opts: GroundingOptions) -> list[Grounding]:
    top = max((h.score for h in hits), default=0.0) or 1.0
    return [Grounding(subtask=subtask.name, dataset_id=h.card.id, score=round(h.score / top, 3),
                      plan=plan_for(subtask, h.card, query.description),
                      reason="ablation: search order, unchecked")
            for h in hits[:opts.keep]]


def _one_subtask_per_dataset(report: GroundingReport, pool: Pool) -> list[Grounding]:
    """Each dataset grounds the one subtask it serves best, so subtasks do not share items."""
    best: dict[str, Grounding] = {}
    for g in report.groundings:
        rival = best.get(g.dataset_id)
        if rival is None or g.scores.get("subtask_relevance", 0) > rival.scores.get(
                "subtask_relevance", 0):
            best[g.dataset_id] = g
    kept = []
    for g in report.groundings:
        if best[g.dataset_id] is g:
            kept.append(g)
        else:
            report.reject(g.subtask, pool.card(g.dataset_id).name,
                          f"serves {best[g.dataset_id].subtask!r} better", g.plan, g.plan_by)
    return kept


def ground(subtasks: list[Subtask], query: Query, pool: Pool, client: ModelClient | None,
           seed: int = 0, opts: GroundingOptions | None = None,
           report: GroundingReport | None = None) -> GroundingReport:
    """Ground every subtask (into `report` when given, so feedback rounds keep earlier reasons).
    Raises PlanningError only when no subtask at all can be grounded."""
    opts = opts or GroundingOptions()
    report = report or GroundingReport()
    if not report.request_relevance:
        report.request_relevance = request_relevance(query, pool)
    need = max(1, query.target_size // max(1, len(subtasks)))
    for subtask in subtasks:
        report.groundings = [g for g in report.groundings if g.subtask != subtask.name]
        report.groundings.extend(ground_subtask(subtask, query, pool, client, report, opts,
                                                need, seed))
    report.groundings = _one_subtask_per_dataset(report, pool)
    if not report.groundings:
        reasons = "; ".join(f"{r.subtask} × {r.dataset}: {r.reason}"
                            for r in report.rejected[:4])
        raise PlanningError("no subtask could be grounded in the pool"
                            + (f" ({reasons})" if reasons else ""))
    return report
