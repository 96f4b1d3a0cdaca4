"""Shared pieces of the pool loaders: errors, warnings, safe file reading, stable ids."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchagent.errors import BenchagentError
from benchagent.paths import cache_dir
from benchagent.pool.limits import MAX_FILE_BYTES, MAX_JSON_DEPTH
from benchagent.records import DatasetCard, SourceSample

log = logging.getLogger("benchagent.pool")

DEFAULT_MAX_FILE_BYTES = MAX_FILE_BYTES
ESCAPES = "escapes the pool root"

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
    cache lives (None: no cache; cards are rebuilt on every load), and the pool root that
    every file read must stay inside once resolved (`load_path` sets it to the pool path)."""

    sink: WarningSink = field(default_factory=WarningSink)
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    cache_root: Path | None = field(default_factory=default_cache_root)
    pool_root: Path | None = None

    def inside_pool(self, path: Path) -> bool:
        """Whether `path`, resolved (symlinks, `..`), stays inside the pool root."""
        if self.pool_root is None:
            return True
        real = real_path(path)
        return real is not None and is_inside(real, self.pool_root)

    def confined(self, path: Path) -> bool:
        """True when `path` may be opened; else warn that it escapes (or loops) and say False."""
        if self.pool_root is None:
            return True
        real = real_path(path)
        if real is None:
            self.sink.warn(path, "cannot read file: a symlink loop")
            return False
        if not is_inside(real, self.pool_root):
            self.sink.warn(path, f"{ESCAPES} (it resolves to a path outside {self.pool_root}); "
                           "not opened")
            return False
        return True


def real_path(path: Path) -> Path | None:
    """`path` with every symlink and `..` resolved, or None for a symlink loop."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop
        return None


def is_inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def pool_root_of(path: Path) -> Path:
    """The root a pool path confines its files to: the folder itself, or a file's folder
    (the path resolved first: what the user names is what they mean, as the CLI resolves it)."""
    absolute = Path(os.path.abspath(path))
    real = real_path(absolute) or absolute
    return real if real.is_dir() else real.parent


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


def warn_symlinked_folder(path: Path, ctx: LoadContext) -> None:
    """A symlinked folder met on a walk is not followed; the warning says whether it escapes."""
    if ctx.inside_pool(path):
        ctx.sink.warn(path, "a symlink to a folder inside the pool: not followed")
    else:
        ctx.sink.warn(path, f"a symlinked folder that {ESCAPES}: skipped, not opened")


def size_ok(path: Path, ctx: LoadContext) -> bool:
    """True when the file stays inside the pool root, can be read and is within the size
    limit; else warn."""
    if not ctx.confined(path):
        return False
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


def read_json(path: Path, ctx: LoadContext, max_depth: int | None = None) -> Any | None:
    """Parse one JSON file, or warn and return None (too large, not UTF-8, invalid JSON, or
    nested more than `max_depth` levels when one is given: for a document that code walks
    recursively)."""
    text = read_text(path, ctx)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        ctx.sink.warn(path, f"invalid JSON: {e.msg} at line {e.lineno} column {e.colno}")
        return None
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        ctx.sink.warn(path, f"invalid JSON: {e}")
        return None
    except RecursionError:
        ctx.sink.warn(path, "invalid JSON: nested too deeply")
        return None
    if doc is None:  # no pool file is a bare null; None also means "warned" to the callers
        ctx.sink.warn(path, "invalid JSON: the document is null")
        return None
    if max_depth is not None and too_deep(doc, max_depth):
        ctx.sink.warn(path, f"invalid JSON: nested more than {max_depth} levels deep")
        return None
    return doc


def too_deep(doc: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value nests lists and objects more than `limit` levels deep."""
    level: list[Any] = [doc]
    for _ in range(limit):
        level = [v for item in level if isinstance(item, dict | list)
                 for v in (item.values() if isinstance(item, dict) else item)]
        if not level:
            return False
    return any(isinstance(item, dict | list) for item in level)


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
