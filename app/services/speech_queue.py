"""Gap-free playback of spoken sentences as they are made, with the time each one was heard.

Narration makes audio a sentence at a time while earlier sentences are still playing. The queue holds
what has been made and not yet heard; an audio device pulls from it at real-time pace and plays silence
when it runs dry, so a sentence that is ready before the previous one ends follows it with no gap but
the pause that was asked for. ``write`` waits while more than ``max_ahead`` seconds are queued, which
bounds memory and keeps an interruption cheap. ``clear`` drops everything not yet heard, fading out the
sentence being played instead of clicking. Each sentence's first and last sample are time-stamped as
the device takes them, which is what the narration benchmark measures delays and gaps with.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.services.devices import AudioDevice, default_device

logger = logging.getLogger(__name__)

FADE_SECONDS = 0.015
"""How long an interrupted sentence takes to fade out."""


@dataclass
class Heard:
    """When one sentence's audio was handed to the device (monotonic seconds)."""

    started_at: float | None = None
    """Its first sample after the lead-in pause."""
    ended_at: float | None = None
    """Just after its last sample."""
    frames: int = 0
    """Samples of speech queued (the pause not counted)."""
    lead_in: float = 0.0
    """Seconds of pause queued before it."""
    dropped: bool = False
    """Cleared before it had all been heard."""


class _Entry:
    __slots__ = ("key", "samples", "offset", "lead")

    def __init__(self, key: int, samples: np.ndarray, lead: int) -> None:
        self.key = key
        self.samples = samples
        self.offset = 0
        self.lead = lead  # frames of silence still to play before ``samples``


