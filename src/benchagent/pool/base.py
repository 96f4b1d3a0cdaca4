"""Shared pieces of the pool loaders: errors, warnings, safe file reading, stable ids."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchagent.errors import BenchagentError
from benchagent.paths import cache_dir
from benchagent.records import DatasetCard, SourceSample

log = logging.getLogger("benchagent.pool")

DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024

PoolFormat = Literal["general-bench", "bigbench", "starter", "jsonl", "csv", "parquet", "hf-disk",
                     "hf"]  # DatasetCard.format


class PoolError(BenchagentError):
    """The pool cannot be loaded at all; the message is one line for the user."""


@dataclass(frozen=True)
class PoolWarning:
    """Something in the pool was skipped; the rest still loaded."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class WarningSink:
    """Collects warnings for the pool object and logs each one."""

    items: list[PoolWarning] = field(default_factory=list)

    def warn(self, path: Path | str, reason: str) -> None:
        w = PoolWarning(str(path), reason)
        self.items.append(w)
        log.warning("%s", w)


def default_cache_root() -> Path:
    """Where cards and extracted media are cached: $BENCHAGENT_CACHE, else ~/.cache/benchagent."""
    return cache_dir()


@dataclass
class LoadContext:
    """What every loader needs: where warnings go, how large a file may be, where the card
    cache lives (None: no cache; cards are rebuilt on every load)."""

    sink: WarningSink = field(default_factory=WarningSink)
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    cache_root: Path | None = field(default_factory=default_cache_root)


@dataclass(frozen=True)
class LoadedDataset:
    """A profiled dataset: its card and its valid samples (card.size == len(samples))."""

    card: DatasetCard
    samples: tuple[SourceSample, ...]


def stable_id(kind: str, relpath: str, name: str) -> str:
    """Short hash of a dataset's pool-relative path and name: the same on every machine."""
    rel = relpath.replace("\\", "/")
    key = f"{kind}:{rel}:{name}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]


def size_ok(path: Path, ctx: LoadContext) -> bool:
    """True when the file can be read and is within the size limit; else warn."""
    try:
        size = path.stat().st_size
    except OSError as e:
        ctx.sink.warn(path, f"cannot read file: {e.strerror or e}")
        return False
    if size > ctx.max_file_bytes:
        ctx.sink.warn(path, f"file is {size} bytes, over the {ctx.max_file_bytes}-byte limit")
        return False
    return True


def read_bytes(path: Path, ctx: LoadContext) -> bytes | None:
    """The file's bytes, or warn and return None (unreadable or too large)."""
    if not size_ok(path, ctx):
        return None
    try:
        return path.read_bytes()
    except OSError as e:
        ctx.sink.warn(path, f"cannot read file: {e.strerror or e}")
        return None


def read_text(path: Path, ctx: LoadContext) -> str | None:
    """A UTF-8 text file (BOM allowed), or a warning and None (unreadable, too large, not UTF-8)."""
    raw = read_bytes(path, ctx)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        ctx.sink.warn(path, f"not valid UTF-8 text (bad byte at offset {e.start})")
        return None


def read_json(path: Path, ctx: LoadContext) -> Any | None:
    """Parse one JSON file, or warn and return None (too large, not UTF-8, invalid JSON)."""
    text = read_text(path, ctx)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        ctx.sink.warn(path, f"invalid JSON: {e.msg} at line {e.lineno} column {e.colno}")
        return None
    except RecursionError:
        ctx.sink.warn(path, "invalid JSON: nested too deeply")
        return None


def is_valid_utf8(*texts: str) -> bool:
    """False when a string holds lone surrogates (JSON escapes that are not real text)."""
    try:
        for t in texts:
            t.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def relpath_or_name(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
