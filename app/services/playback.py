"""Audio outputs: a buffer the synthesis thread fills and a device callback drains, gap-aware.

:class:`BufferedOutput` holds the logic (bounded buffer, underrun accounting, drain, stop);
:class:`SoundDeviceOutput` feeds it to PortAudio through sounddevice; :class:`ClockedOutput` drains it at
real-time pace with no sound card (headless machines, and measuring gaps in tests and benchmarks).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any

import numpy as np

from app.core.errors import OutputError
from app.services.devices import ClockStream, SoundDeviceStream, check_output

logger = logging.getLogger(__name__)


class BufferedOutput:
    """A playback queue: ``write`` never holds more than ``max_buffered_seconds`` (it waits instead)."""

    def __init__(self, max_buffered_seconds: float = 30.0) -> None:
        self.max_buffered_seconds = max_buffered_seconds
        self.sample_rate = 0
        self.underruns = 0
        """Times playback ran dry before the input was finished (each audible gap counts once)."""
        self.underrun_seconds = 0.0
        self.played_frames = 0
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._offset = 0
        self._buffered = 0
        self._cond = threading.Condition()
        self._finished = False
        self._stopped = False
        self._starving = False
        self._started = False

    # --- called by the producer -------------------------------------------------------------
    def start(self, sample_rate: int) -> None:
        """Open the device; playback begins as soon as the first samples are written."""
        self.sample_rate = int(sample_rate)
        self._open_stream()
        self._started = True

    def write(self, samples: np.ndarray) -> None:
        """Queue samples for playback, waiting while the buffer is full."""
        data = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if data.size == 0:
            return
        limit = int(self.max_buffered_seconds * self.sample_rate)
        with self._cond:
            while self._buffered >= limit and not self._stopped:
                self._cond.wait(0.1)
            if self._stopped:
                return
            self._queue.append(data)
            self._buffered += data.size

    def drain(self, timeout: float | None = None) -> None:
        """Mark the input finished and wait until everything queued has been played."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._finished = True
            while self._buffered > 0 and not self._stopped:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._cond.wait(0.05 if remaining is None else min(0.05, remaining))
        self._close_stream()

    def stop(self) -> None:
        """Stop at once and drop whatever is still queued."""
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._buffered = 0
            self._cond.notify_all()
        self._close_stream()

    @property
    def buffered_seconds(self) -> float:
        return self._buffered / self.sample_rate if self.sample_rate else 0.0

    # --- called by the device --------------------------------------------------------------------
    def pull(self, frames: int) -> np.ndarray:
        """Return exactly ``frames`` samples, padding with silence (and counting the gap) when dry."""
        out = np.zeros(frames, dtype=np.float32)
        filled = 0
        with self._cond:
            while filled < frames and self._queue:
                head = self._queue[0]
                take = min(frames - filled, head.size - self._offset)
                out[filled : filled + take] = head[self._offset : self._offset + take]
                filled += take
                self._offset += take
                if self._offset >= head.size:
                    self._queue.popleft()
                    self._offset = 0
            self._buffered -= filled
            self.played_frames += filled
            if filled < frames and self.played_frames > 0 and not self._finished and not self._stopped:
                if not self._starving:
                    self.underruns += 1
                    logger.debug("Playback underrun after %.2f s", self.played_frames / self.sample_rate)
                self._starving = True
                self.underrun_seconds += (frames - filled) / self.sample_rate
            elif filled == frames:
                self._starving = False
            self._cond.notify_all()
        return out

    # --- device hooks ------------------------------------------------------------------------------
    def _open_stream(self) -> None:
        """Start pulling from the buffer."""

    def _close_stream(self) -> None:
        """Stop pulling and release the device."""


class SoundDeviceOutput(BufferedOutput):
    """The system's default output device, through PortAudio (sounddevice)."""

    def __init__(self, max_buffered_seconds: float = 30.0, device: Any = None) -> None:
        super().__init__(max_buffered_seconds)
        self.device = device
        self._stream: Any = None

    @staticmethod
    def check_available(device: Any = None) -> None:
        """Raise :class:`OutputError` in plain words when there is nothing to play through."""
        try:
            check_output(device)
        except OutputError as exc:  # the command line can always save to a file instead
            raise OutputError(f"{exc} Use --out FILE to save instead.") from exc

    def _open_stream(self) -> None:
        self.check_available(self.device)
        self._stream = SoundDeviceStream(self.device)
        self._stream.start(self.sample_rate, self.pull)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()


class ClockedOutput(BufferedOutput):
    """Plays into nothing at real-time pace in a thread: a speaker for machines with no sound card.

    ``speed`` > 1 drains faster than real time (for quick tests of the same logic).
    """

    def __init__(self, max_buffered_seconds: float = 30.0, block: int = 512, speed: float = 1.0) -> None:
        super().__init__(max_buffered_seconds)
        self.block = block
        self.speed = speed
        self._clock = ClockStream(speed=speed, block=block)

    def _open_stream(self) -> None:
        self._clock.start(self.sample_rate, self.pull)

    def _close_stream(self) -> None:
        self._clock.stop()
