"""The min/max peak pyramid behind the waveform: exact peaks at every zoom, streamed or built at once."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.peaks import BLOCK, FACTOR, PeakPyramid
from app.core.track import AudioTrack

RATE = 24_000


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Speech-like: noise under a slowly varying loudness, so neighbouring bins really differ.
    n = int(seconds * RATE)
    loudness = np.abs(np.sin(np.linspace(0, 40, n))) + 0.05
    return (rng.standard_normal(n) * 0.3 * loudness).astype(np.float32)


def _assert_brute_force(pyramid: PeakPyramid, samples: np.ndarray, start: float, end: float, width: int):
    bins = pyramid.bins(start, end, width)
    assert len(bins) > 0
    assert np.all(bins.stops > bins.starts)
    assert np.all(bins.starts[1:] == bins.stops[:-1])  # contiguous, no sample skipped or counted twice
    for i in range(len(bins)):
        chunk = samples[bins.starts[i] : bins.stops[i]]
        assert bins.lows[i] == chunk.min(), (start, end, width, i)
        assert bins.highs[i] == chunk.max(), (start, end, width, i)
    # The bins cover the asked range (clamped to the track).
    assert bins.starts[0] <= max(0, int(np.floor(start * RATE)))
    assert bins.stops[-1] >= min(samples.size, int(np.ceil(end * RATE)))
    return bins


@pytest.mark.parametrize(
    ("start", "end", "width"),
    [
        (0.0, 30.0, 1000),  # the whole track
        (0.0, 100.0, 640),  # past the end: clamped
        (3.7, 21.2, 1000),
        (12.0, 13.0, 800),
        (12.0, 12.1, 800),  # a few samples per pixel
        (12.0, 12.01, 800),  # fewer samples than pixels: the samples themselves
        (29.99, 30.0, 300),
        (5.0, 6.0, 1),
        (0.0, 30.0, 7),
    ],
)
def test_peaks_match_a_brute_force_min_max(start: float, end: float, width: int) -> None:
    samples = _noise(30.0)
    pyramid = PeakPyramid(AudioTrack.from_array(samples, RATE))
    bins = _assert_brute_force(pyramid, samples, start, end, width)
    times, lows, highs = pyramid.envelope(start, end, width)
    np.testing.assert_array_equal(lows, bins.lows)
    np.testing.assert_array_equal(highs, bins.highs)
    np.testing.assert_allclose(times, (bins.starts + bins.stops - 1) / 2 / RATE)
    assert np.all(np.diff(times) > 0)


def test_zoomed_in_the_envelope_is_the_samples() -> None:
    samples = _noise(2.0)
    pyramid = PeakPyramid(AudioTrack.from_array(samples, RATE))
    times, lows, highs = pyramid.envelope(1.0, 1.01, 1000)  # 240 samples on 1000 pixels
    first = round(times[0] * RATE)
    np.testing.assert_array_equal(lows, highs)
    np.testing.assert_array_equal(lows, samples[first : first + lows.size])
    np.testing.assert_allclose(times, np.arange(first, first + lows.size) / RATE)
    assert times[0] <= 1.0 and times[-1] >= 1.01 - 1 / RATE


def test_levels_merge_blocks_of_the_level_below() -> None:
    samples = _noise(10.0, seed=3)
    pyramid = PeakPyramid(AudioTrack.from_array(samples, RATE))
    lows, highs = pyramid.level(0)
    assert lows.size == -(-samples.size // BLOCK)
    assert (
        lows[5] == samples[5 * BLOCK : 6 * BLOCK].min()
        and highs[-1] == samples[(lows.size - 1) * BLOCK :].max()
    )
    for level in range(1, pyramid.levels):
        below_lows, below_highs = pyramid.level(level - 1)
        lows, highs = pyramid.level(level)
        assert lows.size == -(-below_lows.size // FACTOR)
        assert lows[-1] == below_lows[(lows.size - 1) * FACTOR :].min()
        assert highs[0] == below_highs[:FACTOR].max()
    assert pyramid.level(pyramid.levels - 1)[0].size <= FACTOR


def test_streaming_in_random_chunks_builds_exactly_the_same_pyramid() -> None:
    samples = _noise(20.0, seed=1)
    whole = PeakPyramid(AudioTrack.from_array(samples, RATE))
    track = AudioTrack(RATE)
    streamed = PeakPyramid(track)
    rng = np.random.default_rng(7)
    done = 0
    while done < samples.size:
        # Mostly generator-sized chunks, some tiny ones that leave a level-0 block partial.
        size = int(rng.choice([1, 3, 63, 65, 4000, 12_000, 30_000]))
        track.append(samples[done : done + size])
        done += size
        assert streamed.update()
        assert streamed.frames == min(done, samples.size)
        if rng.random() < 0.05:  # mid-stream, the peaks so far are right too
            _assert_brute_force(streamed, samples[: streamed.frames], 0.0, 20.0, 500)
    assert not streamed.update()  # nothing new
    assert streamed.levels == whole.levels
    for level in range(whole.levels):
        for got, want in zip(streamed.level(level), whole.level(level), strict=True):
            np.testing.assert_array_equal(got, want)
    for start, end, width in [(0, 20, 1000), (4.2, 4.9, 333)]:
        for got, want in zip(
            streamed.envelope(start, end, width), whole.envelope(start, end, width), strict=True
        ):
            np.testing.assert_array_equal(got, want)


def test_an_empty_track_and_a_track_of_one_sample() -> None:
    track = AudioTrack(RATE)
    pyramid = PeakPyramid(track)
    assert pyramid.frames == 0 and pyramid.levels == 0
    for part in pyramid.envelope(0.0, 10.0, 800):
        assert part.size == 0
    assert not pyramid.update()

    track.append(np.array([0.25], np.float32))
    assert pyramid.update()
    times, lows, highs = pyramid.envelope(0.0, 10.0, 800)
    assert times.tolist() == [0.0] and lows.tolist() == [0.25] and highs.tolist() == [0.25]
    assert pyramid.level(0)[0].tolist() == [0.25]
    times, lows, highs = pyramid.envelope(5.0, 6.0, 800)  # beyond the end
    assert times.size == lows.size == highs.size == 0


@pytest.mark.parametrize("width", [1, 2, 10, 333, 1000, 2560])
def test_output_size_is_bounded_by_the_width(width: int) -> None:
    samples = _noise(60.0, seed=2)
    pyramid = PeakPyramid(AudioTrack.from_array(samples, RATE))
    for start, end in [(0.0, 60.0), (10.0, 50.0), (30.0, 31.0), (30.0, 30.05), (30.0, 30.001), (59.9, 65.0)]:
        times, lows, highs = pyramid.envelope(start, end, width)
        assert 0 < times.size <= 2 * width + 2, (start, end, width, times.size)
        assert times.size == lows.size == highs.size
        if (min(end, 60.0) - start) * RATE >= 2 * width:  # not the raw samples: a point per pixel or more
            assert times.size >= width


def test_an_hour_of_audio_finds_every_spike_at_every_zoom() -> None:
    frames = 3600 * RATE
    samples = np.zeros(frames, np.float32)  # untouched zero pages cost no memory until copied
    spikes = {0: 0.5, 20_000_000: -0.8, 40_000_003: 0.9, 71_999_999: -0.6, frames - 1: 0.7}
    for index, value in spikes.items():
        samples[index] = value
    pyramid = PeakPyramid(AudioTrack.from_array(samples, RATE))
    del samples
    assert pyramid.frames == frames

    times, lows, highs = pyramid.envelope(0.0, 3600.0, 1000)
    assert times.size <= 2002
    assert highs.max() == 0.9 and lows.min() == -0.8
    for index, value in spikes.items():
        at = index / RATE
        for span in (3600.0, 600.0, 60.0, 10.0, 1.0, 0.1, 0.01):
            start = min(max(0.0, at - span / 3), 3600.0 - span)
            times, lows, highs = pyramid.envelope(start, start + span, 1000)
            assert times.size <= 2002
            found = np.flatnonzero((lows == value) if value < 0 else (highs == value))
            assert found.size == 1, (index, span)
            # The bin holding the spike is drawn where the spike is, within one bin.
            step = times[1] - times[0] if times.size > 1 else 0.0
            assert abs(times[found[0]] - at) <= step, (index, span)
            others = np.delete(np.maximum(np.abs(lows), np.abs(highs)), found)
            assert others.size == 0 or others.max() == 0.0 or span >= 600.0  # wide views hold other spikes
