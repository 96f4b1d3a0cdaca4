"""ModelClient: cache, concurrency limit, retries and usage around one provider, and typed output.

Structured output runs: pydantic schema → JSON schema → the provider's constrained decoding →
parse + validate (+ the caller's semantic check) → a bounded repair loop → StructuredOutputError.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from benchagent.models.base import (
    Completion,
    CompletionRequest,
    Message,
    ModelError,
    Provider,
    TransientModelError,
)
from benchagent.models.budget import CallBudget
from benchagent.models.cache import ResponseCache, cache_key
from benchagent.models.retry import call_with_retries
from benchagent.models.spec import ModelConfig
from benchagent.prompts import render
from benchagent.trace import Trace

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
F = TypeVar("F")

log = logging.getLogger(__name__)

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class StructuredOutputError(ModelError):
    """The model's output stayed invalid after every repair round."""


class ModelClient:
    def __init__(self, provider: Provider, cfg: ModelConfig, trace: Trace,
                 cache: ResponseCache | None = None, budget: CallBudget | None = None) -> None:
        self.provider = provider
        self.cfg = cfg
        self.trace = trace
        self.cache = cache
        self.budget = budget
        self._limit = threading.BoundedSemaphore(cfg.max_concurrency)
        self._warned_lock = threading.Lock()
        self._warned_slow = False

    @property
    def label(self) -> str:
        return self.cfg.label

    def complete(self, request: CompletionRequest, role: str) -> Completion:
        """The answer, from the cache when it holds it; a new call first passes the budget
        (BudgetReached when the cap is reached: no call starts)."""
        key = cache_key(self.provider.spec, request)
        cached = self.cache.get(key) if self.cache else None
        chars = prompt_chars(request)
        if cached is not None:
            self.trace.model_call(role=role, model=self.label, prompt_tokens=cached.prompt_tokens,
                                  completion_tokens=cached.completion_tokens, latency_s=0.0,
                                  cache_hit=True, cost=None, prompt_chars=chars)
            return cached
        start = time.perf_counter()
        with self._limit:
            if self.budget is not None:
                self.budget.admit()
            completion = self._call(request, role)
        latency = time.perf_counter() - start
        if self.cache:
            self.cache.put(key, completion)
        cost = self._cost(completion)
        if self.budget is not None:
            self.budget.charge(cost)
        self.trace.model_call(role=role, model=self.label, prompt_tokens=completion.prompt_tokens,
                              completion_tokens=completion.completion_tokens, latency_s=latency,
                              cache_hit=False, cost=cost, prompt_chars=chars)
        return completion

    def _call(self, request: CompletionRequest, role: str) -> Completion:
        """The provider's answer, retried within the model's deadline; a warning goes out
        (once per model) when no answer has come after `slow_warning_s`."""
        started = time.monotonic()

        def attempt() -> Completion:
            left = self.cfg.deadline_s - (time.monotonic() - started)
            return self.provider.complete(replace(request, timeout_s=max(left, 0.01)))

        timer = threading.Timer(self.cfg.slow_warning_s, self._warn_slow)
        timer.daemon = True
        timer.start()
        try:
            return call_with_retries(
                attempt, max_retries=self.cfg.max_retries, deadline_s=self.cfg.deadline_s,
                on_retry=lambda attempt, err, delay: self.trace.write(
                    {"event": "retry", "role": role, "model": self.label, "attempt": attempt,
                     "error": str(err), "delay_s": round(delay, 3)}),
            )
        finally:
            timer.cancel()

    def _warn_slow(self) -> None:
        with self._warned_lock:
            if self._warned_slow:
                return
            self._warned_slow = True
        log.warning("%s is not answering: no answer after %gs; still trying until the %gs "
                    "deadline", self.provider.spec, self.cfg.slow_warning_s, self.cfg.deadline_s)

    def _cost(self, completion: Completion) -> float | None:
        if self.cfg.price_in_per_mtok is None or self.cfg.price_out_per_mtok is None:
            return None
        return (completion.prompt_tokens * self.cfg.price_in_per_mtok
                + completion.completion_tokens * self.cfg.price_out_per_mtok) / 1e6

    def generate(self, messages: list[Message], schema: type[T], *, role: str,
                 check: Callable[[T], None] | None = None, max_tokens: int = 768,
                 seed: int = 0) -> T:
        """A validated `schema` instance, repairing invalid output up to `repair_rounds` times.

        `check` raises ValueError for output that parses but is wrong for the caller (an unknown
        dataset id, say); that too goes through the repair loop.
        """
        json_schema = schema.model_json_schema()
        conversation = list(messages)
        errors: list[str] = []
        for round_ in range(self.cfg.repair_rounds + 1):
            request = CompletionRequest(messages=conversation, json_schema=json_schema,
                                        schema_name=schema.__name__, max_tokens=max_tokens,
                                        seed=seed + round_)
            try:
                text = self.complete(request, role).text
            except ModelError as exc:
                if round_ == 0 or isinstance(exc, TransientModelError | StructuredOutputError):
                    raise  # an unreachable model stops the build (resumable), as on a first call
                errors.append(f"the repair request failed: {str(exc).splitlines()[0][:200]}")
                break  # e.g. a context window the repair no longer fits: the fallback decides
            try:
                value = parse_structured(text, schema)
                if check is not None:
                    check(value)
            except ValueError as exc:  # ValidationError is a ValueError
                errors.append(_short_error(exc))
                # only the last answer and its repair: the conversation never grows past one
                conversation = [*messages, {"role": "assistant", "content": text},
                                {"role": "user", "content": render(
                                    "repair.j2", error=errors[-1],
                                    schema=json.dumps(json_schema))}]
                continue
            self.trace.decision(role=role, outcome="repaired" if round_ else "valid",
                                schema=schema.__name__, rounds=round_)
            return value
        raise StructuredOutputError(
            f"{self.label} gave invalid {schema.__name__} output {len(errors)} times; "
            f"last error: {errors[-1]}")


