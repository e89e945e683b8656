"""Transcribe speech with faster-whisper (Whisper base, multilingual): the text of a reference and its
language, detected. One model per process, loaded on first use."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.reference import resample

logger = logging.getLogger(__name__)

WHISPER_RATE = 16000
_lock = threading.Lock()
_model: Any = None


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    """ISO 639-1 code Whisper detected (``en``, ``ja``...)."""
    language_probability: float
    audio_seconds: float
    seconds: float
    """How long transcription took."""

    @property
    def rtf(self) -> float:
        return self.seconds / self.audio_seconds if self.audio_seconds else 0.0


def _whisper() -> Any:
    global _model
    with _lock:
        if _model is None:
            from faster_whisper import WhisperModel

            from app.engines.whisper_assets import ensure_model

            _model = WhisperModel(str(ensure_model()), device="cpu", compute_type="int8", cpu_threads=2)
        return _model


def transcribe(audio: np.ndarray, sample_rate: int, language: str | None = None) -> Transcript:
    """The words in ``audio`` and their language (``language`` skips detection when known)."""
    import time

    started = time.perf_counter()
    at16k = resample(np.nan_to_num(np.asarray(audio, dtype=np.float32)), sample_rate, WHISPER_RATE)
    segments, info = _whisper().transcribe(
        at16k, language=language, beam_size=5, vad_filter=False, condition_on_previous_text=False
    )
    text = " ".join(segment.text.strip() for segment in segments).strip()
    took = time.perf_counter() - started
    logger.info("Transcribed %.1f s in %.2f s (%s)", len(at16k) / WHISPER_RATE, took, info.language)
    return Transcript(text, info.language, float(info.language_probability), len(at16k) / WHISPER_RATE, took)
