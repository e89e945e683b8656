"""A min/max peak pyramid over a growing :class:`AudioTrack`, so a waveform of any length redraws in O(width).

Drawing an hour of audio (86 M samples at 24 kHz) by touching every sample would take far longer than a
frame. Level 0 keeps the minimum and maximum of every block of :data:`BLOCK` samples; each level above
merges :data:`FACTOR` blocks of the one below. :meth:`PeakPyramid.envelope` answers from the coarsest level
that still gives about two points per pixel, then merges a few of its blocks into bins, so its cost and
its output depend on the width in pixels and never on how much audio the range covers. Zoomed in so far
that the range holds fewer than two samples per pixel, it returns the samples themselves.

While a generation streams, :meth:`PeakPyramid.update` folds in only what arrived since the last call
(recomputing the block that was partial then), so the pyramid costs the same whether it is built in one
go or chunk by chunk, and gives exactly the same numbers.

Bins are aligned to multiples of their size in samples rather than to the start of the range, so
scrolling at a fixed zoom shows the same peaks in the same places instead of shimmering.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from app.core.track import AudioTrack

logger = logging.getLogger(__name__)

BLOCK = 64
"""Samples per level-0 block."""
FACTOR = 4
"""Blocks of one level merged into one block of the next."""
POINTS_PER_PIXEL = 1.0
"""The least density of bins :meth:`PeakPyramid.envelope` gives (it gives up to twice as many): every pixel
column gets a bin, so no peak falls between two, and no more than the screen can show."""
RAW_SAMPLES_PER_PIXEL = 2.0
"""Below this many samples per pixel, the envelope is the samples themselves."""


@dataclass(frozen=True)
class Bins:
    """Min/max bins in sample indices: bin ``i`` covers samples ``[starts[i], stops[i])``."""

    starts: np.ndarray
    stops: np.ndarray
    lows: np.ndarray
    highs: np.ndarray

    def __len__(self) -> int:
        return int(self.starts.size)


class _Level:
    """One level's block minima and maxima, grown by doubling like the track itself."""

    def __init__(self) -> None:
        self.lows = np.zeros(0, np.float32)
        self.highs = np.zeros(0, np.float32)
        self.count = 0

    def write(self, first: int, lows: np.ndarray, highs: np.ndarray) -> None:
        """Blocks ``first, first + 1, ...`` become ``lows``/``highs``; the level ends after them."""
        need = first + lows.size
        if need > self.lows.size:
            capacity = max(need, 2 * self.lows.size, 16)
            for name in ("lows", "highs"):
                grown = np.zeros(capacity, np.float32)
                grown[: self.count] = getattr(self, name)[: self.count]
                setattr(self, name, grown)
        self.lows[first:need] = lows
        self.highs[first:need] = highs
        self.count = need


