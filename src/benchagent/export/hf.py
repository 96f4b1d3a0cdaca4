"""The Hugging Face datasets export: one Parquet file per subtask whose `images` and `audio`
columns hold the files' bytes (`{bytes, path}` structs typed as `Image()` / `Audio()` in the
Parquet's datasets metadata, so that no torch is needed to write them), and a dataset card with
a config per subtask plus `all`: `datasets.load_dataset(FOLDER, CONFIG)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchagent.export.common import (
    Benchmark,
    ExportError,
    Row,
    Written,
    fresh_folder,
    item_row,
    licences,
    render,
    sources,
)
from benchagent.records import BenchmarkSample, Modality

TARGET = "hf"
_STRINGS = ("id", "subtask", "instruction", "question", "context", "answer", "answer_type",
            "prompt", "license", "source_dataset", "provenance")


def _value(dtype: str = "string") -> dict[str, str]:
    return {"dtype": dtype, "_type": "Value"}


FEATURES: dict[str, Any] = {
    **{name: _value() for name in _STRINGS},
    "options": {"feature": _value(), "_type": "List"},
    "images": {"feature": {"_type": "Image"}, "_type": "List"},
    "audio": {"feature": {"_type": "Audio"}, "_type": "List"},
}


def _media_structs(benchmark: Benchmark, sample: BenchmarkSample,
                   kind: Modality) -> list[dict[str, Any]]:
    structs = []
    for media in sample.media:
        if media.kind != kind:
            continue
        path = benchmark.run_dir / media.path
        try:
            structs.append({"bytes": path.read_bytes(), "path": path.name})
        except OSError as exc:
            raise ExportError(f"cannot read the item's media {media.path}: "
                              f"{exc.strerror or exc}") from exc
    return structs


def _record(benchmark: Benchmark, sample: BenchmarkSample) -> Row:
    row = item_row(sample)
    row["images"] = _media_structs(benchmark, sample, Modality.image)
    row["audio"] = _media_structs(benchmark, sample, Modality.audio)
    return row


def _table(rows: list[Row]) -> Any:
    import pyarrow as pa

    media = pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
    schema = pa.schema(
        [(name, pa.string()) for name in _STRINGS]
        + [("options", pa.list_(pa.string())), ("images", media), ("audio", media)],
        metadata={"huggingface": json.dumps({"info": {"features": FEATURES}})},
    )
    return pa.Table.from_pylist(rows, schema=schema)


def write(benchmark: Benchmark, folder: Path) -> Written:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ExportError("hf: needs pyarrow (pip install 'benchagent[formats]')") from exc
    fresh_folder(folder)
    subtasks = benchmark.subtasks()
    for subtask in subtasks:
        rows = [_record(benchmark, s) for s in subtask.samples]
        (folder / "data").mkdir(exist_ok=True)
        pq.write_table(_table(rows), folder / "data" / f"{subtask.slug}.parquet")
    samples = benchmark.samples
    (folder / "README.md").write_text(render(
        "hf_README.md.tmpl", name=benchmark.name, subtasks=subtasks, items=len(samples),
        licences=licences(samples), sources=sources(samples),
        request=benchmark.query.description,
        modalities=sorted({m.kind.value for s in samples for m in s.media} | {"text"})))
    return Written(TARGET, folder, len(samples))
