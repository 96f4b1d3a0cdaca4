"""Read-back on real media: pages rendered and degraded by the image operators, then OCR'd;
clips spoken by piper and mixed with noise, then transcribed by Whisper tiny.en."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchagent.executor import readback
from benchagent.executor.readback import ReadbackThresholds, normalize_reading, readback_checks
from benchagent.operators import OpContext, SampleState, get_operator, speech
from benchagent.records import DatasetCard, SourceSample

QUESTION = "Which river flows through the city of Vienna?"
OPTIONS = ["Danube", "Rhine", "Thames", "Seine"]
OTHER = "How many legs does a spider have, and what do spiders eat?"


def _ctx(run_dir: Path, seed: int = 0) -> OpContext:
    card = DatasetCard(id="d", name="D", format="jsonl", source="x")
    return OpContext(source=SourceSample(dataset_id="d", source_id="1"), card=card,
                     answer_space=[], rng=random.Random(seed), run_dir=run_dir)


def _page(run_dir: Path) -> SampleState:
    state = SampleState(question=QUESTION, options=OPTIONS, answer="Danube")
    return get_operator("render_text_image").run(
        state, _ctx(run_dir), {"style": "document", "fields": ["question", "options"]})


def _degraded(run_dir: Path, kind: str, severity: float) -> SampleState:
    return get_operator("degrade_image").run(_page(run_dir), _ctx(run_dir),
                                             {"kind": kind, "severity": severity})


def _clip(run_dir: Path) -> SampleState:
    state = SampleState(question=QUESTION, answer="Danube")
    return get_operator("tts").run(state, _ctx(run_dir), {"voice": "piper:joe"})


def test_a_clean_rendered_page_reads_back(tmp_path: Path) -> None:
    state = _page(tmp_path)
    [path] = state.images
    with Image.open(tmp_path / path) as img:
        assert img.format == "PNG" and img.width > 200
    [check] = readback_checks(state, tmp_path)
    assert check.check == "ocr_readback" and check.passed, check.reason
    assert check.reason == f"CER 0.00 <= 0.10 on {path}"


def test_an_illegibly_blurred_page_fails_with_its_cer(tmp_path: Path) -> None:
    state = _degraded(tmp_path, "blur", 1.0)
    [path] = state.images
    assert state.degraded == [path]
    [check] = readback_checks(state, tmp_path)
    assert not check.passed
    match = re.fullmatch(r"CER (\d\.\d\d) > 0\.30 on (media/\w+\.png) \(degraded\)", check.reason)
    assert match, check.reason
    assert float(match.group(1)) > 0.5 and match.group(2) == path


def test_a_legibly_degraded_page_is_held_to_the_loose_threshold(tmp_path: Path) -> None:
    state = _degraded(tmp_path, "blur", 0.3)
    [check] = readback_checks(state, tmp_path)
    assert check.passed and check.reason.endswith("(degraded)"), check.reason
    assert "<= 0.30" in check.reason
    strict = ReadbackThresholds(image_clean=0.3, image_degraded=-1.0)
    assert not readback_checks(state, tmp_path, strict)[0].passed


def test_a_page_that_shows_other_text_fails(tmp_path: Path) -> None:
    state = _page(tmp_path)
    wrong = state.model_copy(update={"media_text": {state.images[0]: OTHER}})
    [check] = readback_checks(wrong, tmp_path)
    assert not check.passed and check.reason.startswith("CER ")


def test_a_clean_clip_reads_back_and_a_noisy_one_gets_the_loose_threshold(
        tmp_path: Path) -> None:
    state = _clip(tmp_path)
    [clip] = state.audio
    assert (tmp_path / clip).read_bytes()[:4] == b"RIFF"
    [check] = readback_checks(state, tmp_path)
    assert check.check == "asr_readback" and check.passed, check.reason
    assert check.reason == f"WER 0.00 <= 0.40 on {clip}"
    noisy = get_operator("mix_noise").run(state, _ctx(tmp_path), {"noise": "pink", "snr_db": 10})
    [check] = readback_checks(noisy, tmp_path)
    assert check.passed and check.reason.endswith(f"<= 0.60 on {noisy.audio[0]} (degraded)")


def test_a_clip_that_says_something_else_fails_with_its_wer(tmp_path: Path) -> None:
    state = _clip(tmp_path)
    [clip] = state.audio
    wrong = state.model_copy(update={"media_text": {clip: OTHER}})
    [check] = readback_checks(wrong, tmp_path)
    match = re.fullmatch(r"WER (\d\.\d\d) > 0\.40 on (media/\w+\.wav)", check.reason)
    assert not check.passed and match, check.reason
    assert float(match.group(1)) > 0.7


def test_without_tesseract_the_check_fails_naming_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readback, "tesseract_available", lambda: False)
    [check] = readback_checks(_page(tmp_path), tmp_path)
    assert not check.passed and "tesseract-ocr" in check.reason


def test_without_whisper_the_check_fails_naming_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tone = (8000 * np.sin(np.arange(16000) * 0.2)).astype(np.int16)  # a clip never transcribed
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "tone.wav").write_bytes(speech.wav_bytes(tone))
    state = SampleState(audio=["media/tone.wav"], media_text={"media/tone.wav": "hello"})
    monkeypatch.setattr(speech, "_WHISPER", [])
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    [check] = readback_checks(state, tmp_path)
    assert not check.passed and "faster-whisper" in check.reason


def test_missing_files_fail_and_detached_media_are_not_checked(tmp_path: Path) -> None:
    state = SampleState(images=["media/gone.png"],
                        media_text={"media/gone.png": "text", "media/old.png": "text"})
    [check] = readback_checks(state, tmp_path)
    assert not check.passed and check.reason.startswith("cannot read back media/gone.png")


def test_reading_normalisation_ignores_case_punctuation_and_option_letters() -> None:
    assert normalize_reading("Question: Which city?\nA. Paris\n(b) Rome") == \
        "question which city paris rome"
