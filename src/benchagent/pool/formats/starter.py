"""The project's starter pool (pool/starter writes it): the General-Bench layout plus a
`pool.json` marker that says `"format": "starter"` and gives the license of every dataset.

It loads as a General-Bench root does (`generalbench.open_pool` reads the marker, so its
datasets are also "starter" when a walk finds their annotation files); this loader is what
tells a starter pool from a General-Bench one.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchagent.pool.base import LoadContext, LoadedDataset, is_inside, real_path
from benchagent.pool.formats.generalbench import MARKER, load_root

_MAX_MARKER_BYTES = 1 << 20


def is_starter_pool(path: Path) -> bool:
    """A folder with `datasets/` and a readable `pool.json` that names the starter format."""
    marker = path / MARKER
    if not ((path / "datasets").is_dir() and marker.is_file()):
        return False
    real, root = real_path(marker), real_path(path)
    if real is None or root is None or not is_inside(real, root):
        return False  # never opened here; the General-Bench loader refuses it with the reason
    try:
        if marker.stat().st_size > _MAX_MARKER_BYTES:
            return False
        meta = json.loads(marker.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return False  # the General-Bench loader reads it again and warns
    return isinstance(meta, dict) and meta.get("format") == "starter"


class StarterLoader:
    """A starter pool root."""

    name = "starter"

    def recognises(self, path: Path) -> bool:
        return path.is_dir() and is_starter_pool(path)

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_root(path, ctx)
