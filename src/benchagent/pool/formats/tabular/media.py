"""A table row's media: paths confined to the dataset folder, or bytes embedded in the table.

Paths go through `MediaResolver` (inside the dataset root, present, not empty, not broken).
Embedded bytes (Hugging Face `Image` / `Audio` values: {"bytes": ..., "path": ...}) are written
once to `<cache>/media/<sha256>.<ext>` and checked the same way.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from benchagent.pool.fields import as_text
from benchagent.pool.formats.media import MediaError, MediaResolver, checked_dir
from benchagent.records import Modality

_MAGIC_EXT = (
    (b"\x89PNG", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"GIF8", ".gif"), (b"BM", ".bmp"),
    (b"fLaC", ".flac"), (b"OggS", ".ogg"), (b"ID3", ".mp3"), (b"\xff\xfb", ".mp3"),
)
_KNOWN_EXT = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".wav", ".mp3",
              ".flac", ".ogg", ".m4a", ".opus")


class BadMedia(Exception):
    """A media value is unusable; the message says why."""


def _extension(data: bytes, hint: str) -> str:
    suffix = Path(hint).suffix.lower()
    if suffix in _KNOWN_EXT:
        return suffix
    if data[:4] == b"RIFF":
        return ".webp" if data[8:12] == b"WEBP" else ".wav"
    return next((ext for magic, ext in _MAGIC_EXT if data.startswith(magic)), ".bin")


class MediaFinder:
    """Resolves the media values of table rows for one dataset."""

    def __init__(self, root: Path | None, cache_root: Path | None, max_bytes: int) -> None:
        self.root = root
        self.store = cache_root / "media" if cache_root is not None else None
        self.checked = checked_dir(cache_root)
        self.max_bytes = max_bytes
        self._resolvers: dict[Path, MediaResolver] = {}

    def find(self, raw: Any, base: Path, kind: Modality) -> list[str]:
        """Absolute paths of the media in one cell (a path, bytes, or a list of them)."""
        items = raw if isinstance(raw, list) else [raw]
        out: list[str] = []
        for item in items:
            if item is None or item == "":
                continue
            if isinstance(item, dict):
                data, hint = item.get("bytes"), as_text(item.get("path"))
                if isinstance(data, bytes) and data:
                    out.append(self._embedded(data, hint, kind))
                elif hint:
                    out.append(self._path(hint, base, kind))
                else:
                    raise BadMedia(f"{kind.value} value has neither bytes nor a path")
            elif isinstance(item, str):
                out.append(self._path(item, base, kind))
            else:
                raise BadMedia(f"{kind.value} value is not a path")
        return out

    def _resolver(self, base: Path, root: Path) -> MediaResolver:
        if base not in self._resolvers:
            self._resolvers[base] = MediaResolver(base, root, self.max_bytes, self.checked)
        return self._resolvers[base]

    def _path(self, ref: str, base: Path, kind: Modality) -> str:
        if self.root is None:
            raise BadMedia(f"{kind.value} path {ref!r} has no dataset folder to resolve against")
        try:
            return self._resolver(base, self.root).resolve(ref, kind)
        except MediaError as e:
            raise BadMedia(str(e)) from e

    def _embedded(self, data: bytes, hint: str, kind: Modality) -> str:
        if self.store is None:
            raise BadMedia(f"embedded {kind.value} bytes need a cache folder (BENCHAGENT_CACHE)")
        if len(data) > self.max_bytes:
            raise BadMedia(f"embedded {kind.value} is over the {self.max_bytes}-byte limit")
        digest = hashlib.sha256(data).hexdigest()
        folder = self.store / digest[:2]
        name = digest + _extension(data, hint)
        target = folder / name
        if not target.is_file():
            try:
                _write_atomic(target, data)
            except OSError as e:
                raise BadMedia(f"cannot write embedded {kind.value}: {e.strerror or e}") from e
        try:
            return self._resolver(folder, folder).resolve(name, kind)
        except MediaError as e:
            raise BadMedia(f"embedded {e}") from e


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".media-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
