"""Read-back: every generated image is OCR'd and every generated clip transcribed, and the result
compared with the text the medium was made from (state.media_text).

An image whose text tesseract cannot read, or a clip whisper cannot follow, is most likely
unreadable for the model under test too, or says something other than the item assumes.
Media that were degraded on purpose (state.degraded) are held to looser thresholds: they are
meant to be harder, not unreadable. An error rate alone is not enough: each medium must also
keep every number, time, date and name of its text (evidence.py), else the item lost the facts
its answer may depend on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from benchagent.executor.backend import read_medium
from benchagent.executor.backends import active_backend
from benchagent.executor.evidence import describe_lost, facts, lost_facts
from benchagent.operators.audio import transcribe, word_error_rate
from benchagent.operators.ocr import char_error_rate
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
    evidence: bool = True  # also check that every number, time, date and name is read back

    def limit(self, kind: Kind, degraded: bool) -> float:
        if kind == "image":
            return self.image_degraded if degraded else self.image_clean
        return self.audio_degraded if degraded else self.audio_clean


def normalize_reading(text: str) -> str:
    """Lower case, no punctuation or option letters, single spaces: what read-back compares."""
    text = _OPTION_MARK.sub(" ", text)
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def read_image(path: Path) -> str:
    """What tesseract reads off the image file."""
    return read_medium("image", path)


def image_error(expected: str, path: Path) -> float:
    """Character error rate of tesseract's reading of `path` against `expected`."""
    return _image_error(expected, read_image(path))


def audio_error(expected: str, path: Path) -> float:
    """Word error rate of whisper's transcript of `path` against `expected`."""
    return _audio_error(expected, transcribe(path))


def _image_error(expected: str, reading: str) -> float:
    return char_error_rate(normalize_reading(expected), normalize_reading(reading))


def _audio_error(expected: str, heard: str) -> float:
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
                 thresholds: ReadbackThresholds) -> list[CheckResult]:
    """The error-rate check of one medium and, once it could be read, its evidence check."""
    name, metric = ("ocr_readback", "CER") if kind == "image" else ("asr_readback", "WER")
    file = Path(path) if Path(path).is_absolute() else run_dir / path
    backend = active_backend()
    try:
        reading = backend.read_back(kind, file) if backend else read_medium(kind, file)
    except (OperatorError, OSError) as exc:
        return [CheckResult(check=name, passed=False, reason=f"cannot read back {path}: {exc}")]
    error = _image_error(expected, reading) if kind == "image" else _audio_error(expected, reading)
    limit = thresholds.limit(kind, degraded)
    passed = error <= limit
    note = " (degraded)" if degraded else ""
    checks = [CheckResult(check=name, passed=passed,
                          reason=f"{metric} {error:.2f} {'<=' if passed else '>'} {limit:.2f} "
                                 f"on {path}{note}")]
    if thresholds.evidence:
        checks.append(evidence_check(path, kind, expected, reading, degraded))
    return checks


def evidence_check(path: str, kind: Kind, expected: str, reading: str,
                   degraded: bool) -> CheckResult:
    """Every number, time, date and name of `expected` is in `reading` as often as stated."""
    name = "ocr_evidence" if kind == "image" else "asr_evidence"
    lost = lost_facts(expected, reading, kind)
    medium = f"{'degraded ' if degraded else ''}{'image' if kind == 'image' else 'clip'} {path}"
    if lost:
        how = "OCR reads" if kind == "image" else "ASR hears"
        return CheckResult(check=name, passed=False,
                           reason=f"evidence lost in the {medium}: {how} {describe_lost(lost)}")
    return CheckResult(check=name, passed=True,
                       reason=f"{len(facts(expected))} facts read back from the {medium}")


def readback_checks(state: SampleState, run_dir: Path,
                    thresholds: ReadbackThresholds = ReadbackThresholds()) -> list[CheckResult]:
    """Per image ("ocr_readback", "ocr_evidence") or clip ("asr_readback", "asr_evidence") of
    the sample whose text is known, the error-rate check and the evidence check; media_text
    entries for media the sample no longer holds are not checked."""
    checks: list[CheckResult] = []
    for path, expected in state.media_text.items():
        kind = _kind(path, state)
        if kind is not None:
            checks += readback_one(path, kind, expected, run_dir, path in state.degraded,
                                   thresholds)
    return checks