def _merge(lows: np.ndarray, highs: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Min of ``lows`` and max of ``highs`` over consecutive groups of ``size``; the last may be short."""
    if lows.size == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    # reduceat is about twice as fast as a min over the short axis of a (n, size) reshape.
    starts = np.arange(0, lows.size, size)
    return np.minimum.reduceat(lows, starts), np.maximum.reduceat(highs, starts)


class PeakPyramid:
    """Min/max peaks of one track at every zoom; call :meth:`update` after the track grew."""

    def __init__(self, track: AudioTrack) -> None:
        self.track = track
        self._levels: list[_Level] = []
        self._frames = 0
        """Samples folded in so far."""
        self._version = -1
        self.update()

    @property
    def sample_rate(self) -> int:
        return self.track.sample_rate

    @property
    def frames(self) -> int:
        """Samples covered by the pyramid (those the track had at the last :meth:`update`)."""
        return self._frames

    @property
    def levels(self) -> int:
        return len(self._levels)

    def block_size(self, level: int) -> int:
        """Samples per block at ``level``."""
        return BLOCK * FACTOR**level

    def level(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Read-only block minima and maxima of one level."""
        lvl = self._levels[index]
        lows, highs = lvl.lows[: lvl.count], lvl.highs[: lvl.count]
        lows.flags.writeable = highs.flags.writeable = False
        return lows, highs

    def update(self) -> bool:
        """Fold in the samples appended since the last call; True if anything changed."""
        if self.track.version == self._version and self.track.frames == self._frames:
            return False
        self._version = self.track.version
        frames = self.track.frames
        if frames == self._frames:
            return False
        # The block that was partial last time is recomputed whole, and so is every block above it.
        first = self._frames // BLOCK
        samples = self.track.view(first * BLOCK, frames)
        self._frames = frames
        if not self._levels:
            self._levels.append(_Level())
        self._levels[0].write(first, *_merge(samples, samples, BLOCK))
        index = 0
        while self._levels[index].count > FACTOR:
            below = self._levels[index]
            if index + 1 == len(self._levels):
                self._levels.append(_Level())
                first = 0  # a new level starts from scratch; it is a quarter of the one below
            else:
                first //= FACTOR
            start = first * FACTOR
            lows, highs = _merge(below.lows[start : below.count], below.highs[start : below.count], FACTOR)
            self._levels[index + 1].write(first, lows, highs)
            index += 1
        return True

    def bins(self, start_s: float, end_s: float, width_px: int) -> Bins:
        """Min/max bins covering ``[start_s, end_s)``, one or two per pixel (see :meth:`envelope`).

        When the range holds fewer than two samples per pixel, every bin is one sample (lows == highs).
        The first and last bins may reach a little beyond the range, so a curve drawn through them
        meets the edges of the view.
        """
        rate = self.sample_rate
        frames = self._frames
        width = max(1, int(width_px))
        a = max(0, min(frames, int(np.floor(start_s * rate))))
        b = max(0, min(frames, int(np.ceil(end_s * rate))))
        if b <= a:
            empty = np.zeros(0, np.int64)
            return Bins(empty, empty, np.zeros(0, np.float32), np.zeros(0, np.float32))
        if b - a < RAW_SAMPLES_PER_PIXEL * width:
            # Fewer samples than points wanted: the samples themselves, one more on each side.
            a, b = max(0, a - 1), min(frames, b + 1)
            samples = np.array(self.track.view(a, b), np.float32)
            starts = np.arange(a, b, dtype=np.int64)
            return Bins(starts, starts + 1, samples, samples.copy())
        target = (b - a) / (POINTS_PER_PIXEL * width)
        # The coarsest source (raw samples, or a level) with blocks no bigger than the target bin, then a
        # whole number of its blocks per bin: bins of `size` samples, between half the target and the
        # target, so there are one to two bins per pixel.
        level = -1
        block = 1
        while level + 1 < len(self._levels) and self.block_size(level + 1) <= target:
            level += 1
            block = self.block_size(level)
        group = max(1, int(target // block))
        size = group * block
        first_bin, end_bin = a // size, -(-b // size)
        lo_block, hi_block = first_bin * group, end_bin * group
        if level < 0:
            src = self.track.view(lo_block, min(hi_block, frames))
            lows, highs = _merge(src, src, group)
        else:
            lvl = self._levels[level]
            hi_block = min(hi_block, lvl.count)
            lows, highs = _merge(lvl.lows[lo_block:hi_block], lvl.highs[lo_block:hi_block], group)
        starts = np.arange(first_bin, first_bin + lows.size, dtype=np.int64) * size
        stops = np.minimum(starts + size, frames)
        return Bins(starts, stops, lows, highs)

    def envelope(
        self, start_s: float, end_s: float, width_px: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(times, lows, highs)`` of the audio in ``[start_s, end_s)`` drawn ``width_px`` pixels wide.

        ``times`` (float64 seconds) is the middle of each bin; there are one to two bins per pixel whatever
        the range (a couple more at the edges), and ``lows == highs`` when zoomed in to single samples.
        """
        found = self.bins(start_s, end_s, width_px)
        times = (found.starts + (found.stops - 1)) * (0.5 / self.sample_rate)
        return times, found.lows, found.highs
