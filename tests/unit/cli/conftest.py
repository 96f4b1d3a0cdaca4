"""The built runs that the `eval` and `judge` tests share (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalruns import build_runs


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A text, an image and an audio benchmark; tests copy them (`evalruns.fresh`)."""
    root = tmp_path_factory.mktemp("eval-runs")
    env = {"BENCHAGENT_CACHE": str(tmp_path_factory.getbasetemp() / "benchagent-cache")}
    return build_runs(root, env)
