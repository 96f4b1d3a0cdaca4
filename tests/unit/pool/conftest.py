"""Fixtures for the pool tests: the real shared pools (never copied) and a starter pool."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import SHARED_POOLS

from benchagent.pool import Pool, generate_starter_pool

GENERAL_BENCH = SHARED_POOLS / "general-bench"
BIGBENCH = SHARED_POOLS / "bigbench"


def _require(path: Path) -> Path:
    if not path.is_dir():
        pytest.fail(f"shared test pool not found at {path}")
    return path


@pytest.fixture(scope="session")
def gb_root() -> Path:
    return _require(GENERAL_BENCH)


@pytest.fixture(scope="session")
def bb_root() -> Path:
    return _require(BIGBENCH)


@pytest.fixture(scope="session")
def gb_pool(gb_root: Path) -> Pool:
    return Pool.load([gb_root])


@pytest.fixture(scope="session")
def bb_pool(bb_root: Path) -> Pool:
    return Pool.load([bb_root])


@pytest.fixture(scope="session")
def starter_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_starter_pool(tmp_path_factory.mktemp("starter"), seed=0)


@pytest.fixture(scope="session")
def starter_pool(starter_root: Path) -> Pool:
    return Pool.load([starter_root])


@pytest.fixture(scope="session")
def all_pool(gb_root: Path, bb_root: Path, starter_root: Path) -> Pool:
    return Pool.load([gb_root, bb_root, starter_root])


@pytest.fixture(scope="session")
def by_name() -> Callable[[Pool, str], str]:
    """The id of the dataset called `name` in a pool (exactly one must exist)."""

    def find(pool: Pool, name: str) -> str:
        ids = [c.id for c in pool.cards if c.name == name]
        assert len(ids) == 1, f"{name}: {ids}"
        return ids[0]

    return find
