"""benchagent.common: resampling to 16 kHz and numbers as words."""

from __future__ import annotations

import math

import numpy as np

from benchagent.common.audio import SAMPLE_RATE, resample
from benchagent.common.numwords import number_words


def test_resample_keeps_pitch_and_loudness() -> None:
    seconds, freq = 1.0, 440.0
    t = np.arange(int(22_050 * seconds)) / 22_050
    tone = (10_000 * np.sin(2 * math.pi * freq * t)).astype("<i2")
    out = resample(tone, 22_050, SAMPLE_RATE)
    assert out.dtype == np.dtype("<i2") and abs(len(out) - SAMPLE_RATE * seconds) <= 1
    crossings = np.count_nonzero(np.diff(np.signbit(out[100:-100])))
    assert abs(crossings / 2 / (len(out[100:-100]) / SAMPLE_RATE) - freq) < 2
    assert 9_500 < np.abs(out[100:-100]).max() <= 10_100


def test_number_words() -> None:
    assert [number_words(n) for n in (0, 13, 40, 72, 105, 999, 4372, 7000)] == [
        "zero", "thirteen", "forty", "seventy-two", "one hundred five",
        "nine hundred ninety-nine", "four thousand three hundred seventy-two", "seven thousand"]
