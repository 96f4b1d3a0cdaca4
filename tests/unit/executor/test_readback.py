"""Read-back on real media: pages rendered and degraded by the image operators, then OCR'd;
clips spoken by piper and mixed with noise, then transcribed by Whisper tiny.en."""

from __future__ import annotations

import os
import random
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from benchagent.executor import backend as cpu_backend
from benchagent.executor.backends import CpuPool
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
    check = readback_checks(state, tmp_path)[0]
    assert check.check == "ocr_readback" and check.passed, check.reason
    assert check.reason == f"CER 0.00 <= 0.10 on {path}"


def test_an_illegibly_blurred_page_fails_with_its_cer(tmp_path: Path) -> None:
    state = _degraded(tmp_path, "blur", 1.0)
    [path] = state.images
    assert state.degraded == [path]
    check = readback_checks(state, tmp_path)[0]
    assert not check.passed
    match = re.fullmatch(r"CER (\d\.\d\d) > 0\.30 on (media/\w+\.png) \(degraded\)", check.reason)
    assert match, check.reason
    assert float(match.group(1)) > 0.5 and match.group(2) == path


def test_a_legibly_degraded_page_is_held_to_the_loose_threshold(tmp_path: Path) -> None:
    state = _degraded(tmp_path, "blur", 0.3)
    check = readback_checks(state, tmp_path)[0]
    assert check.passed and check.reason.endswith("(degraded)"), check.reason
    assert "<= 0.30" in check.reason
    strict = ReadbackThresholds(image_clean=0.3, image_degraded=-1.0)
    assert not readback_checks(state, tmp_path, strict)[0].passed


def test_a_page_that_shows_other_text_fails(tmp_path: Path) -> None:
    state = _page(tmp_path)
    wrong = state.model_copy(update={"media_text": {state.images[0]: OTHER}})
    check = readback_checks(wrong, tmp_path)[0]
    assert not check.passed and check.reason.startswith("CER ")


def test_a_clean_clip_reads_back_and_a_noisy_one_gets_the_loose_threshold(
        tmp_path: Path) -> None:
    state = _clip(tmp_path)
    [clip] = state.audio
    assert (tmp_path / clip).read_bytes()[:4] == b"RIFF"
    check = readback_checks(state, tmp_path)[0]
    assert check.check == "asr_readback" and check.passed, check.reason
    assert check.reason == f"WER 0.00 <= 0.40 on {clip}"
    noisy = get_operator("mix_noise").run(state, _ctx(tmp_path), {"noise": "pink", "snr_db": 10})
    check = readback_checks(noisy, tmp_path)[0]
    assert check.passed and check.reason.endswith(f"<= 0.60 on {noisy.audio[0]} (degraded)")


def test_a_clip_that_says_something_else_fails_with_its_wer(tmp_path: Path) -> None:
    state = _clip(tmp_path)
    [clip] = state.audio
    wrong = state.model_copy(update={"media_text": {clip: OTHER}})
    check = readback_checks(wrong, tmp_path)[0]
    match = re.fullmatch(r"WER (\d\.\d\d) > 0\.40 on (media/\w+\.wav)", check.reason)
    assert not check.passed and match, check.reason
    assert float(match.group(1)) > 0.7


def test_without_tesseract_the_check_fails_naming_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_backend, "tesseract_available", lambda: False)
    check = readback_checks(_page(tmp_path), tmp_path)[0]
    assert not check.passed and "tesseract-ocr" in check.reason


def test_without_whisper_the_check_fails_naming_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tone = (8000 * np.sin(np.arange(16000) * 0.2)).astype(np.int16)  # a clip never transcribed
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "tone.wav").write_bytes(speech.wav_bytes(tone))
    state = SampleState(audio=["media/tone.wav"], media_text={"media/tone.wav": "hello"})
    monkeypatch.setattr(speech, "_WHISPER", [])
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    check = readback_checks(state, tmp_path)[0]
    assert not check.passed and "faster-whisper" in check.reason


def test_missing_files_fail_and_detached_media_are_not_checked(tmp_path: Path) -> None:
    state = SampleState(images=["media/gone.png"],
                        media_text={"media/gone.png": "text", "media/old.png": "text"})
    check = readback_checks(state, tmp_path)[0]
    assert not check.passed and check.reason.startswith("cannot read back media/gone.png")


def test_reading_normalisation_ignores_case_punctuation_and_option_letters() -> None:
    assert normalize_reading("Question: Which city?\nA. Paris\n(b) Rome") == \
        "question which city paris rome"


# ---------------------------------------------------------------- evidence

