"""Where benchagent keeps what it can rebuild: one rule for every cache of the project."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$BENCHAGENT_CACHE, else ~/.cache/benchagent."""
    env = os.environ.get("BENCHAGENT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "benchagent"


HUB_PREFIX = "hf:"  # a pool path that names a Hugging Face dataset: hf:ORG/NAME[:config][@split]


def pool_path(path: str | Path, base: Path | None = None) -> Path:
    """A pool path made absolute against `base` (else the working folder); a Hugging Face id
    (`hf:...`) is kept as it is, unless a local path of that very name exists."""
    given = Path(path).expanduser()
    local = (base / given) if base is not None else given
    if str(path).startswith(HUB_PREFIX) and not local.exists():
        return Path(str(path))
    return local.resolve()
