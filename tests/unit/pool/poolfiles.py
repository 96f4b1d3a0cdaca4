"""Writing small pool files in tests."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path
from typing import Any

import pyarrow as pa
from PIL import Image

from benchagent.pool import Pool
from benchagent.pool.starter.generate import MEDIA_SAMPLES_PER_DATASET
from benchagent.records import SourceSample


def png_bytes(size: tuple[int, int] = (2, 2), color: str = "white") -> bytes:
    """A real PNG: the pool decodes every image it indexes."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


PNG = png_bytes()


def wav_bytes(frames: int = 800, rate: int = 8000) -> bytes:
    """A real WAV (16-bit mono silence): the pool decodes every clip it indexes."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(b"\x00\x00" * frames)
    return buffer.getvalue()


WAV = wav_bytes()
LABELS = ["negative", "positive"]
FEATURES = {"text": {"dtype": "string", "_type": "Value"},
            "label": {"names": LABELS, "_type": "ClassLabel"}}


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


def hf_table(columns: dict[str, list[Any]], features: dict[str, Any]) -> pa.Table:
    """A table as `datasets` writes it: the features in the schema metadata."""
    meta = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.table(columns).replace_schema_metadata(meta)


def save_split(folder: Path, columns: dict[str, list[Any]], features: dict[str, Any],
               split: str, info: dict[str, Any] | None = None) -> Path:
    """What `Dataset.save_to_disk` writes: an Arrow IPC stream, state.json, dataset_info.json."""
    folder.mkdir(parents=True, exist_ok=True)
    table = hf_table(columns, features)
    with pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink, \
            pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    state = {"_data_files": [{"filename": "data-00000-of-00001.arrow"}],
             "_fingerprint": f"fp-{split}", "_format_type": None, "_split": split}
    (folder / "state.json").write_text(json.dumps(state))
    doc = {"features": features, **(info or {})}
    (folder / "dataset_info.json").write_text(json.dumps(doc))
    return folder


def sentiment(n: int, start: int = 0) -> dict[str, list[Any]]:
    return {"text": [f"This film was {'great' if i % 2 else 'awful'}, number {i}."
                     for i in range(start, start + n)],
            "label": [i % 2 for i in range(start, start + n)]}
