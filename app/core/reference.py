"""Reference audio for voice profiles: what is wrong with a recording (refusals and warnings), and the
clean copy that is stored: mono, 24 kHz, silence trimmed, the best 10-30 s of speech, a steady level,
and a short silence at the end.

Pure functions of the samples and the speech segments a VAD found; no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

TARGET_RATE = 24000
"""What every cloning engine here accepts (Kokoro, Qwen3-TTS and XTTS take 24 kHz references)."""
MIN_SPEECH_SECONDS = 3.0
WINDOW_SECONDS = (10.0, 30.0)
"""The stored reference is the best stretch of speech within this length range."""
REFERENCE_LUFS = -20.0
LEAD_SECONDS = 0.15
TAIL_SECONDS = 0.3
"""Silence kept before the first word and added after the last: engines clip a reference that ends on
a word."""
CLIP_LEVEL = 0.99
CLIP_WARN_FRACTION = 0.001
NOISY_SNR_DB = 20.0

Segment = tuple[float, float]
"""(start, end) of speech, in seconds."""


class ReferenceRefused(ValueError):
    """A recording that cannot make a voice; the message says why and what to do."""


@dataclass
class ReferenceCheck:
    """Measurements of a recording, its warnings, and the refusal (``None`` when it is usable)."""

    duration: float
    speech_seconds: float
    peak: float
    clipped_fraction: float
    snr_db: float
    warnings: list[str] = field(default_factory=list)
    refusal: str | None = None

    def as_quality(self) -> dict[str, float | list[str]]:
        """The figures stored with a sample."""
        return {
            "speech_seconds": round(self.speech_seconds, 2),
            "peak": round(self.peak, 4),
            "clipped_fraction": round(self.clipped_fraction, 5),
            "snr_db": round(self.snr_db, 1),
            "warnings": list(self.warnings),
        }


def check(audio: np.ndarray, sample_rate: int, speech: list[Segment]) -> ReferenceCheck:
    """Measure a recording and decide: refused (damaged, silent, too little speech) or usable, with
    warnings for clipping and noise."""
    duration = len(audio) / float(sample_rate) if sample_rate else 0.0
    finite = np.isfinite(audio)
    clean = np.where(finite, audio, 0.0).astype(np.float32)
    peak = float(np.max(np.abs(clean), initial=0.0))
    speech_seconds = float(sum(max(0.0, e - s) for s, e in speech))
    result = ReferenceCheck(
        duration, speech_seconds, peak, _clipped_fraction(clean), _snr_db(clean, sample_rate)
    )
    if not finite.all():
        result.refusal = "The recording is damaged: it contains invalid sample values. Export it again."
    elif duration == 0.0:
        result.refusal = "The recording is empty."
    elif peak < 1e-3:
        result.refusal = "The recording is silent. Check that the right microphone or file was used."
    elif speech_seconds < MIN_SPEECH_SECONDS:
        found = "no speech" if speech_seconds < 0.05 else f"only {speech_seconds:.1f} s of speech"
        result.refusal = (
            f"The recording has {found}; a voice needs at least {MIN_SPEECH_SECONDS:.0f} s. "
            "Record a few sentences, spoken clearly."
        )
    if result.refusal is None:
        if result.clipped_fraction > CLIP_WARN_FRACTION:
            result.warnings.append(
                f"The recording is clipped (distorted) in places ({result.clipped_fraction:.1%} of it); "
                "the voice may sound harsh. Record a little further from the microphone."
            )
        if result.snr_db < NOISY_SNR_DB:
            result.warnings.append(
                f"The recording is noisy (speech only {result.snr_db:.0f} dB above the background); "
                "the voice may copy the noise. A quieter room works better."
            )
    return result


def clean(audio: np.ndarray, sample_rate: int, speech: list[Segment]) -> np.ndarray:
    """The stored form of a usable recording: 24 kHz, the best 10-30 s of speech with silence trimmed,
    at :data:`REFERENCE_LUFS`, ending in :data:`TAIL_SECONDS` of silence."""
    from app.core.loudness import normalise_loudness

    if not speech:
        raise ReferenceRefused("The recording has no speech.")
    start, end = best_window(speech)
    duration = len(audio) / float(sample_rate)
    first = int(max(0.0, start - LEAD_SECONDS) * sample_rate)
    last = int(min(duration, end + 0.05) * sample_rate)
    piece = resample(np.nan_to_num(audio[first:last]).astype(np.float32), sample_rate, TARGET_RATE)
    piece = _fade(piece, TARGET_RATE)
    piece = normalise_loudness(piece, TARGET_RATE, REFERENCE_LUFS)
    return np.concatenate([piece, np.zeros(int(TAIL_SECONDS * TARGET_RATE), dtype=np.float32)])


def best_window(speech: list[Segment], bounds: tuple[float, float] = WINDOW_SECONDS) -> Segment:
    """The stretch from one segment's start to a later segment's end, at most ``bounds[1]`` long, that
    holds the most speech (ties: the earliest). Shorter recordings are used whole."""
    segments = sorted((float(s), float(e)) for s, e in speech if e > s)
    if not segments:
        raise ReferenceRefused("The recording has no speech.")
    longest = bounds[1]
    if segments[-1][1] - segments[0][0] <= longest:
        return segments[0][0], segments[-1][1]
    best: tuple[float, Segment] | None = None
    for i, (start, _) in enumerate(segments):
        spoken, end = 0.0, None
        for s, e in segments[i:]:
            if e - start > longest:
                if end is None:  # one segment longer than the window: take its first part
                    end, spoken = start + longest, longest
                break
            spoken += e - s
            end = e
        assert end is not None
        if best is None or spoken > best[0] + 1e-9:
            best = (spoken, (start, end))
    assert best is not None
    return best[1]


def resample(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited (polyphase) resampling, good enough for a voice print."""
    from scipy.signal import resample_poly

    if source_rate == target_rate or audio.size == 0:
        return audio.astype(np.float32)
    g = math.gcd(int(source_rate), int(target_rate))
    return resample_poly(audio, target_rate // g, source_rate // g).astype(np.float32)


def _fade(audio: np.ndarray, rate: int, seconds: float = 0.02) -> np.ndarray:
    n = min(int(seconds * rate), len(audio) // 2)
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        audio = audio.copy()
        audio[:n] *= ramp
        audio[-n:] *= ramp[::-1]
    return audio


def _clipped_fraction(audio: np.ndarray) -> float:
    """Share of samples in runs of 3+ at full scale: flat-topped waves, the mark of clipping."""
    if audio.size < 3:
        return 0.0
    hot = np.abs(audio) >= CLIP_LEVEL
    runs = hot[:-2] & hot[1:-1] & hot[2:]
    return float(np.count_nonzero(runs)) / audio.size


def _snr_db(audio: np.ndarray, rate: int) -> float:
    """Speech level over the background: loud 20 ms frames (90th percentile) against quiet ones (10th)."""
    frame = max(1, int(0.02 * rate))
    count = len(audio) // frame
    if count < 10:
        return 60.0
    levels = np.sqrt(
        np.mean(np.square(audio[: count * frame].reshape(count, frame), dtype=np.float64), axis=1)
    )
    loud, quiet = np.percentile(levels, 90), np.percentile(levels, 10)
    if loud <= 0:
        return 0.0
    return float(min(60.0, 20.0 * math.log10(loud / max(quiet, loud * 1e-3))))
