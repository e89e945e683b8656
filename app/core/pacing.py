"""Chunk pacing: how much text to synthesize next so playback never runs dry.

Playback starts with the first chunk. While chunk k plays, chunk k+1 is computed; if it takes longer
than the audio still buffered, the listener hears a gap. Knowing the engine's measured speed (real-time
factor) and how much audio per character it makes, the next chunk is sized to be ready in time. When
synthesis is faster than real time the buffer grows, so chunks grow towards the maximum by themselves.
"""

from __future__ import annotations


def next_chunk_chars(
    *,
    audio_seconds: float,
    compute_seconds: float,
    chars_done: int,
    played_seconds: float,
    min_chars: int,
    max_chars: int,
    safety: float = 0.75,
) -> int | None:
    """The largest next chunk, in characters, that should be ready before the buffered audio runs out.

    ``audio_seconds``/``compute_seconds``/``chars_done`` describe everything synthesized so far;
    ``played_seconds`` is how much of it has been heard. ``None`` when there is nothing to measure yet.
    """
    if audio_seconds <= 0 or compute_seconds <= 0 or chars_done <= 0:
        return None
    rtf = compute_seconds / audio_seconds
    buffered = max(0.0, audio_seconds - played_seconds)
    seconds_per_char = audio_seconds / chars_done
    affordable = safety * buffered / rtf / seconds_per_char
    return int(max(min_chars, min(max_chars, affordable)))
