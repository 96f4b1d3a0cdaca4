"""A cap on the model calls (and their cost) of one command, shared by all its clients.

The cap means "no new call starts once it is reached": calls already in flight finish and are
counted. A cached answer is no call. Reaching the cap raises `BudgetReached`, which is not a
`ModelError`: nothing catches it as a failed call, so the work it interrupts is left undone
(as on a kill), never recorded as a failure, and a resumed run redoes it from the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from benchagent.errors import BenchagentError, UserError
from benchagent.models.spec import ModelConfig

RESUME_HINT = "resume with a higher {flag} to finish"


class BudgetReached(BenchagentError):
    """The run stopped at its call or cost cap; the message is the one line the user sees."""

    def __init__(self, message: str, kind: str, cap: float) -> None:
        super().__init__(message)
        self.kind = kind
        self.cap = cap


@dataclass(frozen=True)
class Caps:
    """The most calls and the most US dollars (None: no cap)."""

    max_calls: int | None = None
    max_cost: float | None = None

    @property
    def any(self) -> bool:
        return self.max_calls is not None or self.max_cost is not None

    @classmethod
    def checked(cls, max_calls: int | None, max_cost: float | None) -> Caps:
        if max_calls is not None and max_calls < 1:
            raise UserError(f"--max-calls must be at least 1, got {max_calls}")
        if max_cost is not None and not max_cost > 0:
            raise UserError(f"--max-cost must be above 0, got {max_cost}")
        return cls(max_calls, max_cost)


def check_prices(caps: Caps, configs: Sequence[ModelConfig | None]) -> None:
    """A cost cap needs the price of every model it counts: prices are never guessed."""
    if caps.max_cost is None:
        return
    unpriced = sorted({c.label for c in configs if c is not None and
                       (c.price_in_per_mtok is None or c.price_out_per_mtok is None)})
    if unpriced:
        raise UserError(f"--max-cost needs the price of every model: set price_in_per_mtok "
                        f"and price_out_per_mtok for {', '.join(unpriced)} in the config's "
                        "[models]")


class CallBudget:
    """Counts calls and cost against `caps`, starting from what was `spent` before (a resumed
    build continues its count). Thread-safe."""

    def __init__(self, caps: Caps, spent_calls: int = 0, spent_cost: float = 0.0,
                 hint: str = RESUME_HINT) -> None:
        self.caps = caps
        self.calls = spent_calls
        self.cost = spent_cost
        self._hint = hint
        self._lock = threading.Lock()

    def admit(self) -> None:
        """Count one call about to start, or raise BudgetReached when a cap is reached."""
        with self._lock:
            max_calls, max_cost = self.caps.max_calls, self.caps.max_cost
            if max_calls is not None and self.calls >= max_calls:
                raise BudgetReached(
                    f"stopped at the call cap ({max_calls} calls): "
                    + self._hint.format(flag="--max-calls"), "calls", max_calls)
            if max_cost is not None and self.cost >= max_cost:
                raise BudgetReached(
                    f"stopped at the cost cap (${max_cost:g}, ${self.cost:.4f} spent): "
                    + self._hint.format(flag="--max-cost"), "cost", max_cost)
            self.calls += 1

    def charge(self, cost: float | None) -> None:
        if cost is not None:
            with self._lock:
                self.cost += cost
