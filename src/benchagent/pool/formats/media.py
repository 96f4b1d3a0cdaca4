"""Resolving media paths inside a dataset: confined to its root, present and not broken."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from benchagent.records import Modality

_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*",
)
_AUDIO_MAGIC = (b"ID3", b"fLaC", b"OggS", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")


class MediaError(Exception):
    """One media reference is unusable; the message says why."""


def _looks_like(kind: Modality, head: bytes) -> bool:
    if head[:4] == b"RIFF":
        tag = head[8:12]
        return tag == b"WEBP" if kind is Modality.image else tag == b"WAVE"
    if kind is Modality.image:
        return head.startswith(_IMAGE_MAGIC)
    if kind is Modality.audio:
        return head.startswith(_AUDIO_MAGIC) or head[4:8] == b"ftyp"
    return True


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@dataclass
class MediaResolver:
    """Finds a dataset's media files next to its JSON file, never outside `root`."""

    json_dir: Path
    root: Path
    max_bytes: int

    def __post_init__(self) -> None:
        self._root_real = self.root.resolve()
        bases = [self.json_dir, self.json_dir.parent,
                 self.json_dir / "images", self.json_dir.parent / "images",
                 self.json_dir / "audio", self.json_dir.parent / "audio"]
        root_abs = Path(os.path.abspath(self.root))
        self._bases: list[Path] = []
        for b in bases:
            b_abs = Path(os.path.abspath(b))
            if _inside(b_abs, root_abs) and b_abs not in self._bases:
                self._bases.append(b_abs)

    def resolve(self, ref: str, kind: Modality) -> str:
        """The absolute, real path of `ref`, or MediaError."""
        ref = ref.strip()
        if not ref:
            raise MediaError(f"empty {kind.value} path")
        if (PurePosixPath(ref).is_absolute() or PureWindowsPath(ref).is_absolute()
                or ".." in PurePosixPath(ref.replace("\\", "/")).parts):
            raise MediaError(f"{kind.value} path {ref!r} escapes the dataset root")
        for base in self._bases:
            cand = base / ref
            if not os.path.lexists(cand):
                continue
            real = cand.resolve()
            if not _inside(real, self._root_real):
                raise MediaError(f"{kind.value} path {ref!r} escapes the dataset root")
            if real.is_file():
                self._check_file(real, ref, kind)
                return str(real)
        raise MediaError(f"{kind.value} file {ref!r} not found")

    def _check_file(self, real: Path, ref: str, kind: Modality) -> None:
        try:
            size = real.stat().st_size
            with real.open("rb") as f:
                head = f.read(16)
        except OSError as e:
            raise MediaError(f"cannot read {kind.value} file {ref!r}: {e.strerror or e}") from e
        if size == 0:
            raise MediaError(f"{kind.value} file {ref!r} is empty")
        if size > self.max_bytes:
            raise MediaError(f"{kind.value} file {ref!r} is over the {self.max_bytes}-byte limit")
        if not _looks_like(kind, head):
            raise MediaError(f"{kind.value} file {ref!r} is broken (unknown or corrupt format)")
