"""Executor: per-sample transformation, verification, replenishment, and assembly."""
