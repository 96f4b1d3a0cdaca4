"""Resolving media paths inside a dataset: confined to its root, present and decodable.

Images are decoded with Pillow (its `Image.MAX_IMAGE_PIXELS` is the decompression-bomb limit);
WAV audio is decoded with the standard `wave` module (header and every frame). Other audio
formats (MP3, FLAC, Ogg...) are checked by their first bytes only: the standard library has no
decoder for them. A file that decoded well is remembered in `<cache>/media-checked` (by path,
size, modification time and inode), so later loads do not decode it again.
"""

from __future__ import annotations

import hashlib
import os
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from PIL import Image

from benchagent.pool.base import is_inside, real_path
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
    return is_inside(path, root)


def check_image_decodes(path: Path, ref: str) -> None:
    """MediaError unless Pillow decodes the whole image within its pixel limit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise MediaError(f"image file {ref!r} is a decompression bomb ({e})") from e
    except Exception as e:  # Pillow's decoders raise many kinds of error for bad bytes
        reason = " ".join(str(e).split())[:120] or type(e).__name__
        raise MediaError(f"image file {ref!r} is broken (cannot be decoded: {reason})") from e


def check_wav_decodes(path: Path, ref: str) -> None:
    """MediaError unless the WAV header is valid and every frame it declares can be read."""
    try:
        with wave.open(str(path), "rb") as audio:
            declared = audio.getnframes() * audio.getsampwidth() * audio.getnchannels()
            read = 0
            while chunk := audio.readframes(1 << 16):
                read += len(chunk)
    except wave.Error as e:
        if str(e).startswith("unknown format"):
            return  # a WAV encoding the standard module cannot decode; its header looked right
        raise MediaError(f"audio file {ref!r} is broken (cannot be decoded: {e})") from e
    except (EOFError, OSError) as e:
        reason = str(e) or type(e).__name__
        raise MediaError(f"audio file {ref!r} is broken (cannot be decoded: {reason})") from e
    if declared == 0:
        raise MediaError(f"audio file {ref!r} has no audio frames")
    if read < declared:
        raise MediaError(f"audio file {ref!r} is truncated ({read} of {declared} bytes of "
                         "frames)")


_CHECK_VERSION = "1"  # bump when the decoding checks change


def checked_dir(cache_root: Path | None) -> Path | None:
    """Where media that decoded well are remembered, under the pool's cache."""
    return cache_root / "media-checked" if cache_root is not None else None


@dataclass
class MediaResolver:
    """Finds a dataset's media files next to its JSON file, never outside `root`."""

    json_dir: Path
    root: Path
    max_bytes: int
    checked: Path | None = None  # see `checked_dir`; None: decode every time

    def __post_init__(self) -> None:
        self._root_real = real_path(self.root) or self.root
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
        for tail in self._tails(ref):
            for base in self._bases:
                cand = base / tail
                if not os.path.lexists(cand):
                    continue
                real = real_path(cand)
                if real is None:
                    raise MediaError(f"{kind.value} file {ref!r} is a symlink loop")
                if not _inside(real, self._root_real):
                    raise MediaError(f"{kind.value} path {ref!r} escapes the dataset root")
                if real.is_file():
                    self._check_file(real, ref, kind)
                    return str(real)
        raise MediaError(f"{kind.value} file {ref!r} not found")

    def _tails(self, ref: str) -> list[str]:
        """`ref`, then the shorter forms an upstream path may reduce to inside the dataset:
        what follows the dataset folder's name (`./data/comprehension/<task>/images/x.jpg`),
        the last folder and file (`images/x.jpg`), the file name alone."""
        parts = [p for p in PurePosixPath(ref.replace("\\", "/")).parts if p not in ("", ".")]
        tails = ["/".join(parts)]
        if self.root.name in parts[:-1]:
            last = len(parts) - 1 - parts[::-1].index(self.root.name)
            tails.append("/".join(parts[last + 1:]))
        tails += ["/".join(parts[-2:]), parts[-1]] if parts else []
        return list(dict.fromkeys(t for t in tails if t))

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
        marker = self._marker(real, kind)
        if marker is not None and marker.exists():
            return
        if kind is Modality.image:
            check_image_decodes(real, ref)
        elif kind is Modality.audio and head[:4] == b"RIFF":
            check_wav_decodes(real, ref)
        if marker is not None:
            _touch(marker)

    def _marker(self, real: Path, kind: Modality) -> Path | None:
        if self.checked is None:
            return None
        try:
            st = real.stat()
        except OSError:
            return None
        key = f"{_CHECK_VERSION}\0{real}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{kind.value}"
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return self.checked / digest[:2] / digest


def _touch(marker: Path) -> None:
    """Remember a good file; a cache that cannot be written only costs a decode next time."""
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass
