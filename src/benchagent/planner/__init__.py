"""Planner: Design, Grounding and Allocation agents (each with an llm and a rules policy)."""

from benchagent.planner.allocation import allocate, pair_candidates
from benchagent.planner.design import PlanningError
from benchagent.planner.design_loop import design
from benchagent.planner.grounding import ground
from benchagent.planner.plan_doc import render_plan_md

__all__ = ["PlanningError", "allocate", "design", "ground", "pair_candidates", "render_plan_md"]
