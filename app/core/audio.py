"""Pure audio helpers: trimming, fades and pauses so chunks join without clicks or odd gaps."""

from __future__ import annotations

import numpy as np

FADE_SECONDS = 0.005
"""Fade length at each chunk edge: long enough to remove a click, far too short to hear."""

SILENCE_THRESHOLD = 0.01
"""Peak level under which a chunk's edge counts as silence."""

PAUSES = {"paragraph": 0.55, "sentence": 0.3, "clause": 0.12, "word": 0.0, "hard": 0.0, "end": 0.0}
"""Seconds of silence after a chunk, by the kind of text break that follows it."""


def as_mono_float32(samples: np.ndarray) -> np.ndarray:
    """Return ``samples`` as a 1-D float32 array, averaging channels and replacing NaN/inf with 0."""
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim > 1:
        audio = audio.mean(axis=1 if audio.shape[0] > audio.shape[-1] else 0, dtype=np.float32)
    audio = audio.reshape(-1)
    if not np.all(np.isfinite(audio)):
        audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    return audio


def trim_silence(audio: np.ndarray, sample_rate: int, keep: float = 0.03) -> np.ndarray:
    """Cut leading and trailing silence, keeping ``keep`` seconds so consonants are not clipped."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_THRESHOLD)
    if loud.size == 0:
        return audio[:0]
    pad = int(keep * sample_rate)
    return audio[max(0, loud[0] - pad) : loud[-1] + pad + 1]


def fade_edges(audio: np.ndarray, sample_rate: int, seconds: float = FADE_SECONDS) -> np.ndarray:
    """Apply a short linear fade-in and fade-out so a join never starts or stops on a non-zero sample."""
    n = min(int(seconds * sample_rate), len(audio) // 2)
    if n <= 0:
        return audio
    out = audio.copy()
    ramp = np.linspace(0.0, 1.0, n, endpoint=False, dtype=np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Clip to [-1, 1] and convert to 16-bit PCM."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def rms(audio: np.ndarray) -> float:
    """Root-mean-square level (0 for empty input)."""
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0


def resample(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Linear-interpolation resampling; good enough to align engine output, not for mastering."""
    if source_rate == target_rate or audio.size == 0:
        return audio
    n = max(1, round(len(audio) * target_rate / source_rate))
    positions = np.linspace(0.0, len(audio) - 1, n, dtype=np.float64)
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)
