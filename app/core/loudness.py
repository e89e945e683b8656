"""Loudness (ITU-R BS.1770, via pyloudnorm) and normalisation to a LUFS target with a peak limiter."""

from __future__ import annotations

import logging
import math

import numpy as np

from app.core.audio import as_mono_float32

log = logging.getLogger(__name__)

DEFAULT_LUFS = -16.0
"""Integrated loudness for spoken word on phones and laptops (the usual podcast/audiobook target)."""

_BLOCK_SECONDS = 0.4  # BS.1770 gating block used by pyloudnorm


def measure_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770) in LUFS; -inf for silence or anything under the -70 LUFS gate.

    A clip shorter than one 0.4 s gating block is repeated until it fills one: that keeps its mean-square
    level, whereas padding with silence would make it measure quieter than it sounds.
    """
    import pyloudnorm

    samples = as_mono_float32(audio).astype(np.float64)
    if samples.size == 0 or not np.any(samples):
        return float("-inf")
    needed = int(_BLOCK_SECONDS * sample_rate) + 1
    if samples.size < needed:
        samples = np.tile(samples, -(-needed // samples.size))
    return float(pyloudnorm.Meter(sample_rate, block_size=_BLOCK_SECONDS).integrated_loudness(samples))


MAX_LIMITING_DB = 9.0
"""Most gain the peak limiter may take off; beyond this it would be audible, so the level is lowered."""
_LOOKAHEAD_SECONDS = 0.005


def normalise_loudness(
    audio: np.ndarray, sample_rate: int, target_lufs: float = DEFAULT_LUFS, peak_ceiling_db: float = -1.0
) -> np.ndarray:
    """Gain to reach ``target_lufs`` with every sample peak at or under ``peak_ceiling_db`` dBFS.

    Speech has peaks 15-20 dB over its loudness, so reaching -16 LUFS usually puts a few of them over the
    ceiling. A look-ahead limiter turns just those moments down (smoothly, no clipping) and the gain is
    re-measured so the result still lands on the target. Only audio whose peaks would need more than
    :data:`MAX_LIMITING_DB` of limiting (clicks over near-silence) ends up quieter than asked, since
    squashing it further would be heard. Silence (and anything too quiet to measure) is returned as is.
    """
    samples = as_mono_float32(audio)
    current = measure_lufs(samples, sample_rate)
    if not math.isfinite(current):
        log.debug("Nothing loud enough to normalise; audio left as it is")
        return samples
    ceiling = 10.0 ** (peak_ceiling_db / 20.0)
    gain_db = target_lufs - current
    excess_db = 20.0 * math.log10(float(np.max(np.abs(samples)))) + gain_db - peak_ceiling_db
    if excess_db > MAX_LIMITING_DB:
        gain_db -= excess_db - MAX_LIMITING_DB
        log.info("Peaks limit loudness to %.1f LUFS (asked %.1f)", current + gain_db, target_lufs)
    goal = current + gain_db
    out = samples.astype(np.float64) * 10.0 ** (gain_db / 20.0)
    for _ in range(4):
        limited = _limit(out, sample_rate, ceiling)
        miss = goal - measure_lufs(limited, sample_rate)
        if not math.isfinite(miss) or abs(miss) < 0.05:
            break
        out *= 10.0 ** (miss / 20.0)
    return limited.astype(np.float32)


def _limit(audio: np.ndarray, sample_rate: int, ceiling: float) -> np.ndarray:
    """Look-ahead peak limiter: the gain needed at each sample, spread (min over ±5 ms, then averaged over
    5 ms) so it dips ahead of a peak and recovers after it. Averaging within the min window keeps every
    sample at or under the ceiling."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    peaks = np.abs(audio)
    if float(peaks.max(initial=0.0)) <= ceiling:
        return audio
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    reach = max(1, int(_LOOKAHEAD_SECONDS * sample_rate))
    gain = uniform_filter1d(minimum_filter1d(need, size=2 * reach + 1, mode="nearest"), size=reach + 1)
    return np.minimum(np.abs(audio * gain), ceiling) * np.sign(audio)
