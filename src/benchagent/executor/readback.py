"""Read-back: every generated image is OCR'd and every generated clip transcribed, and the result
compared with the text the medium was made from (state.media_text).

An image whose text tesseract cannot read, or a clip whisper cannot follow, is most likely
unreadable for the model under test too, or says something other than the item assumes.
Media that were degraded on purpose (state.degraded) are held to looser thresholds: they are
meant to be harder, not unreadable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from benchagent.operators.audio import transcribe, word_error_rate
from benchagent.operators.ocr import char_error_rate, ocr_image, tesseract_available
from benchagent.operators.registry import OperatorError, SampleState
from benchagent.records import CheckResult

Kind = Literal["image", "audio"]

# Option letters as rendered ("A. Paris", "(b) Rome"): a reading with or without them is the
# same reading.
_OPTION_MARK = re.compile(r"(?m)(?:^|(?<=\s))\(?[A-Za-z][.)](?=\s|$)")
_PUNCTUATION = re.compile(r"[^\w\s]|_")
# "3:45", "3.45pm": the clock time or unit glued on is written either way by ASR.
_DIGIT_SEPARATOR = re.compile(r"(?<=\d)[:.](?=\d)|(?<=\d)(?=(?!(?:st|nd|rd|th)\b)[A-Za-z])")


@dataclass(frozen=True)
class ReadbackThresholds:
    """Highest error rate that still passes: CER for images, WER for clips.

    Measured with the project's own operators (render_text_image in 5 styles, degrade_image,
    tts, mix_noise; tesseract 5.3, Whisper tiny.en): clean pages read back at CER 0.00, pages
    degraded at severity <= 0.5 mostly at 0.00-0.25, illegible ones (blur or noise at 0.8) at
    0.36-1.0. Clean clips: piper 0.00-0.09 WER, espeak-ng 0.00-0.62 (whisper tiny follows its
    robotic voices poorly); at 10 dB SNR piper 0.00-0.26, espeak-ng up to 1.1. A clip checked
    against a sentence it does not say scored 0.69 or more.
    """

    image_clean: float = 0.10
    image_degraded: float = 0.30
    audio_clean: float = 0.40
    audio_degraded: float = 0.60

    def limit(self, kind: Kind, degraded: bool) -> float:
        if kind == "image":
            return self.image_degraded if degraded else self.image_clean
        return self.audio_degraded if degraded else self.audio_clean


def normalize_reading(text: str) -> str:
    """Lower case, no punctuation or option letters, single spaces: what read-back compares."""
    text = _OPTION_MARK.sub(" ", text)
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def image_error(expected: str, path: Path) -> float:
    """Character error rate of tesseract's reading of `path` against `expected`."""
    if not tesseract_available():
        raise OperatorError("tesseract is not installed (install the Debian package "
                            "tesseract-ocr)")
    return char_error_rate(normalize_reading(expected), normalize_reading(ocr_image(path)))


def audio_error(expected: str, path: Path) -> float:
    """Word error rate of whisper's transcript of `path` against `expected`."""
    heard = transcribe(path)
    return word_error_rate(_spoken_form(expected), _spoken_form(heard))


def _spoken_form(text: str) -> str:
    return _DIGIT_SEPARATOR.sub(" ", _OPTION_MARK.sub(" ", text))


def _kind(path: str, state: SampleState) -> Kind | None:
    if path in state.images:
        return "image"
    if path in state.audio:
        return "audio"
    return None


def readback_one(path: str, kind: Kind, expected: str, run_dir: Path, degraded: bool,
                 thresholds: ReadbackThresholds) -> CheckResult:
    name, metric = ("ocr_readback", "CER") if kind == "image" else ("asr_readback", "WER")
    file = Path(path) if Path(path).is_absolute() else run_dir / path
    try:
        error = image_error(expected, file) if kind == "image" else audio_error(expected, file)
    except (OperatorError, OSError) as exc:
        return CheckResult(check=name, passed=False, reason=f"cannot read back {path}: {exc}")
    limit = thresholds.limit(kind, degraded)
    passed = error <= limit
    note = " (degraded)" if degraded else ""
    return CheckResult(check=name, passed=passed,
                       reason=f"{metric} {error:.2f} {'<=' if passed else '>'} {limit:.2f} "
                              f"on {path}{note}")


def readback_checks(state: SampleState, run_dir: Path,
                    thresholds: ReadbackThresholds = ReadbackThresholds()) -> list[CheckResult]:
    """One check per image ("ocr_readback") or clip ("asr_readback") of the sample whose text
    is known; media_text entries for media the sample no longer holds are not checked."""
    checks: list[CheckResult] = []
    for path, expected in state.media_text.items():
        kind = _kind(path, state)
        if kind is not None:
            checks.append(readback_one(path, kind, expected, run_dir, path in state.degraded,
                                       thresholds))
    return checks
