"""Where the speech is: Silero VAD v6 (the ONNX model that ships inside faster-whisper), run at 16 kHz."""

from __future__ import annotations

import logging

import numpy as np

from app.core.reference import Segment, resample

logger = logging.getLogger(__name__)

VAD_RATE = 16000


def speech_segments(audio: np.ndarray, sample_rate: int, min_silence_ms: int = 300) -> list[Segment]:
    """Speech (start, end) in seconds. Pauses shorter than ``min_silence_ms`` stay inside a segment."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    samples = np.nan_to_num(np.asarray(audio, dtype=np.float32))
    if samples.size == 0:
        return []
    at16k = resample(samples, sample_rate, VAD_RATE)
    options = VadOptions(
        threshold=0.5, min_speech_duration_ms=150, min_silence_duration_ms=min_silence_ms, speech_pad_ms=30
    )
    found = get_speech_timestamps(at16k, options, sampling_rate=VAD_RATE)
    segments = [(s["start"] / VAD_RATE, s["end"] / VAD_RATE) for s in found]
    logger.debug("VAD: %d segments, %.1f s of speech", len(segments), sum(e - s for s, e in segments))
    return segments
