"""Reading tabular data files into rows: JSONL, CSV / TSV, Parquet and Arrow (IPC stream/file).

Every reader returns the rows it could read, each with its position in the file (bad records
count too, so ids stay put when a broken line is fixed), and warns about the rest. JSONL and CSV
are read line by line, no line longer than `MAX_LINE_BYTES`; a CSV that the `csv` module cannot
parse strictly (an unbalanced quote merges the rows after it) is refused whole. Parquet and
Arrow need pyarrow, from the optional extra `benchagent[formats]`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from benchagent.pool.base import LoadContext, size_ok, too_deep
from benchagent.pool.limits import MAX_JSON_DEPTH, MAX_LINE_BYTES, MAX_RECORDS

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


class TooManyRecords(Exception):
    """A data file holds more than `MAX_RECORDS` records."""

    def __str__(self) -> str:
        return (f"more than {MAX_RECORDS} records, over the record limit (split the file or "
                "take a sample of it)")


def count_record(table: Table) -> int:
    """The next record's position; TooManyRecords past the limit."""
    if table.records >= MAX_RECORDS:
        raise TooManyRecords
    table.records += 1
    return table.records - 1


class LineTooLong(Exception):
    """A line of a data file is over `MAX_LINE_BYTES`."""

    def __init__(self, lineno: int) -> None:
        super().__init__(f"line {lineno} is over the {MAX_LINE_BYTES}-byte line limit")
        self.lineno = lineno


def physical_lines(stream: IO[bytes], keepends: bool = False) -> Iterator[bytes]:
    """The lines of a binary stream ending in \n, \r\n or \r (as `bytes.splitlines` cuts
    them, a leading UTF-8 BOM dropped), never reading more than one line limit at a time."""
    lineno = 0
    while chunk := stream.readline(MAX_LINE_BYTES + 1):
        if lineno == 0:
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            raise LineTooLong(lineno + 1)
        for line in chunk.splitlines(keepends=keepends):
            lineno += 1
            yield line


def _read_jsonl(path: Path, ctx: LoadContext) -> Table | None:
    if not size_ok(path, ctx):
        return None
    table = Table()
    try:
        with path.open("rb") as stream:
            for lineno, line in enumerate(physical_lines(stream), start=1):
                _jsonl_record(table, path, lineno, line, ctx)
    except (LineTooLong, TooManyRecords) as e:
        where = f"{path}:{e.lineno}" if isinstance(e, LineTooLong) else str(path)
        ctx.sink.warn(where, f"{e}; file not read")
        return None
    except OSError as e:
        ctx.sink.warn(path, f"cannot read file: {e.strerror or e}")
        return None
    return table


def _jsonl_record(table: Table, path: Path, lineno: int, line: bytes, ctx: LoadContext) -> None:
    """One JSONL line: a row of `table`, or a warning (a blank line is neither)."""
    if not line.strip():
        return
    pos = count_record(table)
    where = f"{path}:{lineno}"
    try:
        value = json.loads(line.decode("utf-8"))
        deep = too_deep(value)
    except UnicodeDecodeError:
        ctx.sink.warn(where, f"line {lineno} is not valid UTF-8 text")
        return
    except json.JSONDecodeError as e:
        ctx.sink.warn(where, f"line {lineno} is not valid JSON: {e.msg} at column {e.colno}")
        return
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        ctx.sink.warn(where, f"line {lineno} is not valid JSON: {e}")
        return
    except RecursionError:
        deep = True
    if deep:
        ctx.sink.warn(where, f"line {lineno} is nested more than {MAX_JSON_DEPTH} levels deep")
    elif not isinstance(value, dict):
        ctx.sink.warn(where, f"line {lineno} is not a JSON object")
    else:
        table.rows.append(Row(path, pos, value))


def text_lines(stream: IO[bytes]) -> Iterator[str]:
    """A UTF-8 stream's lines for the `csv` module, line endings kept (as `newline=""` does);
    a UnicodeDecodeError names the line."""
    for lineno, raw in enumerate(physical_lines(stream, keepends=True), start=1):
        if b"\0" in raw:
            raise csv.Error("a NUL byte (binary data, not text)")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UnicodeDecodeError(e.encoding, e.object, e.start, e.end,
                                     f"bad byte on line {lineno}") from e


def _read_csv(path: Path, ctx: LoadContext) -> Table | None:
    if not size_ok(path, ctx):
        return None
    delimiter = "\t" if path.name.lower().endswith(".tsv") else ","
    try:
        with path.open("rb") as stream:
            reader = csv.reader(text_lines(stream), delimiter=delimiter, strict=True)
            return _csv_table(path, reader, ctx)
    except csv.Error as e:
        hint = " (an unbalanced quote?)" if '"' in str(e) or "end of data" in str(e) else ""
        line = reader.line_num + 1 if "NUL" in str(e) else reader.line_num
        ctx.sink.warn(f"{path}:{line}", f"malformed CSV at line {line}: {e}{hint}; "
                      "file not read")
    except LineTooLong as e:
        ctx.sink.warn(f"{path}:{e.lineno}", f"{e}; file not read")
    except TooManyRecords as e:
        ctx.sink.warn(path, f"{e}; file not read")
    except UnicodeDecodeError as e:
        ctx.sink.warn(path, f"not valid UTF-8 text ({e.reason})")
    except OSError as e:
        ctx.sink.warn(path, f"cannot read file: {e.strerror or e}")
    return None


def _csv_table(path: Path, reader: Any, ctx: LoadContext) -> Table | None:
    """The rows after the header; csv.Error (a malformed row) goes to the caller."""
    header = [h.strip() for h in next(reader, [])]
    if not any(header) or len(set(header)) != len(header):
        ctx.sink.warn(path, "no usable header row (empty or repeated column names)")
        return None
    table = Table()
    for record in reader:
        if not record:
            continue
        pos = count_record(table)
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
    if data.num_rows > MAX_RECORDS:
        ctx.sink.warn(path, f"{TooManyRecords()}; file not read")
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
