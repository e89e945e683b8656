"""The growing audio track shared by the player and the waveform."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.core.track import AudioTrack


def test_appends_grow_the_track_and_views_are_stable() -> None:
    track = AudioTrack(24000)
    rng = np.random.default_rng(0)
    parts = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (100, 70000, 5, 200000)]
    first_view = None
    for part in parts:
        track.append(part)
        if first_view is None:
            first_view = track.view()
    assert track.frames == sum(p.size for p in parts)
    np.testing.assert_array_equal(track.samples, np.concatenate(parts))
    np.testing.assert_array_equal(first_view, parts[0])  # an old view still reads what it read
    assert track.duration == pytest.approx(track.frames / 24000)
    with pytest.raises(ValueError):
        track.samples[0] = 1.0


def test_views_are_clamped_and_finish_is_final() -> None:
    track = AudioTrack.from_array(np.ones(10, np.float32), 8000)
    assert track.finished
    assert track.view(5, 100).size == 5
    assert track.view(-3, 2).size == 2
    assert track.view(8, 4).size == 0
    with pytest.raises(ValueError):
        track.append(np.ones(3, np.float32))


def test_a_reader_thread_sees_a_consistent_prefix() -> None:
    track = AudioTrack(16000)
    stop = threading.Event()
    bad: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            data = track.samples
            if data.size and not np.array_equal(data, np.arange(data.size, dtype=np.float32)):
                bad.append(data.size)

    thread = threading.Thread(target=reader)
    thread.start()
    for start in range(0, 300_000, 3000):
        track.append(np.arange(start, start + 3000, dtype=np.float32))
    stop.set()
    thread.join()
    assert bad == []