def ask_or_fallback(client: ModelClient | None, role: str, ask: Callable[[ModelClient], R],
                    fallback: Callable[[str], F]) -> R | F:
    """`ask(client)`; when no model is set, or its output stayed invalid after the repair loop,
    `fallback(reason)`, and the trace records the fallback."""
    if client is None:
        return fallback("no model is set for this role")
    try:
        return ask(client)
    except StructuredOutputError as exc:
        client.trace.decision(role=role, outcome="fallback", error=str(exc))
        return fallback(str(exc))


def prompt_chars(request: CompletionRequest) -> int:
    """The characters of the request's text (media parts not counted): what a cost estimate
    measures prompts in before a tokenizer has seen them."""
    total = 0
    for message in request.messages:
        content = message.get("content", "")
        if isinstance(content, str):
            total += len(content)
        else:
            total += sum(len(str(part.get("text", ""))) for part in content
                         if isinstance(part, dict) and part.get("type") == "text")
    return total


def parse_structured(text: str, schema: type[T]) -> T:
    """Parse model text as `schema`, tolerating code fences and prose around one JSON object."""
    candidate = text.strip()
    fenced = _FENCE.search(candidate)
    if fenced:
        candidate = fenced.group(1).strip()
    if not candidate.startswith(("{", "[")):
        start = candidate.find("{")
        end = candidate.rfind("}")
        if start < 0 or end <= start:
            raise ValueError("the answer holds no JSON object")
        candidate = candidate[start:end + 1]
    try:
        data: Any = json.loads(candidate)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at char {exc.pos}") from exc
    return schema.model_validate(data)


def _short_error(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc']) or 'root'}: {e['msg']}"
                 for e in exc.errors()[:5]]
        return "; ".join(parts)
    return str(exc).splitlines()[0][:300]
