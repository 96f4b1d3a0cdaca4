"""OCR with tesseract: the `ocr` operator, and the reading and character error rate that the
read-back verification uses."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageFilter
from pydantic import Field

from benchagent.operators.args import OperatorArgs
from benchagent.operators.cache import cache_key, cached_text
from benchagent.operators.image import (
    VERSION,
    ImageIndex,
    encode_image,
    image_indices,
    open_image,
    read_image,
)
from benchagent.operators.registry import (
    OpContext,
    Operator,
    OperatorError,
    SampleState,
    Traits,
    register,
)
from benchagent.records import FieldRole


def char_error_rate(ref: str, hyp: str) -> float:
    """Levenshtein distance between the whitespace-normalised texts over the reference length.

    Case- and punctuation-sensitive; 0.0 is a perfect read; can exceed 1.0 when `hyp` is longer.
    """
    r, h = " ".join(ref.split()), " ".join(hyp.split())
    if not r:
        return 0.0 if not h else 1.0
    return _levenshtein(r, h) / len(r)


def _levenshtein(a: str, b: str) -> int:
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    a, b = a[start:], b[start:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    if not a or not b:
        return len(a) + len(b)
    target = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, char in enumerate(a, start=1):
        substitute = row[:-1] + (target != ord(char))
        candidate = np.empty_like(row)
        candidate[0] = i
        candidate[1:] = np.minimum(row[1:] + 1, substitute)
        # An insertion chain: new[j] = min(candidate[j], new[j-1] + 1).
        row = np.minimum.accumulate(candidate - steps) + steps
    return int(row[-1])


OCR_ARGS = ("-l", "eng", "--psm", "6")
OCR_TIMEOUT = 60.0
OCR_PREP = "invert-denoise-deskew-2"


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def _tesseract() -> str:
    binary = shutil.which("tesseract")
    if binary is None:
        raise OperatorError("tesseract is not installed (install the Debian package "
                            "tesseract-ocr)")
    return binary


@lru_cache(maxsize=4)
def _tesseract_version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OperatorError(f"cannot run tesseract: {exc}") from exc
    return (out.stdout or out.stderr).decode(errors="replace").partition("\n")[0].strip()


def _noise_level(gray: Image.Image) -> float:
    """Median absolute Laplacian: about 0 on clean renders, large on grainy scans."""
    a = np.asarray(gray, dtype=np.float32)
    lap = 4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]
    return float(np.median(np.abs(lap))) if lap.size else 0.0


def _skew_angle(gray: Image.Image) -> float:
    """The rotation (degrees, within ±20) that makes text lines horizontal: the angle at which
    the row profile of horizontal edges (dense in text, sparse in solid blobs) is sharpest."""
    small = gray.copy()
    small.thumbnail((600, 600))
    background = int(np.median(np.asarray(small)))

    def sharpness(angle: float) -> float:
        turned = np.asarray(small.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True,
                                         fillcolor=background), dtype=np.float32)
        return float(np.var(np.abs(np.diff(turned, axis=1)).sum(axis=1)))

    coarse = max(np.arange(-20.0, 20.5, 1.0), key=sharpness)
    best = float(max(np.arange(coarse - 1, coarse + 1.01, 0.25), key=sharpness))
    return best if sharpness(best) > 1.05 * sharpness(0.0) else 0.0


def _prepare(data: bytes, name: str) -> bytes:
    """What tesseract reads best: dark text on light, denoised when grainy, deskewed."""
    gray = open_image(data, name).convert("L")
    if np.asarray(gray).mean() < 110:
        gray = Image.eval(gray, lambda v: 255 - v)
    if _noise_level(gray) > 20:
        gray = gray.filter(ImageFilter.MedianFilter(3))
    angle = _skew_angle(gray)
    if abs(angle) >= 1:
        gray = gray.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True,
                           fillcolor=int(np.median(np.asarray(gray))))
    return encode_image(gray)


def _run_tesseract(binary: str, png: bytes, name: str) -> str:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        proc = subprocess.run([binary, "stdin", "stdout", *OCR_ARGS], input=png,
                              capture_output=True, timeout=OCR_TIMEOUT, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise OperatorError(f"tesseract timed out after {OCR_TIMEOUT:g} s on {name}") from None
    except OSError as exc:
        raise OperatorError(f"cannot run tesseract: {exc}") from exc
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines() or ["no message"]
        raise OperatorError(f"tesseract failed on {name}: {lines[-1]}")
    text = proc.stdout.decode("utf-8", errors="replace").replace("\f", "")
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def ocr_image(path: Path) -> str:
    """Tesseract's reading of the image file (English), cached by image bytes and tesseract."""
    binary = _tesseract()
    data = read_image(path)
    key = cache_key(VERSION, data, _tesseract_version(binary), OCR_ARGS, OCR_PREP)
    return cached_text("ocr", key, lambda: _run_tesseract(binary, _prepare(data, path.name),
                                                          path.name))


class OcrArgs(OperatorArgs):
    into: Literal["context", "question"] = Field("context", description="the field to write")
    append: bool = Field(False, description="append to the field instead of replacing it")
    drop_image: bool = Field(False, description="remove the image once read")
    index: ImageIndex = Field(None, description="only this image of the sample; default every "
                                                "image")


def ocr(state: SampleState, ctx: OpContext, args: OcrArgs) -> SampleState:
    into = args.into
    indices = image_indices(state, args.index)
    text = "\n\n".join(t for t in (ocr_image(ctx.resolve(state.images[i])) for i in indices) if t)
    if not text.strip():
        raise OperatorError("OCR found no text in the image")
    current = getattr(state, into)
    update: dict[str, Any] = {into: f"{current}\n\n{text}" if args.append and current
                              else text}
    if args.drop_image:
        dropped = {state.images[i] for i in indices}
        update["images"] = [p for p in state.images if p not in dropped]
        update["media_text"] = {k: v for k, v in state.media_text.items() if k not in dropped}
    return state.model_copy(update=update)


register(Operator(
    name="ocr",
    description="Read the text of the sample's images with tesseract OCR (English) into the "
                "context (or the question), replacing that field unless append is set.",
    requires=frozenset({FieldRole.image}), produces=frozenset({FieldRole.context}), fn=ocr,
    args=OcrArgs, traits=Traits(lossy=0.15), cost_class="cpu",
))
