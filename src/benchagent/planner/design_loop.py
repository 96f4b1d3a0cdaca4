"""The Design agent's loop: propose, then check coverage and consistency (rules always, the
model too when there is one) and apply revise / discard / add actions, for bounded rounds;
later, revise or drop the subtasks that grounding or allocation could not serve."""

from __future__ import annotations

import re
from functools import partial

from benchagent.models import ModelClient, ask_or_fallback
from benchagent.planner.design import (
    DESIGN_ROUNDS,
    DesignAction,
    DesignLog,
    DesignReview,
    PlanningError,
    check_servable,
    design_ablated,
    design_llm,
    design_rules,
    query_modalities,
    servable,
)
from benchagent.planner.relevance import RELEVANT, modal_parts
from benchagent.pool import Pool
from benchagent.prompts import render
from benchagent.records import AnswerType, Query, Subtask

OVERLAP = 0.6  # token Jaccard of name + capability above which two subtasks overlap


def _tokens(subtask: Subtask) -> set[str]:
    return set(re.findall(r"[a-z]{3,}", f"{subtask.name} {subtask.capability}".lower()))


def rules_review(query: Query, subtasks: list[Subtask], pool: Pool) -> list[DesignAction]:
    """Deterministic consistency: no overlaps, every modality servable, the query's modalities
    covered."""
    actions: list[DesignAction] = []
    kept: list[Subtask] = []
    for st in subtasks:
        twin = next((k for k in kept if len(_tokens(st) & _tokens(k))
                     / max(1, len(_tokens(st) | _tokens(k))) > OVERLAP), None)
        bad = [m.value for m in st.modalities if not servable(m, pool)]
        if twin is not None:
            actions.append(DesignAction(op="discard", name=st.name,
                                        reason=f"overlaps with {twin.name!r}"))
        elif bad:
            actions.append(DesignAction(op="discard", name=st.name, reason=(
                f"no dataset has {', '.join(bad)} input and no operator produces it")))
        else:
            kept.append(st)
    wanted = set(query_modalities(query))
    own_inputs = modal_parts(query) is not None  # each part asks for its own media
    for st in kept:
        missing = [] if own_inputs else sorted(m.value for m in wanted - set(st.modalities)
                                               if servable(m, pool))
        extra = sorted(m.value for m in set(st.modalities) - wanted)
        if missing or extra:
            added = set() if own_inputs else {m for m in wanted if servable(m, pool)}
            revised = st.model_copy(update={"modalities": sorted(
                (set(st.modalities) & wanted) | added, key=lambda m: m.value != "text")})
            reason = "; ".join([f"the request asks for {', '.join(missing)} input"] * bool(missing)
                               + [f"the request did not ask for {', '.join(extra)} input"]
                               * bool(extra))
            actions.append(DesignAction(op="revise", name=st.name, subtask=revised,
                                        reason=reason))
    return actions


def apply_actions(subtasks: list[Subtask], actions: list[DesignAction], log: DesignLog,
                  by: str, round_: int, max_subtasks: int) -> list[Subtask]:
    out = list(subtasks)
    for act in actions:
        index = next((i for i, s in enumerate(out) if s.name == act.name), None)
        if act.op == "discard" and index is not None and len(out) > 1:
            out.pop(index)
        elif act.op == "revise" and index is not None and act.subtask is not None:
            out[index] = act.subtask
        elif act.op == "add" and act.subtask is not None and len(out) < max_subtasks \
                and all(s.name != act.subtask.name for s in out):
            out.append(act.subtask)
        else:
            continue
        log.add(act.op, act.name, act.reason, by, round_)
    return out


def _model_review(client: ModelClient, query: Query, subtasks: list[Subtask],
                  notes: list[str], seed: int) -> DesignReview:
    names = {s.name for s in subtasks}

    def check(review: DesignReview) -> None:
        for act in review.actions:
            if act.op in ("revise", "discard") and act.name not in names:
                raise ValueError(f"{act.op} names {act.name!r}, which is not a subtask")
            if act.op in ("revise", "add") and act.subtask is None:
                raise ValueError(f"{act.op} of {act.name!r} needs the full subtask")

    prompt = render("design_review.j2", query=query, subtasks=subtasks, notes=notes)
    return client.generate([{"role": "system", "content": render("design_system.j2")},
                            {"role": "user", "content": prompt}], DesignReview,
                           role="design", check=check, seed=seed, max_tokens=700)


