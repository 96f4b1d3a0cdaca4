"""Disk cache for deterministic operators: outputs keyed by a hash of everything they depend on.

Entries live in $BENCHAGENT_CACHE/ops/<operator>/<key>; writes are atomic, so concurrent
workers (threads or processes) computing the same entry never see a torn file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchagent.paths import cache_dir


def cache_key(*parts: Any) -> str:
    """A stable key from bytes, strings and JSON-able values (argument dicts, versions)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True,
                                                                default=str).encode()
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()[:40]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entry(operator: str, key: str) -> Path:
    return cache_dir() / "ops" / operator / key


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def cached_bytes(operator: str, key: str, produce: Callable[[], bytes]) -> bytes:
    """`produce()` once per key; later calls (this run or another) read the stored bytes."""
    path = _entry(operator, key)
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = produce()
    _write(path, data)
    return data


def cached_text(operator: str, key: str, produce: Callable[[], str]) -> str:
    return cached_bytes(operator, key, lambda: produce().encode()).decode()
