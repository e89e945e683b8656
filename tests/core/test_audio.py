"""Audio helpers: trimming, click-free edges, resampling, sanitising."""

from __future__ import annotations

import numpy as np

from app.core import audio


def test_trim_silence_keeps_a_short_margin():
    rate = 1000
    signal = np.r_[np.zeros(500), 0.5 * np.ones(200), np.zeros(500)].astype(np.float32)
    trimmed = audio.trim_silence(signal, rate, keep=0.03)
    assert len(trimmed) == 200 + 2 * 30
    assert audio.trim_silence(np.zeros(100, np.float32), rate).size == 0


def test_fade_edges_starts_and_ends_at_zero_without_touching_the_middle():
    signal = np.ones(1000, dtype=np.float32)
    faded = audio.fade_edges(signal, 1000, seconds=0.05)
    assert faded[0] == 0 and faded[-1] == 0
    assert np.all(faded[50:-50] == 1)
    assert np.all(np.diff(faded[:50]) > 0)
    assert signal[0] == 1, "input left untouched"


def test_as_mono_float32_averages_channels_and_removes_nan():
    stereo = np.stack([np.ones(10), np.zeros(10)], axis=1)
    assert np.allclose(audio.as_mono_float32(stereo), 0.5)
    dirty = np.array([0.1, np.nan, np.inf, -np.inf], dtype=np.float64)
    clean = audio.as_mono_float32(dirty)
    assert clean.dtype == np.float32 and clean.tolist() == [np.float32(0.1), 0, 0, 0]


def test_resample_length_and_shape():
    tone = np.sin(np.linspace(0, 20 * np.pi, 22050)).astype(np.float32)
    out = audio.resample(tone, 22050, 24000)
    assert len(out) == 24000 and out.dtype == np.float32
    assert abs(audio.rms(out) - audio.rms(tone)) < 0.01
    assert audio.resample(tone, 24000, 24000) is tone


def test_to_int16_clips():
    assert audio.to_int16(np.array([2.0, -2.0, 0.5])).tolist() == [32767, -32767, 16383]
