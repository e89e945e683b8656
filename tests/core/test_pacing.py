"""Chunk pacing: the next chunk is sized to be ready before the buffered audio runs out."""

from __future__ import annotations

from app.core.pacing import next_chunk_chars


def _pace(**kwargs):
    base = dict(min_chars=40, max_chars=300, safety=1.0)
    return next_chunk_chars(**{**base, **kwargs})


def test_nothing_measured_yet_means_no_opinion():
    assert _pace(audio_seconds=0, compute_seconds=0, chars_done=0, played_seconds=0) is None


def test_next_chunk_fits_in_the_buffered_audio():
    # 3 s of audio for 50 chars (0.06 s/char), made at RTF 0.5; 1 s already heard -> 2 s buffered,
    # which buys 2 s of compute = 4 s of audio = 66 chars.
    assert _pace(audio_seconds=3, compute_seconds=1.5, chars_done=50, played_seconds=1) == 66


def test_slow_engines_get_small_chunks_and_fast_ones_the_maximum():
    slow = _pace(audio_seconds=3, compute_seconds=2.7, chars_done=50, played_seconds=0.5)
    fast = _pace(audio_seconds=3, compute_seconds=0.2, chars_done=50, played_seconds=0.5)
    assert slow == 46 and fast == 300  # 2.5 s buffered / RTF 0.9 = 2.8 s of audio


def test_bounds_hold_when_playback_has_caught_up():
    assert _pace(audio_seconds=3, compute_seconds=2, chars_done=50, played_seconds=5) == 40


def test_safety_margin_shrinks_the_chunk():
    loose = _pace(audio_seconds=3, compute_seconds=1.5, chars_done=50, played_seconds=1)
    tight = next_chunk_chars(
        audio_seconds=3, compute_seconds=1.5, chars_done=50, played_seconds=1, min_chars=40, max_chars=300
    )
    assert tight < loose