def review_loop(query: Query, subtasks: list[Subtask], pool: Pool, client: ModelClient | None,
                max_subtasks: int, seed: int, log: DesignLog) -> list[Subtask]:
    for round_ in range(1, DESIGN_ROUNDS + 1):
        actions = rules_review(query, subtasks, pool)
        subtasks = apply_actions(subtasks, actions, log, "rules", round_, max_subtasks)
        if client is None:
            return subtasks
        notes = [a.reason for a in actions]
        review = ask_or_fallback(client, "design",
                                 partial(_model_review, query=query, subtasks=subtasks,
                                         notes=notes, seed=seed), lambda _: None)
        if review is None:
            return subtasks
        changes = [a for a in review.actions if a.op != "keep"]
        if review.covered and not changes:
            log.add("check", "*", "the model found the set covers the goal", "model", round_)
            return subtasks
        subtasks = apply_actions(subtasks, changes, log, "model", round_, max_subtasks)
    return apply_actions(subtasks, rules_review(query, subtasks, pool), log, "rules",
                         DESIGN_ROUNDS + 1, max_subtasks)


def design(query: Query, pool: Pool, client: ModelClient | None, max_subtasks: int,
           seed: int = 0, ablate: bool = False,
           floor: float = RELEVANT) -> tuple[list[Subtask], DesignLog]:
    log = DesignLog()
    check_servable(query, pool)
    if ablate:
        log.add("propose", "*", "ablation: the request is the only subtask", "rules")
        return design_ablated(query), log
    subtasks, by = ask_or_fallback(
        client, "design", lambda c: (design_llm(c, query, pool, max_subtasks, seed), "model"),
        lambda _: (design_rules(query, pool, max_subtasks, floor), "rules"))
    for st in subtasks:
        log.add("propose", st.name, st.capability[:120], by)
    return review_loop(query, subtasks, pool, client, max_subtasks, seed, log), log


def _rules_revision(st: Subtask, reasons: list[str]) -> DesignAction:
    text = " ".join(reasons)
    if "answer type" in text and st.answer_type != AnswerType.multiple_choice:
        return DesignAction(op="revise", name=st.name, reason="no dataset gives "
                            f"{st.answer_type.value} answers: asked as multiple choice",
                            subtask=st.model_copy(update={"answer_type":
                                                          AnswerType.multiple_choice}))
    return DesignAction(op="discard", name=st.name,
                        reason="no dataset can serve it: " + "; ".join(reasons)[:240])


def revise_unserved(query: Query, subtasks: list[Subtask], unserved: dict[str, list[str]],
                    client: ModelClient | None, log: DesignLog, round_: int,
                    seed: int = 0) -> list[Subtask]:
    """Feedback from grounding or allocation: revise or discard the subtasks they could not
    serve (the model decides when there is one; rules otherwise or when it fails)."""
    notes = [f"{name}: {'; '.join(r)[:300]}" for name, r in unserved.items()]
    review = ask_or_fallback(client, "design",
                             lambda c: _model_review(c, query, subtasks, notes, seed + round_),
                             lambda _: None)
    actions = [] if review is None else [a for a in review.actions
                                         if a.name in unserved and a.op != "keep"]
    by = "model"
    if not actions:
        actions = [_rules_revision(st, unserved[st.name]) for st in subtasks
                   if st.name in unserved]
        by = "rules"
    revised = apply_actions(subtasks, actions, log, by, round_, len(subtasks))
    if all(st.name in unserved for st in revised) and revised == subtasks:
        detail = "; ".join(f"{n}: {', '.join(r)[:200]}" for n, r in unserved.items())
        raise PlanningError(f"no subtask could be served by the pool ({detail})")
    return revised
