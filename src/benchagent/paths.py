"""Where benchagent keeps what it can rebuild: one rule for every cache of the project."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$BENCHAGENT_CACHE, else ~/.cache/benchagent."""
    env = os.environ.get("BENCHAGENT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "benchagent"
