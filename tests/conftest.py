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
pytest_plugins = ["browser"]  # the browser_page fixture: headless Chromium for page tests
# Session fixtures that are slow to make (a model server, built runs). scripts/test.sh runs the
# tests on pytest-xdist workers with --dist loadgroup: the tests sharing one of these, or a
# module-scoped fixture, go to one worker, so each is made once.
SLOW_SESSION_FIXTURES = {"llama_server", "runs", "starter_runs"}


def pytest_configure(config: pytest.Config) -> None:
    """On an xdist worker, one CPU process per build: the workers already use every core."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ.setdefault("BENCHAGENT_CPU_WORKERS", "1")


def _shared_fixtures(item: pytest.Item) -> list[str]:
    """Keys of the slow fixtures `item` uses: module-scoped ones by module, slow session ones
    by where they are defined."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    keys = []
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name)
        if not definitions:
            continue
        scope = definitions[-1].scope
        if scope == "module":
            keys.append(item.nodeid.split("::")[0])
        elif scope == "session" and name in SLOW_SESSION_FIXTURES:
            keys.append(f"{definitions[-1].baseid}:{name}")
    return keys


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One xdist group per set of tests linked by the slow fixtures they share."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    used = {item.nodeid: _shared_fixtures(item) for item in items}
    for keys in used.values():
        for key in keys[1:]:
            parent[root(key)] = root(keys[0])
    for item in items:
        if used[item.nodeid]:
            item.add_marker(pytest.mark.xdist_group(root(used[item.nodeid][0])))


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
