"""16 kHz mono audio and the espeak-ng executable: shared by the starter pool and audio operators.

Every clip the project writes is 16 kHz mono 16-bit PCM; `resample` brings other rates there
with a band-limited (FFT) resampler. espeak-ng is a system package (Debian: espeak-ng).
"""

from __future__ import annotations

import math
import shutil

import numpy as np

ESPEAK = "espeak-ng"
SAMPLE_RATE = 16_000


def find_espeak() -> str | None:
    """The espeak-ng executable on PATH, or None."""
    return shutil.which(ESPEAK)


def resample(pcm: np.ndarray, src: int, dst: int) -> np.ndarray:
    """16-bit PCM from `src` Hz to `dst` Hz (ideal low-pass in the frequency domain)."""
    if src == dst or len(pcm) == 0:
        return pcm.astype("<i2")
    down = src // math.gcd(src, dst)
    x = np.concatenate([pcm.astype(np.float64), np.zeros((-len(pcm)) % down)])
    m = len(x) * dst // src
    spectrum = np.fft.rfft(x)[: m // 2 + 1]
    y = np.fft.irfft(spectrum, m) * (m / len(x))
    return np.clip(np.rint(y), -32768, 32767).astype("<i2")
