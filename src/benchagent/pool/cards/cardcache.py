"""Dataset cards cached by content hash: `<cache>/cards/<hash>.json`.

The hash covers the bytes of the dataset's data file(s), its mapping file or source card, the
ids of its valid samples, and the loader version (the source of the pool package, so editing
a profiler never serves a stale card). A card is rebuilt only when one of these changes; a
cached card may be edited by hand (or by an LLM adding prose) and stays as long as its data
does. A cache that cannot be read or written is skipped silently: it only saves time.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from benchagent.pool.base import LoadContext, log
from benchagent.records import DatasetCard, SourceSample

CARD_SCHEMA = "1"  # bump when a card changes in a way the package source does not show
_CHUNK = 1 << 20


@lru_cache(maxsize=1)
def loader_version() -> str:
    """CARD_SCHEMA plus a hash of the pool package and the records: any code change shows."""
    h = hashlib.sha256(CARD_SCHEMA.encode())
    pool_dir = Path(__file__).resolve().parents[1]
    for path in [*sorted(pool_dir.rglob("*.py")), pool_dir.parent / "records.py"]:
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(path.name.encode())
    return h.hexdigest()[:16]


class CardKey:
    """Accumulates what a card depends on; `digest()` names its cache file."""

    def __init__(self, kind: str) -> None:
        self._h = hashlib.sha256(f"{loader_version()}\0{kind}\0".encode())

    def text(self, *values: str) -> CardKey:
        for v in values:
            self._h.update(v.encode("utf-8", "surrogatepass") + b"\0")
        return self

    def file(self, path: Path | None) -> CardKey:
        """The file's bytes (a missing or unreadable file counts as its name only)."""
        if path is None:
            return self.text("<none>")
        self.text(path.name)
        try:
            with path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    self._h.update(chunk)
        except OSError:
            self.text("<unreadable>")
        return self

    def files(self, paths: Iterable[Path]) -> CardKey:
        for p in paths:
            self.file(p)
        return self

    def samples(self, samples: Iterable[SourceSample]) -> CardKey:
        """The ids of the valid samples: a sample dropped for a missing image changes the card."""
        return self.text("\n".join(s.source_id for s in samples))

    def digest(self) -> str:
        return self._h.hexdigest()[:32]


def cached_card(ctx: LoadContext, key: CardKey,
                build: Callable[[], DatasetCard]) -> DatasetCard:
    """The cached card for `key`, or `build()` (then cached). Its content_hash is the key."""
    digest = key.digest()
    if ctx.cache_root is None:
        return build().model_copy(update={"content_hash": digest})
    path = ctx.cache_root / "cards" / f"{digest}.json"
    try:
        card = DatasetCard.model_validate_json(path.read_bytes())
        if card.content_hash == digest:
            return card
    except (OSError, ValidationError, ValueError):
        pass
    card = build().model_copy(update={"content_hash": digest})
    _write(path, card.model_dump_json(indent=1) + "\n")
    return card


def _write(path: Path, text: str) -> None:
    """Atomically (temp file + rename); a failure only costs a rebuild next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".card-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as e:
        log.debug("card cache not written (%s): %s", path, e)
