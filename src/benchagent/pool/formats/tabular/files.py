"""Reading tabular data files into rows: JSONL, CSV / TSV, Parquet and Arrow (IPC stream/file).

Every reader returns the rows it could read, each with its position in the file (bad records
count too, so ids stay put when a broken line is fixed), and warns about the rest. Parquet and
Arrow need pyarrow, from the optional extra `benchagent[formats]`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from benchagent.pool.base import LoadContext, read_bytes, read_text, size_ok

JSONL = (".jsonl", ".ndjson")
CSV = (".csv", ".tsv")
PARQUET = (".parquet",)
ARROW = (".arrow",)
DATA_SUFFIXES = JSONL + CSV + PARQUET + ARROW
PYARROW_HINT = "pip install 'benchagent[formats]'"


@dataclass
class Row:
    file: Path
    pos: int  # position of the record in its file, counting records that were skipped
    data: dict[str, Any]


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    records: int = 0  # records in the file, good or bad
    features: dict[str, Any] = field(default_factory=dict)  # Hugging Face features, if any


def format_of(path: Path) -> str:
    name = path.name.lower()
    for fmt, suffixes in (("jsonl", JSONL), ("csv", CSV), ("parquet", PARQUET),
                          ("arrow", ARROW)):
        if name.endswith(suffixes):
            return fmt
    return ""


def pyarrow_or_warn(path: Path | str, ctx: LoadContext, what: str) -> ModuleType | None:
    """The pyarrow module, or None with a warning naming the extra that provides it."""
    try:
        import pyarrow
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError:
        ctx.sink.warn(path, f"reading {what} needs pyarrow: {PYARROW_HINT}")
        return None
    return pyarrow


def read_table(path: Path, ctx: LoadContext) -> Table | None:
    """The rows of one data file, or None with a warning when the file is unusable."""
    fmt = format_of(path)
    if fmt == "jsonl":
        return _read_jsonl(path, ctx)
    if fmt == "csv":
        return _read_csv(path, ctx)
    if fmt in ("parquet", "arrow"):
        return _read_arrow_like(path, ctx, fmt)
    ctx.sink.warn(path, "not a data file this pool reads (.jsonl, .csv, .tsv, .parquet, .arrow)")
    return None


def _read_jsonl(path: Path, ctx: LoadContext) -> Table | None:
    raw = read_bytes(path, ctx)
    if raw is None:
        return None
    table = Table()
    for lineno, line in enumerate(raw.removeprefix(b"\xef\xbb\xbf").splitlines(), start=1):
        if not line.strip():
            continue
        pos = table.records
        table.records += 1
        where = f"{path}:{lineno}"
        try:
            value = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            ctx.sink.warn(where, f"line {lineno} is not valid UTF-8 text")
            continue
        except json.JSONDecodeError as e:
            ctx.sink.warn(where, f"line {lineno} is not valid JSON: {e.msg} at column {e.colno}")
            continue
        except RecursionError:
            ctx.sink.warn(where, f"line {lineno} is not valid JSON: nested too deeply")
            continue
        if not isinstance(value, dict):
            ctx.sink.warn(where, f"line {lineno} is not a JSON object")
            continue
        table.rows.append(Row(path, pos, value))
    return table


def _read_csv(path: Path, ctx: LoadContext) -> Table | None:
    text = read_text(path, ctx)
    if text is None:
        return None
    delimiter = "\t" if path.name.lower().endswith(".tsv") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error):
        header = []
    if not any(header) or len(set(header)) != len(header):
        ctx.sink.warn(path, "no usable header row (empty or repeated column names)")
        return None
    table = Table()
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            table.records += 1
            ctx.sink.warn(f"{path}:{reader.line_num}", f"malformed CSV row: {e}")
            continue
        if not record:
            continue
        pos = table.records
        table.records += 1
        if len(record) != len(header):
            ctx.sink.warn(f"{path}:{reader.line_num}", f"malformed CSV row: {len(record)} "
                          f"fields where the header has {len(header)}")
            continue
        table.rows.append(Row(path, pos, dict(zip(header, record, strict=True))))
    return table


def _read_arrow_like(path: Path, ctx: LoadContext, fmt: str) -> Table | None:
    what, article = ("Parquet", "a") if fmt == "parquet" else ("Arrow", "an")
    pa = pyarrow_or_warn(path, ctx, f"{what} files")
    if pa is None:
        return None
    if not size_ok(path, ctx):
        return None
    try:
        data = pa.parquet.read_table(path) if fmt == "parquet" else read_arrow_file(pa, path)
    except (pa.ArrowException, OSError, ValueError) as e:
        ctx.sink.warn(path, f"not {article} {what} file ({_one_line(e)})")
        return None
    return table_from_arrow(path, data)


def read_arrow_file(pa: ModuleType, path: Path) -> Any:
    """An Arrow IPC stream (what `save_to_disk` writes), or else an IPC file."""
    with pa.memory_map(str(path)) as source:
        try:
            return pa.ipc.open_stream(source).read_all()
        except pa.ArrowInvalid:
            source.seek(0)
            return pa.ipc.open_file(source).read_all()


def table_from_arrow(path: Path, data: Any) -> Table:
    """Rows of a pyarrow Table, with the Hugging Face features kept in its schema metadata."""
    rows = data.to_pylist()
    table = Table(records=len(rows), features=hf_features(data.schema.metadata))
    table.rows = [Row(path, i, _plain(r)) for i, r in enumerate(rows)]
    return table


def hf_features(metadata: dict[bytes, bytes] | None) -> dict[str, Any]:
    """The `features` that `datasets` stores in a table's schema metadata, or {}."""
    raw = (metadata or {}).get(b"huggingface")
    if not raw:
        return {}
    try:
        info = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    features = info.get("info", {}).get("features") if isinstance(info, dict) else None
    return features if isinstance(features, dict) else {}


def _plain(value: Any) -> Any:
    """Arrow values as JSON-like Python: dates, times and decimals become text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.time | dt.timedelta | Decimal):
        return str(value)
    return value


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:200] or type(e).__name__
