"""The planner's feedback loops: grounding sends unserved subtasks back to Design, allocation
sends subtasks short of data back to grounding (wider search) and to Design (revise or drop),
each for a bounded number of rounds. State stays in memory between rounds."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from benchagent.models import ModelClient
from benchagent.planner.allocation import AllocationInfeasible, allocate, build_problem
from benchagent.planner.coverage import SMALLER_THAN_ASKED
from benchagent.planner.design import DesignLog, PlanningError, design_rules
from benchagent.planner.design_loop import revise_unserved
from benchagent.planner.grounding import GroundingOptions, GroundingReport, ground
from benchagent.planner.relevance import RELATED, RELEVANT
from benchagent.pool import Pool
from benchagent.records import Allocation, Query, Subtask


@dataclass(frozen=True)
class PlannerSetup:
    """What the loops need: the request, the pool, the agents' models and the bounds."""

    query: Query
    pool: Pool
    design: ModelClient | None
    grounding: ModelClient | None
    allocation: ModelClient | None
    seed: int
    rounds: int  # design ↔ grounding ↔ allocation rounds
    max_subtasks: int
    ablate_design: bool
    ablate_scoring: bool
    with_executor_model: bool
    rejection_rate: float  # expected share of candidates the verifier rejects
    include_related: bool = False  # related datasets may serve the request

    def options(self, wide: bool = False) -> GroundingOptions:
        return GroundingOptions(k=16 if wide else 8, keep=5 if wide else 3,
                                ablate_scoring=self.ablate_scoring,
                                with_executor_model=self.with_executor_model,
                                include_related=self.include_related)


@dataclass
class PlanState:
    subtasks: list[Subtask]
    report: GroundingReport
    log: DesignLog


def ground_with_feedback(setup: PlannerSetup, subtasks: list[Subtask], log: DesignLog,
                         report: GroundingReport | None = None,
                         pending: list[Subtask] | None = None,
                         opts: GroundingOptions | None = None) -> PlanState:
    """Ground `pending` (default: all); subtasks left without a plan go back to Design with the
    reasons, for bounded rounds. Unserved subtasks left at the end are dropped and logged."""
    report = report or GroundingReport()
    opts = opts or setup.options()
    pending = subtasks if pending is None else pending
    for round_ in range(1, setup.rounds + 1):
        with contextlib.suppress(PlanningError):  # all unserved: Design gets the reasons below
            ground(pending, setup.query, setup.pool, setup.grounding, setup.seed, opts, report)
        unserved = report.unserved(subtasks)
        if not unserved or round_ == setup.rounds:
            break
        revised = revise_unserved(setup.query, subtasks, unserved, setup.design, log, round_,
                                  setup.seed)
        pending = [s for s in revised if s not in subtasks]
        subtasks = revised
    served = [s for s in subtasks if s.name not in report.unserved(subtasks)]
    names = {s.name for s in served}  # groundings of subtasks Design dropped go with them
    report.groundings = [g for g in report.groundings if g.subtask in names]
    for st in subtasks:
        if st not in served:
            log.add("discard", st.name, "still unserved after the feedback rounds", "rules", -1)
    if not served:
        raise PlanningError("no subtask could be grounded in the pool (" + "; ".join(
            f"{r.subtask} × {r.dataset}: {r.reason}" for r in report.rejected[:4]) + ")")
    return PlanState(served, report, log)


def ground_designed(setup: PlannerSetup, subtasks: list[Subtask], log: DesignLog) -> PlanState:
    """Grounding with Design feedback; when no subtask the model designed can be grounded, the
    rules design takes over (and the trace says so)."""
    try:
        return ground_with_feedback(setup, subtasks, log)
    except PlanningError as exc:
        if setup.design is None or setup.ablate_design:
            raise
        setup.design.trace.decision(role="design", outcome="fallback",
                                    error=f"no designed subtask could be grounded: {exc}")
    rules = design_rules(setup.query, setup.pool, setup.max_subtasks,
                         RELATED if setup.include_related else RELEVANT)
    for st in rules:
        log.add("propose", st.name, "rules design after the model's could not be grounded",
                "rules", -1)
    return ground_with_feedback(setup, rules, log)


def _allocate(setup: PlannerSetup, state: PlanState) -> Allocation:
    return allocate(setup.query, state.subtasks, state.report.groundings, setup.pool,
                    setup.query.target_size, setup.allocation, setup.seed,
                    expected_rejection_rate=setup.rejection_rate)


def allocate_with_feedback(setup: PlannerSetup, state: PlanState) -> tuple[PlanState, Allocation]:
    """Allocation; when it needs upstream work, grounding widens its search for the subtasks
    short of data and Design revises or drops the ones it names, then allocation reruns."""
    for round_ in range(1, setup.rounds):
        try:
            return state, _allocate(setup, state)
        except AllocationInfeasible as exc:
            more = set(exc.feedback.needs_more_datasets)
            revised = state.subtasks
            if exc.feedback.drop_or_merge:
                reasons = {n: [str(exc)] for n in exc.feedback.drop_or_merge}
                revised = revise_unserved(setup.query, state.subtasks, reasons, setup.design,
                                          state.log, 10 + round_, setup.seed)
            pending = [s for s in revised if s.name in more or s not in state.subtasks]
            state.log.add("allocation", "*", f"{str(exc)[:300]}; grounding widened for "
                          f"{', '.join(sorted(more)) or 'none'}", "rules", 10 + round_)
            state = ground_with_feedback(setup, revised, state.log, state.report, pending,
                                         setup.options(wide=bool(more)))
    try:
        return state, _allocate(setup, state)
    except AllocationInfeasible:
        smaller = _what_the_pool_holds(setup, state)
        if smaller is None:
            raise
        return state, smaller



def _what_the_pool_holds(setup: PlannerSetup, state: PlanState) -> Allocation | None:
    """When the datasets that serve the request hold fewer usable samples than the target, the
    plan takes what they hold rather than pad it with datasets that do not serve it."""
    target = setup.query.target_size
    problem = build_problem(state.subtasks, state.report.groundings, setup.pool, target,
                            expected_rejection_rate=setup.rejection_rate)
    live = problem.live()
    usable = problem.capacity(live)
    if not live or usable >= target:
        return None
    held = sum(problem.sizes[d] for d in {d for s, d in problem.pairs if s in live})
    try:
        smaller = allocate(setup.query, state.subtasks, state.report.groundings, setup.pool,
                           usable, setup.allocation, setup.seed,
                           expected_rejection_rate=setup.rejection_rate)
    except AllocationInfeasible:
        return None
    note = (f"{SMALLER_THAN_ASKED}the pool holds {held} source samples that serve the request "
            f"({', '.join(f'{n}: {problem.capacity_of(n)} usable' for n in live)}), so "
            f"{usable} items are planned for the target {target}: add datasets that test it "
            "(--pool), lower --size, or let related datasets in (--include-related)")
    state.log.add("allocation", "*", note, "rules", 99)
    return smaller.model_copy(update={"target_size": target, "notes": [note, *smaller.notes]})
