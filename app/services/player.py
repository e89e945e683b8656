"""A seekable player for one :class:`AudioTrack`: play, pause, seek, play a region, follow a stream.

The audio device pulls samples from its own thread (:meth:`Player.pull`); everything else is called from
the UI thread. Shared state sits behind one short lock that is never held while a device starts or
stops, because stopping a device waits for its thread, which may itself be waiting for that lock.

When playing catches up with a track that is still growing (a generation streaming in), the player plays
silence and holds its position until more audio arrives, so playback starts with the first chunk and
resumes where it left off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from app.core.track import AudioTrack
from app.services.devices import AudioDevice, default_device

logger = logging.getLogger(__name__)

STOPPED = "stopped"
PLAYING = "playing"
PAUSED = "paused"


class Player:
    """Plays an :class:`AudioTrack` through an :class:`AudioDevice` (``None``: :func:`default_device`,
    created on the first :meth:`play`).

    States: ``"stopped"`` (not playing; after :meth:`stop`, :meth:`load`, or reaching the end),
    ``"playing"`` and ``"paused"``.

    Reaching the end by itself: at the end of a *finished* track the player stops with its position left
    at the end (the playhead shows where it finished; the next :meth:`play` starts again from the top).
    At the end of a region (``play(start, end)``) the position returns to the region's start, so "play
    selection" can be pressed again and again. Either way the device is stopped from a helper thread,
    never from the device thread.
    """

    def __init__(self, device: AudioDevice | None = None) -> None:
        self._device = device
        self.on_state_changed: Callable[[str], None] | None = None
        """Called with the new state whenever it changes; from *any* thread (the device thread when
        playback ends by itself), so a UI must hop to its own thread. Optional: polling :attr:`state`
        and :attr:`position` with a timer works as well."""
        self._lock = threading.Lock()  # guards the fields below; pull() takes it on the device thread
        self._device_lock = threading.Lock()  # serialises device start/stop; never taken inside _lock
        self._track: AudioTrack | None = None
        self._pos = 0  # frames handed to the device so far
        self._region: tuple[int, int] | None = None  # frames [start, end)
        self._state = STOPPED
        self._session = 0  # bumped by every play/pause/stop/load, so a late auto-stop knows it is stale
        self._device_running = False
        self._played = 0  # frames played since the last play(): waiting for the first chunk is no underrun
        self._starving = False
        self._pull_failed = False
        self.underruns = 0
        """Times playback caught up with a still-growing track after it had started (one per gap)."""

    # --- what the UI reads ------------------------------------------------------------------------
    @property
    def device(self) -> AudioDevice | None:
        """The output in use; ``None`` until the first :meth:`play` when none was given."""
        return self._device

    @property
    def track(self) -> AudioTrack | None:
        return self._track

    @property
    def state(self) -> str:
        return self._state

    @property
    def playing(self) -> bool:
        return self._state == PLAYING

    @property
    def position(self) -> float:
        """Seconds handed to the device so far: a playhead (it runs ahead of the ear by the device's
        latency, a few tens of milliseconds)."""
        with self._lock:
            track, pos = self._track, self._pos
        return pos / track.sample_rate if track is not None else 0.0

    @property
    def region(self) -> tuple[float, float] | None:
        """The ``(start, end)`` seconds that playback is limited to, or ``None`` for the whole track."""
        with self._lock:
            track, region = self._track, self._region
        if track is None or region is None:
            return None
        return region[0] / track.sample_rate, region[1] / track.sample_rate

    # --- what the UI calls ------------------------------------------------------------------------
    def load(self, track: AudioTrack | None) -> None:
        """Stop whatever is playing and put ``track`` (or nothing) at position 0."""
        with self._lock:
            changed = self._state != STOPPED
            self._session += 1
            self._track = track
            self._pos = 0
            self._region = None
            self._state = STOPPED
            self._starving = False
            self.underruns = 0
        self._stop_device()
        if changed:
            self._notify(STOPPED)

    def play(self, start: float | None = None, end: float | None = None) -> None:
        """Play from ``start`` seconds (default: the current position) up to ``end`` (default: the end).

        With ``end``, playback is limited to the region ``[start, end)`` and stops by itself there. With
        neither, a paused region play resumes within its region. A still-growing track may be played
        before any audio has arrived: playback starts with the first chunk. Raises
        :class:`~app.core.errors.OutputError` when the device cannot be opened; the player then stays
        stopped. Does nothing without a track, or with a finished empty one.
        """
        with self._lock:
            track = self._track
            if track is None or (track.finished and track.frames == 0):
                return
            rate, frames = track.sample_rate, track.frames
            if start is not None and end is not None and end <= start:
                raise ValueError("The end of the region must come after its start.")
            pos = self._pos if start is None else _clamp(round(start * rate), frames)
            if end is not None:
                stop = max(round(end * rate), 1)
                stop = min(stop, frames) if track.finished else stop
                self._region = (min(pos, stop - 1), stop)
                pos = self._region[0]
            elif start is not None:
                self._region = None
            if self._region is not None and not self._region[0] <= pos < self._region[1]:
                pos = self._region[0]
            elif self._region is None and track.finished and pos >= frames:
                pos = 0  # played to the end last time: play again from the top
            changed = self._state != PLAYING
            self._pos = pos
            self._state = PLAYING
            self._session += 1
            session = self._session
            self._played = 0
            self._starving = False
        try:
            self._start_device(track.sample_rate)
        except BaseException:
            with self._lock:
                if self._session == session:
                    self._state = STOPPED
                    changed = True
            if changed:
                self._notify(STOPPED)
            raise
        if changed:
            self._notify(PLAYING)

    def pause(self) -> None:
        """Stop playing and keep the position."""
        with self._lock:
            if self._state != PLAYING:
                return
            self._state = PAUSED
            self._session += 1
        self._stop_device()
        self._notify(PAUSED)

    def toggle(self) -> None:
        """Pause when playing, otherwise play (resuming where it was)."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def seek(self, seconds: float) -> None:
        """Move the position to ``seconds`` (clamped to what the track holds), playing or not.

        Seeking outside the current region drops the region. The state does not change.
        """
        with self._lock:
            track = self._track
            if track is None:
                return
            pos = _clamp(round(seconds * track.sample_rate), track.frames)
            if self._region is not None and not self._region[0] <= pos < self._region[1]:
                self._region = None
            self._pos = pos
            self._starving = False

    def stop(self) -> None:
        """Stop playing and go back to the start (of the region, when there is one)."""
        with self._lock:
            changed = self._state != STOPPED
            self._state = STOPPED
            self._session += 1
            self._pos = self._region[0] if self._region is not None else 0
            self._starving = False
        self._stop_device()
        if changed:
            self._notify(STOPPED)

    def close(self) -> None:
        """Stop and release the device (the player can still be used; it opens the device again)."""
        self.stop()
        with self._device_lock:
            if self._device is not None:
                self._device.stop()
            self._device_running = False

    # --- the device thread ------------------------------------------------------------------------
    def pull(self, frames: int) -> np.ndarray:
        """The next ``frames`` samples to play (silence when paused or waiting for audio).

        Runs on the device thread: it only ever waits for the short state lock, and it never raises.
        """
        try:
            return self._pull(frames)
        except Exception:
            if not self._pull_failed:  # once per failure spell: this runs a hundred times a second
                logger.exception("Playback failed; playing silence")
            self._pull_failed = True
            return np.zeros(_frame_count(frames), np.float32)

    def _pull(self, frames: int) -> np.ndarray:
        out = np.zeros(_frame_count(frames), np.float32)
        ended = None
        with self._lock:
            track = self._track
            if self._state != PLAYING or track is None or out.size == 0:
                return out
            available, finished = track.frames, track.finished
            limit = available if self._region is None else min(available, self._region[1])
            take = max(0, min(out.size, limit - self._pos))
            if take:
                out[:take] = track.view(self._pos, self._pos + take)
                self._pos += take
                self._played += take
            at_region_end = self._region is not None and self._pos >= self._region[1]
            if at_region_end or (finished and self._pos >= available):
                self._state = STOPPED
                if at_region_end and self._region is not None:
                    self._pos = self._region[0]
                self._session += 1
                ended = self._session
            elif take < out.size:
                if not self._starving and self._played > 0:
                    self.underruns += 1
                    logger.debug(
                        "Playback caught up with the stream at %.2f s", self._pos / track.sample_rate
                    )
                self._starving = self._played > 0
            else:
                self._starving = False
        self._pull_failed = False
        if ended is not None:
            # Stopping a device waits for its thread, so it cannot be done from here.
            threading.Thread(target=self._auto_stop, args=(ended,), name="player-stop", daemon=True).start()
            self._notify(STOPPED)
        return out

    # --- the device ---------------------------------------------------------------------------------
    def _start_device(self, sample_rate: int) -> None:
        with self._device_lock:
            if self._device_running:
                return
            if self._device is None:
                self._device = default_device()
            self._device.start(sample_rate, self.pull)
            self._device_running = True

    def _stop_device(self) -> None:
        with self._device_lock:
            with self._lock:
                if self._state == PLAYING:
                    return  # played again meanwhile (from another thread): leave it running
            if self._device_running and self._device is not None:
                self._device.stop()
            self._device_running = False

    def _auto_stop(self, session: int) -> None:
        with self._device_lock:
            with self._lock:
                if self._session != session:
                    return  # played, paused or stopped since: that call has dealt with the device
            if self._device_running and self._device is not None:
                try:
                    self._device.stop()
                except Exception:
                    logger.exception("The audio device did not stop cleanly")
            self._device_running = False

    def _notify(self, state: str) -> None:
        callback = self.on_state_changed
        if callback is None:
            return
        try:
            callback(state)
        except Exception:
            logger.exception("on_state_changed failed")


def _frame_count(frames: object) -> int:
    """``frames`` as a count of samples; 0 for nonsense, so silence can always be returned."""
    try:
        return max(0, int(frames))  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return 0


def _clamp(frame: int, frames: int) -> int:
    return max(0, min(int(frame), frames))
