"""The starter pool's audio datasets: valid 16 kHz WAV, right answers, life without espeak-ng."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.unit.pool.poolfiles import samples_with_params

from benchagent.common.audio import SAMPLE_RATE
from benchagent.common.numwords import number_words
from benchagent.pool import Pool, default_starter_pool, generate_starter_pool
from benchagent.pool.starter import generate
from benchagent.pool.starter.audio import COMMANDS, AudioUnavailable, speak
from benchagent.pool.starter.generate import LICENSE, MEDIA_SAMPLES_PER_DATASET, MEDIA_SPECS, SPECS
from benchagent.records import AnswerType, FieldRole, Modality, SourceSample

Finder = Callable[[Pool, str], str]
AUDIO_SPECS = [s for s in MEDIA_SPECS if s.modality is Modality.audio]
AUDIO_NAMES = [s.name for s in AUDIO_SPECS]


@pytest.fixture
def espeak() -> None:
    """A missing espeak-ng fails these tests instead of skipping them."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed: run `bash scripts/system_packages.sh` as root "
                    "(or `sudo apt-get install espeak-ng`)", pytrace=False)


needs_espeak = pytest.mark.usefixtures("espeak")


def _with_params(pool: Pool, by_name: Finder,
                 name: str) -> list[tuple[SourceSample, dict[str, Any]]]:
    pairs = samples_with_params(pool, by_name(pool, name))
    assert len({p["text"] for _, p in pairs}) == len(pairs)
    return pairs


@needs_espeak
def test_audio_cards_and_search(starter_pool: Pool) -> None:
    cards = {c.name: c for c in starter_pool.cards}
    for spec in AUDIO_SPECS:
        card = cards[spec.name]
        assert card.format == "starter" and card.license == LICENSE
        assert card.modalities_in == [Modality.audio, Modality.text]
        assert card.fields[FieldRole.audio] == "input.audio_file"
        assert card.answer_type is spec.answer_type and card.size == MEDIA_SAMPLES_PER_DATASET
        assert card.source.endswith(f"datasets/audio/{spec.name}/annotation.json")
    assert cards["Spoken-Numbers"].answer_type is AnswerType.number
    for query, expected in [("spoken numbers", "Spoken-Numbers"),
                            ("voice commands intent", "Spoken-Commands"),
                            ("arithmetic questions heard aloud", "Spoken-Math-Questions")]:
        hits = starter_pool.search(query, k=3, modalities={Modality.audio})
        assert hits and hits[0].card.name == expected, (query, [h.card.name for h in hits])


@needs_espeak
@pytest.mark.parametrize("name", AUDIO_NAMES)
def test_audio_files_are_16k_mono_wav(starter_pool: Pool, by_name: Finder, name: str) -> None:
    folder = Path(starter_pool.card(by_name(starter_pool, name)).source).parent
    for s, _ in _with_params(starter_pool, by_name, name):
        (path,) = s.audio
        assert Path(path).parent == (folder / "audio").resolve()
        with wave.open(path, "rb") as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SAMPLE_RATE, 1, 2)
            assert w.getnframes() / SAMPLE_RATE > 0.3
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        assert np.abs(pcm).max() > 1000  # speech, not silence
    assert not list(folder.rglob(".*"))  # no temporary raw files left behind


@needs_espeak
def test_spoken_answers(starter_pool: Pool, by_name: Finder) -> None:
    for s, p in _with_params(starter_pool, by_name, "Spoken-Numbers"):
        assert p["text"] == number_words(int(s.answer)) and s.options == []
    for s, p in _with_params(starter_pool, by_name, "Spoken-Commands"):
        assert s.answer == p["intent"] and len(s.options) == 4 and s.answer in s.options
        patterns = [re.escape(t).replace(r"\{", "{").replace(r"\}", "}") for t in
                    COMMANDS[s.answer]]
        assert any(re.fullmatch(re.sub(r"\{\w+\}", ".+", t), p["text"]) for t in patterns)
    ops: dict[str, Callable[[int, int], int]] = {
        "plus": lambda a, b: a + b, "minus": lambda a, b: a - b, "times": lambda a, b: a * b,
        "larger": max, "after": lambda a, b: a + 1}
    for s, p in _with_params(starter_pool, by_name, "Spoken-Math-Questions"):
        assert int(s.answer) == ops[p["kind"]](p["a"], p["b"]) and s.answer in s.options
        assert number_words(p["a"]) in p["text"]


