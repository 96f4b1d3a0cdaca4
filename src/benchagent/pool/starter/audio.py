"""The starter pool's audio generators: speech from espeak-ng, 16 kHz mono WAV.

An audio task is `make(rng) -> Item` whose params hold the text to speak, the voice and the
speed; `build_audio` speaks every item with `espeak-ng -w` (22.05 kHz) and resamples to
16 kHz with a band-limited (FFT) resampler. Same text, voice and speed -> same bytes.
espeak-ng is a system package (Debian: espeak-ng); without it `AudioUnavailable` is raised.
"""

from __future__ import annotations

import random
import subprocess
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from benchagent.common.audio import ESPEAK, SAMPLE_RATE, resample
from benchagent.common.numwords import number_words
from benchagent.pool.starter.tasks import NAMES, Item, Row, distractors, media_rows

VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb+f2", "en-us+m3", "en-gb-x-rp")
SPEEDS = (140, 150, 160, 170)
TIMEOUT_S = 60
AudioMaker = Callable[[random.Random], Item]


class AudioUnavailable(Exception):
    """Speech cannot be synthesized here; the message says why."""


# ---------------------------------------------------------------- synthesis


def _read_wav(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise AudioUnavailable(f"{ESPEAK} wrote {8 * w.getsampwidth()}-bit audio, not 16-bit")
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        channels, rate = w.getnchannels(), w.getframerate()
    if channels > 1:
        frames = frames.reshape(-1, channels).mean(axis=1).astype("<i2")
    return rate, frames


def write_wav(path: Path, pcm: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())


def speak(exe: str, text: str, voice: str, speed: int, out: Path) -> None:
    """`text` spoken by espeak-ng into `out` as 16 kHz mono 16-bit WAV."""
    raw = out.with_name(f".{out.stem}.raw.wav")
    try:
        proc = subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(raw), text],
                              capture_output=True, timeout=TIMEOUT_S, check=False)
        if proc.returncode != 0 or not raw.is_file():
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise AudioUnavailable(f"{ESPEAK} failed for voice {voice!r}: "
                                   f"{err[-1] if err else f'exit code {proc.returncode}'}")
        rate, pcm = _read_wav(raw)
    except (OSError, subprocess.TimeoutExpired, wave.Error, EOFError) as e:
        raise AudioUnavailable(f"{ESPEAK} could not be run: {e}") from e
    finally:
        raw.unlink(missing_ok=True)
    write_wav(out, resample(pcm, rate, SAMPLE_RATE))


def build_audio(make: AudioMaker, rng: random.Random, n: int, prefix: str,
                folder: Path, exe: str) -> list[Row]:
    """n rows with distinct spoken texts; each clip written to `folder/audio/<id>.wav`."""
    items: list[Item] = []
    seen: set[str] = set()
    attempts = 0
    while len(items) < n and attempts < n * 50:
        attempts += 1
        item = make(rng)
        if item.params["text"] not in seen:
            seen.add(item.params["text"])
            items.append(item)
    rows = media_rows(items, rng, prefix, "audio_file", "audio/{}.wav")
    (folder / "audio").mkdir(parents=True, exist_ok=True)

    def say(row: Row) -> None:
        p = row["params"]
        speak(exe, p["text"], p["voice"], p["speed"], folder / row["input"]["audio_file"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(say, rows))
    return rows


def _voice(rng: random.Random, text: str) -> dict[str, object]:
    return {"text": text, "voice": rng.choice(VOICES), "speed": rng.choice(SPEEDS)}


# ---------------------------------------------------------------- tasks


def make_number(rng: random.Random) -> Item:
    n = rng.choice([rng.randint(0, 20), rng.randint(21, 99), rng.randint(100, 999),
                    rng.randint(1000, 9999)])
    return Item("What number is spoken in the audio clip? Answer with digits.", str(n), [],
                _voice(rng, number_words(n)))


COMMANDS: dict[str, tuple[str, ...]] = {  # intent -> spoken phrasings
    "turn on the lights": ("turn on the lights in the {room}", "switch the {room} lights on"),
    "turn off the lights": ("turn off the lights in the {room}", "switch the {room} lights off"),
    "set a timer": ("set a timer for {n} minutes", "start a {n} minute timer"),
    "play music": ("play some {genre} music", "put on some {genre} songs"),
    "check the weather": ("what is the weather like {day}", "will it rain {day}"),
    "call someone": ("call {name}", "phone {name} for me"),
    "set an alarm": ("wake me up at {hour} tomorrow", "set an alarm for {hour}"),
    "turn the volume up": ("make it louder", "turn the volume up a bit"),
    "turn the volume down": ("make it quieter", "turn the volume down a bit"),
    "send a message": ("text {name} that I am running late", "send {name} a message"),
}
_SLOTS: dict[str, tuple[str, ...]] = {
    "room": ("kitchen", "bedroom", "living room", "hallway", "office"),
    "n": tuple(number_words(v) for v in (2, 3, 5, 10, 15, 20, 25, 30)),
    "genre": ("jazz", "rock", "classical", "pop", "folk"),
    "day": ("today", "tomorrow", "this weekend", "on Monday"),
    "name": NAMES[:10],
    "hour": tuple(f"{number_words(h)} o'clock" for h in (5, 6, 7, 8, 9)),
}


def make_command(rng: random.Random) -> Item:
    intent = rng.choice(sorted(COMMANDS))
    template = rng.choice(COMMANDS[intent])
    spoken = template.format(**{k: rng.choice(v) for k, v in _SLOTS.items()})
    others = rng.sample([c for c in sorted(COMMANDS) if c != intent], 3)
    question = "What does the speaker ask the voice assistant to do?"
    return Item(question, intent, [intent, *others], {**_voice(rng, spoken), "intent": intent})


_OPS = {"plus": lambda a, b: a + b, "minus": lambda a, b: a - b, "times": lambda a, b: a * b}


def make_spoken_math(rng: random.Random) -> Item:
    kind = rng.choice(("plus", "minus", "times", "larger", "after"))
    a, b = rng.randint(2, 60), rng.randint(2, 60)
    if kind == "times":
        a, b = rng.randint(2, 12), rng.randint(2, 12)
    if kind == "minus" and b > a:
        a, b = b, a
    if kind in _OPS:
        spoken = f"What is {number_words(a)} {kind} {number_words(b)}?"
        answer, near = _OPS[kind](a, b), [a + b, abs(a - b), a * b]
    elif kind == "larger":
        b = b + 1 if b == a else b
        spoken = f"Which number is larger, {number_words(a)} or {number_words(b)}?"
        answer, near = max(a, b), [min(a, b)]
    else:
        spoken = f"What number comes right after {number_words(a)}?"
        answer, near = a + 1, [a - 1, a]
    options = [str(v) for v in [answer, *distractors(rng, answer, near)]]
    question = "Listen to the audio clip and answer the spoken question."
    return Item(question, str(answer), options,
                {**_voice(rng, spoken), "kind": kind, "a": a, "b": b})
