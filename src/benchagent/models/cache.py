"""A SQLite response cache keyed only on what changes the answer."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

from benchagent.errors import BenchagentError
from benchagent.models.base import Completion, CompletionRequest


class CacheError(BenchagentError):
    """The response cache file cannot be used; one line for the user."""


def cache_key(spec: str, request: CompletionRequest) -> str:
    payload = {
        "spec": spec,
        "messages": request.messages,
        "schema": request.json_schema,
        "schema_name": request.schema_name,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


class ResponseCache:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"cannot open the response cache {path}: {exc}") from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL commits without a sync each: a crash of the machine (not of the process) may
            # lose the last answers, which are then asked again; the file stays sound
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, text TEXT NOT NULL,"
                " prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL)"
            )
        except sqlite3.Error as exc:
            self._db.close()
            raise CacheError(f"the response cache {path} is not a usable SQLite database "
                             f"({exc}): remove it and run again") from exc

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute(
                "SELECT text, prompt_tokens, completion_tokens FROM responses WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return Completion(text=row[0], prompt_tokens=row[1], completion_tokens=row[2])

    def put(self, key: str, completion: Completion) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
                (key, completion.text, completion.prompt_tokens, completion.completion_tokens),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