@needs_espeak
def test_same_text_and_voice_same_bytes(tmp_path: Path) -> None:
    exe = shutil.which("espeak-ng")
    assert exe
    for name in ("a.wav", "b.wav"):
        speak(exe, "twelve plus seven", "en-gb", 150, tmp_path / name)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    speak(exe, "twelve plus seven", "en-us", 150, tmp_path / "c.wav")
    assert (tmp_path / "c.wav").read_bytes() != (tmp_path / "a.wav").read_bytes()


def _hide_espeak(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_without_espeak_audio_is_skipped_with_one_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    _hide_espeak(monkeypatch, tmp_path)
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache"))
    with caplog.at_level(logging.WARNING, logger="benchagent.pool"):
        root = default_starter_pool()
    assert root.name.endswith("-noaudio")  # regenerated with audio once espeak-ng is there
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "espeak-ng" in warnings[0]
    assert all(name in warnings[0] for name in AUDIO_NAMES)
    marker = json.loads((root / "pool.json").read_text())
    assert [s["name"] for s in marker["skipped"]] == AUDIO_NAMES
    assert all("espeak-ng" in s["reason"] for s in marker["skipped"])
    assert marker["datasets"] == [s.name for s in SPECS if s.modality is not Modality.audio]
    pool = Pool.load([root])
    assert pool.warnings == [] and sorted(c.name for c in pool.cards) == sorted(marker["datasets"])
    assert not (root / "datasets" / "audio").exists()
    assert all(Path(p).is_file() for c in pool.cards for s in pool.samples(c.id) for p in s.images)


def _fake_espeak(tmp_path: Path, script: str) -> str:
    exe = tmp_path / "fake-espeak-ng"
    exe.write_text(f"#!/bin/sh\n{script}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(exe)


def test_failing_espeak_skips_audio_and_keeps_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    exe = _fake_espeak(tmp_path, "echo 'Error: The specified espeak-ng voice does not exist.' >&2"
                                 "\nexit 1")
    with pytest.raises(AudioUnavailable, match="voice does not exist"):
        speak(exe, "hello", "en-us", 150, tmp_path / "x.wav")
    monkeypatch.setattr(generate, "SPECS", (SPECS[0], *AUDIO_SPECS))
    if shutil.which("espeak-ng"):  # an earlier, complete run into the same folder
        assert len(Pool.load([generate_starter_pool(tmp_path / "pool")]).cards) == 4
    monkeypatch.setattr(generate, "find_espeak", lambda: exe)
    with caplog.at_level(logging.WARNING, logger="benchagent.pool"):
        root = generate_starter_pool(tmp_path / "pool", seed=0)
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    marker = json.loads((root / "pool.json").read_text())
    assert marker["datasets"] == [SPECS[0].name]
    assert [s["name"] for s in marker["skipped"]] == AUDIO_NAMES
    assert all("voice does not exist" in s["reason"] for s in marker["skipped"])
    assert [c.name for c in Pool.load([root]).cards] == [SPECS[0].name]
    assert not any((root / "datasets" / "audio").glob("*"))
    assert len(list((root / "cards").glob("*.json"))) == 1


def test_garbage_from_espeak_is_reported(tmp_path: Path) -> None:
    # writes a file that is not a WAV file to the -w path
    exe = _fake_espeak(tmp_path, 'while [ "$1" != "-w" ]; do shift; done; echo junk > "$2"')
    with pytest.raises(AudioUnavailable):
        speak(exe, "hello", "en-us", 150, tmp_path / "x.wav")
    assert os.listdir(tmp_path) == ["fake-espeak-ng"]
