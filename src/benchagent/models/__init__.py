"""Model layer: providers behind one interface, bound to roles."""

from __future__ import annotations

from pathlib import Path

from benchagent.models.base import (
    Completion,
    CompletionRequest,
    InputRejectedError,
    Message,
    ModelError,
    Provider,
    TransientModelError,
    media_parts,
)
from benchagent.models.budget import BudgetReached, CallBudget, Caps, check_prices
from benchagent.models.cache import ResponseCache
from benchagent.models.client import (
    ModelClient,
    StructuredOutputError,
    ask_or_fallback,
    parse_structured,
    prompt_chars,
)
from benchagent.models.mock import MockProvider, MockRule
from benchagent.models.spec import ModelConfig, parse_model_spec
from benchagent.trace import Trace

__all__ = [
    "BudgetReached",
    "CallBudget",
    "Caps",
    "Completion",
    "CompletionRequest",
    "InputRejectedError",
    "Message",
    "MockProvider",
    "MockRule",
    "ModelClient",
    "ModelConfig",
    "ModelError",
    "Provider",
    "ResponseCache",
    "RoleModels",
    "StructuredOutputError",
    "TransientModelError",
    "ask_or_fallback",
    "check_prices",
    "make_provider",
    "media_parts",
    "parse_model_spec",
    "parse_structured",
    "prompt_chars",
]


def make_provider(cfg: ModelConfig) -> Provider:
    if cfg.provider == "mock":
        return MockProvider(cfg)
    if cfg.provider == "openai":
        from benchagent.models.openai_provider import OpenAIProvider

        return OpenAIProvider(cfg)
    from benchagent.models.local_provider import LocalProvider

    return LocalProvider(cfg)


class RoleModels:
    """role → ModelClient (or None: the rules policy). Roles bound to one config share a client,
    so they share its concurrency limit, and a local model is loaded once."""

    def __init__(self, configs: dict[str, ModelConfig | None], trace: Trace,
                 cache_path: Path | None, budget: CallBudget | None = None) -> None:
        self.trace = trace
        self.cache = ResponseCache(cache_path) if cache_path else None
        self.budget = budget
        self._clients: dict[str, ModelClient | None] = {}
        shared: dict[str, ModelClient] = {}
        for role, cfg in configs.items():
            if cfg is None:
                self._clients[role] = None
                continue
            key = cfg.model_dump_json()
            if key not in shared:
                shared[key] = ModelClient(make_provider(cfg), cfg, trace, self.cache, budget)
            self._clients[role] = shared[key]
        self.configs = configs

    def get(self, role: str) -> ModelClient | None:
        return self._clients.get(role)

    def labels(self) -> dict[str, str]:
        return {role: (c.label if c else "rules") for role, c in self._clients.items()}

    def close(self) -> None:
        if self.cache:
            self.cache.close()
