"""Writing small pool files in tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchagent.pool import Pool
from benchagent.pool.starter.generate import MEDIA_SAMPLES_PER_DATASET
from benchagent.records import SourceSample

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def samples_with_params(pool: Pool, dataset_id: str) -> list[tuple[SourceSample, dict[str, Any]]]:
    """A generated dataset's loaded samples, each with the generator values stored in its row."""
    rows = json.loads(Path(pool.card(dataset_id).source).read_text())["data"]
    params = {r["id"]: r["params"] for r in rows}
    samples = pool.samples(dataset_id)
    assert len(samples) == MEDIA_SAMPLES_PER_DATASET
    return [(s, params[s.source_id]) for s in samples]
