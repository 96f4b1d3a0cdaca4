"""Fixtures shared by every test: the shared pools and the one mock model."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from benchagent.models import MockProvider, MockRule, ModelClient, ModelConfig
from benchagent.trace import Trace

REPO = Path(__file__).resolve().parents[1]
SHARED_POOLS = Path(os.environ.get("BENCHAGENT_SHARED_POOLS", REPO.parent / "shared" / "pools"))
SHARED_QUERIES = SHARED_POOLS.parent / "queries"
# browser: the browser_page fixture (headless Chromium for page tests); xdist_groups: the tests
# that share a slow fixture run on one pytest-xdist worker.
pytest_plugins = ["browser", "xdist_groups"]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the starter pool and model caches of tests out of the user's home."""
    cache = tmp_path_factory.getbasetemp() / "benchagent-cache"
    monkeypatch.setenv("BENCHAGENT_CACHE", str(cache))


@pytest.fixture
def shared_pools() -> Path:
    if not SHARED_POOLS.is_dir():
        pytest.fail(f"shared pools not found at {SHARED_POOLS}")
    return SHARED_POOLS


MockFactory = Callable[..., ModelClient]


@pytest.fixture
def mock_client() -> MockFactory:
    """A ModelClient over the mock provider; pass MockRule(match, response, times) to script it."""

    def make(*rules: MockRule, repair_rounds: int = 2, trace: Trace | None = None) -> ModelClient:
        cfg = ModelConfig(provider="mock", repair_rounds=repair_rounds, max_retries=0)
        return ModelClient(MockProvider(cfg, list(rules)), cfg, trace or Trace())

    return make
