"""Retry policy for model calls: exponential backoff with full jitter, honouring Retry-After.

Only `TransientModelError` is retried. A plain `ModelError` passes through at once, and when the
retries run out the last transient error is re-raised as a plain `ModelError`, so that no outer
layer retries it again.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import TypeVar

from benchagent.models.base import ModelError, TransientModelError

T = TypeVar("T")

MAX_RETRY_AFTER = 120.0  # a server asking for a longer pause than this is not worth waiting for
_MAX_EXPONENT = 32  # 2**32 * base_delay is far above any max_delay; avoids float overflow

OnRetry = Callable[[int, TransientModelError, float], None]


def backoff_delay(
    attempt: int,
    *,
    base_delay: float,
    max_delay: float,
    rng: random.Random,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait before retry number `attempt` (1-based).

    Full jitter: uniform in [0, min(max_delay, base_delay * 2**(attempt-1))]. A server's
    Retry-After is a floor (capped at MAX_RETRY_AFTER), never shortened by the jitter.
    """
    exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
    ceiling = max(0.0, min(max_delay, base_delay * 2.0**exponent))
    delay = rng.uniform(0.0, ceiling)
    if retry_after is not None and math.isfinite(retry_after):
        delay = max(delay, min(max(retry_after, 0.0), MAX_RETRY_AFTER))
    return delay


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


_SLACK_S = 0.05  # a timeout may fire a little before the time it was given


def call_with_retries(
    fn: Callable[[], T],
    *,
    max_retries: int,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: OnRetry | None = None,
    deadline_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call `fn`, retrying `TransientModelError` up to `max_retries` times, and never retrying
    once `deadline_s` seconds (from the first attempt) would pass before the next one.

    `on_retry(attempt, error, delay)` runs before each pause; `attempt` is the 1-based number of
    the retry about to happen. Raises `ModelError("gave up after N attempts: <reason>")` when
    every attempt failed transiently, naming the deadline when that is what stopped it.
    """
    if max_retries < 0:
        raise ValueError(f"max_retries must be >= 0, got {max_retries}")
    rng = rng if rng is not None else random.Random()
    started = clock()
    retries = 0
    while True:
        try:
            return fn()
        except TransientModelError as err:
            attempts = _plural(retries + 1, "attempt")
            last = retries >= max_retries
            delay = 0.0 if last else backoff_delay(
                retries + 1, base_delay=base_delay, max_delay=max_delay, rng=rng,
                retry_after=err.retry_after)
            # the deadline cut the last attempt short, or leaves no time for the next one
            if deadline_s is not None and \
                    clock() - started + delay >= deadline_s - (_SLACK_S if last else 0.0):
                raise ModelError(f"gave up after {attempts} at the {deadline_s:g}s deadline: "
                                 f"{err}") from err
            if last:
                raise ModelError(f"gave up after {attempts}: {err}") from err
            retries += 1
            if on_retry is not None:
                on_retry(retries, err, delay)
            sleep(delay)
