"""Media operators: files copied into the run, content-addressed."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from benchagent.operators.args import NoArgs
from benchagent.operators.registry import OpContext, Operator, OperatorError, SampleState, register


def store_media(src: Path, run_dir: Path) -> str:
    """Copy `src` to media/<sha256>.<ext> (once) and return the path relative to the run."""
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise OperatorError(f"cannot read media file {src.name}: {exc.strerror}") from exc
    return store_bytes(data, src.suffix, run_dir)


def store_bytes(data: bytes, suffix: str, run_dir: Path) -> str:
    """Write `data` to media/<sha256><suffix> (once) and return the path relative to the run."""
    rel = f"media/{hashlib.sha256(data).hexdigest()[:32]}{suffix.lower()}"
    dest = run_dir / rel
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(f"{dest.suffix}.{os.getpid()}-{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(dest)
    return rel


def _attach(path: str, run_dir: Path) -> str:
    return store_media(Path(path), run_dir) if Path(path).is_absolute() else path


def attach_media(state: SampleState, ctx: OpContext, args: NoArgs) -> SampleState:
    images = [_attach(p, ctx.run_dir) for p in state.images]
    audio = [_attach(p, ctx.run_dir) for p in state.audio]
    return state.model_copy(update={"images": images, "audio": audio})


register(Operator(
    name="attach_media",
    description="Copy the sample's image and audio files into the run's media folder.",
    requires=frozenset(), produces=frozenset(), fn=attach_media, args=NoArgs,
    cost_class="cheap",  # file copies: not worth a process
))