class SpeechQueue:
    """Sentences queued for playback on ``device`` (default: the speakers, or a silent clock without any).

    Thread-safe: writers call :meth:`write` from any thread; the device pulls from its own.
    """

    def __init__(
        self,
        device: AudioDevice | None = None,
        max_ahead: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self.max_ahead = max_ahead
        self.sample_rate = 0
        self.heard: dict[int, Heard] = {}
        """Per sentence key: when it was heard."""
        self.on_started: Callable[[int], None] | None = None
        """Called (on the device thread: keep it short) when a sentence's first sample is played."""
        self.on_played: Callable[[np.ndarray, int], None] | None = None
        """Called on the device thread with the audio just played and its rate (silence while waiting for
        something to say is left out): a recording of what was heard."""
        self._clock = clock
        self._entries: collections.deque[_Entry] = collections.deque()
        self._queued = 0  # frames in _entries not yet pulled, pauses included
        self._cond = threading.Condition()
        self._closed = False
        self._epoch = 0  # bumped by clear(): a write waiting for room from before it is dropped
        self._running = False
        self._drained_at: float | None = None  # when the last queued sample was handed to the device

    # --- the producer side -------------------------------------------------------------------------
    def open(self, sample_rate: int) -> None:
        """Start the device at ``sample_rate`` (it plays silence until something is written)."""
        if self._running:
            return
        self.sample_rate = int(sample_rate)
        if self.device is None:
            self.device = default_device()
        self.device.start(self.sample_rate, self.pull)
        self._running = True

    @property
    def queued_seconds(self) -> float:
        """Audio queued and not yet handed to the device."""
        return self._queued / self.sample_rate if self.sample_rate else 0.0

    @property
    def busy(self) -> bool:
        """Something is still to be played."""
        return self._queued > 0

    def silence_before(self, pause: float) -> float:
        """How much pause to put before the next sentence so that it starts ``pause`` seconds after the
        last one: all of it while one is playing, less when the queue ran dry a moment ago."""
        with self._cond:
            if self._queued > 0:
                return pause
            if self._drained_at is None:
                return 0.0
            return max(0.0, pause - (self._clock() - self._drained_at))

    def write(self, key: int, samples: np.ndarray, lead_in: float = 0.0) -> bool:
        """Queue ``samples`` (mono float32 at :attr:`sample_rate`) as part of sentence ``key``, after
        ``lead_in`` seconds of pause. Waits while more than ``max_ahead`` seconds are queued. Returns False
        when the audio was dropped: the queue was cleared or closed meanwhile."""
        data = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if not self._running:
            raise RuntimeError("SpeechQueue.write before open()")
        lead = max(0, int(round(lead_in * self.sample_rate)))
        limit = int(self.max_ahead * self.sample_rate)
        with self._cond:
            epoch = self._epoch
            while self._queued >= limit and not self._closed and self._epoch == epoch:
                self._cond.wait(0.1)
            if self._closed or self._epoch != epoch:
                return False
            heard = self.heard.setdefault(key, Heard())
            heard.frames += data.size
            heard.lead_in += lead / self.sample_rate
            self._entries.append(_Entry(key, data, lead))
            self._queued += data.size + lead
        return True

    def clear(self) -> None:
        """Drop everything not yet heard; the sentence being played fades out over ``FADE_SECONDS``."""
        with self._cond:
            self._epoch += 1
            fade = int(FADE_SECONDS * self.sample_rate)
            head = self._entries[0] if self._entries else None
            for entry in self._entries:
                if entry.key in self.heard:
                    self.heard[entry.key].dropped = True
            self._entries.clear()
            self._queued = 0
            if head is not None and head.lead == 0 and head.offset > 0 and fade > 0:
                tail = head.samples[head.offset : head.offset + fade].copy()
                tail *= np.linspace(1.0, 0.0, tail.size, dtype=np.float32)
                self._entries.append(_Entry(-1, tail, 0))  # -1: a fade-out, not a sentence
                self._queued = tail.size
            self._cond.notify_all()

    def drain(self, timeout: float | None = None, stop: threading.Event | None = None) -> bool:
        """Wait until everything queued has been played; False on timeout or when ``stop`` is set."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while self._queued > 0 and not self._closed:
                if stop is not None and stop.is_set():
                    return False
                remaining = None if deadline is None else deadline - self._clock()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(0.05)
        return True

    def close(self) -> None:
        """Stop the device and drop what is left; writers waiting for room return False."""
        with self._cond:
            self._closed = True
            self._entries.clear()
            self._queued = 0
            self._cond.notify_all()
        if self._running and self.device is not None:
            self.device.stop()
        self._running = False

    # --- the device side -------------------------------------------------------------------------------
    def pull(self, frames: int) -> np.ndarray:
        """The next ``frames`` samples (silence where there is nothing), time-stamping sentence edges."""
        out = np.zeros(max(0, int(frames)), np.float32)
        now = self._clock()
        started: list[int] = []
        with self._cond:
            filled = 0
            rate = self.sample_rate or 1
            while filled < out.size and self._entries:
                entry = self._entries[0]
                if entry.lead:
                    take = min(entry.lead, out.size - filled)
                    entry.lead -= take
                    filled += take
                    self._queued -= take
                    continue
                take = min(out.size - filled, entry.samples.size - entry.offset)
                heard = self.heard.get(entry.key)
                if heard is not None and entry.offset == 0 and heard.started_at is None:
                    heard.started_at = now + filled / rate
                    started.append(entry.key)
                out[filled : filled + take] = entry.samples[entry.offset : entry.offset + take]
                entry.offset += take
                filled += take
                self._queued -= take
                if entry.offset >= entry.samples.size:
                    self._entries.popleft()
                    if heard is not None:
                        heard.ended_at = now + filled / rate
            if filled and not self._entries:
                self._drained_at = now + filled / rate
            if started or filled:
                self._cond.notify_all()
        if filled and self.on_played is not None:
            try:
                self.on_played(out[:filled], self.sample_rate)
            except Exception:
                logger.exception("on_played failed")
        callback = self.on_started
        if callback is not None:
            for key in started:
                try:
                    callback(key)
                except Exception:  # the device thread must keep playing
                    logger.exception("on_started failed")
        return out