POOL_CLOSED = "The swimming pool was closed after 10pm."
TEMPORAL = ("Today, Susan went to the swimming pool. Between what times could they have gone?\n"
            "We know that:\nSusan woke up at 5am.\nLinda saw Susan walking in the garden from "
            "5am to 1pm.\nRichard saw Susan buying a bike at the bike shop from 2pm to 3pm.\n"
            "Hannah saw Susan watching a movie at the theater from 3pm to 7pm.\n" + POOL_CLOSED)


def _occluded_last_line(run_dir: Path) -> SampleState:
    """The temporal_sequences page of the issue, its last line under an occlusion box."""
    state = get_operator("render_text_image").run(
        SampleState(context=TEMPORAL, question="Q", answer="7pm to 10pm"), _ctx(run_dir),
        {"style": "document", "fields": ["context"]})
    [path] = state.images
    with Image.open(run_dir / path) as page:
        img = page.convert("RGB")
    ink = np.nonzero((np.asarray(img.convert("L")) < 128).any(axis=1))[0]
    gaps = np.nonzero(np.diff(ink) > 1)[0]
    top = int(ink[gaps[-1] + 1])  # the first inked row of the last line
    ImageDraw.Draw(img).rectangle((0, top - 3, img.width, int(ink[-1]) + 3), fill=(40, 40, 40))
    img.save(run_dir / "media" / "occluded.png")
    return state.model_copy(update={"images": ["media/occluded.png"], "degraded":
                                    ["media/occluded.png"],
                                    "media_text": {"media/occluded.png": state.media_text[path]}})


def test_an_occlusion_that_hides_the_deciding_fact_rejects_though_cer_passes(
        tmp_path: Path) -> None:
    readable, evidence = readback_checks(_occluded_last_line(tmp_path), tmp_path)
    assert readable.passed and readable.reason.endswith("(degraded)"), readable.reason
    assert evidence.check == "ocr_evidence" and not evidence.passed
    assert evidence.reason == ("evidence lost in the degraded image media/occluded.png: "
                               "OCR reads '10pm' 0 of 1 times")


def test_a_clean_page_keeps_its_evidence(tmp_path: Path) -> None:
    state = get_operator("render_text_image").run(
        SampleState(context=TEMPORAL, question="Q", answer="x"), _ctx(tmp_path),
        {"style": "document", "fields": ["context"]})
    readable, evidence = readback_checks(state, tmp_path)
    assert readable.passed and evidence.passed, evidence.reason
    assert evidence.reason.startswith("10 facts read back from the image ")  # 6 times, 4 names


def test_a_noisy_clip_that_loses_a_number_names_it(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "q.wav").write_bytes(b"RIFF")
    state = SampleState(audio=["media/q.wav"], degraded=["media/q.wav"],
                        media_text={"media/q.wav": "Noah shares 27 cookies among 3 friends."})
    monkeypatch.setattr(cpu_backend, "transcribe", lambda _: "noah shares twenty seven cookies "
                                                          "among three friends")
    assert all(c.passed for c in readback_checks(state, tmp_path))
    monkeypatch.setattr(cpu_backend, "transcribe", lambda _: "noah shares twenty cookies among "
                                                          "three friends")
    readable, evidence = readback_checks(state, tmp_path)
    assert readable.passed and not evidence.passed
    assert evidence.reason == ("evidence lost in the degraded clip media/q.wav: ASR hears '27' "
                               "0 of 1 times")


def test_the_evidence_check_can_be_turned_off(tmp_path: Path) -> None:
    state = _occluded_last_line(tmp_path)
    checks = readback_checks(state, tmp_path, ReadbackThresholds(evidence=False))
    assert [c.check for c in checks] == ["ocr_readback"]


@pytest.mark.parametrize(("workers", "where"), [("0", "driver"), ("1", "pid ")])
def test_read_back_runs_in_a_pool_worker_when_there_is_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str, where: str) -> None:
    monkeypatch.setenv("BENCHAGENT_CPU_WORKERS", workers)
    state = _page(tmp_path)
    with CpuPool() as backend:
        check = readback_checks(state, tmp_path)[0]
        ran = backend.usage()
    assert check.passed, check.reason
    [worker] = ran.per_worker
    assert worker.startswith(where) and worker != f"pid {os.getpid()}"


def test_speech_models_run_one_thread_each() -> None:
    """onnxruntime's samples depend on its thread count: one thread everywhere makes a clip
    the same bytes on any machine, and a CPU worker one core."""
    voice = speech._piper_voice("joe")
    options = voice.session.get_session_options()
    assert options.intra_op_num_threads == options.inter_op_num_threads == 1
