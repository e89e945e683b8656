"""Pull-style audio outputs for the seekable player: the device asks for samples at its own pace.

The push-style outputs in :mod:`app.services.playback` suit a producer that writes once, front to back;
a player that seeks, pauses and follows a growing track needs the device to *ask* instead, so the player
decides what comes next at the last moment. :class:`SoundDeviceStream` is the real speaker (PortAudio
through sounddevice); :class:`ClockStream` plays into nothing at real-time pace, for machines with no
sound card and for tests. :func:`default_device` picks one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from app.core.errors import OutputError

logger = logging.getLogger(__name__)

Pull = Callable[[int], np.ndarray]
"""``pull(frames)`` returns ``frames`` mono float32 samples to play next (silence when there is none)."""


@runtime_checkable
class AudioDevice(Protocol):
    """Something that plays what it pulls, at real-time pace, from its own thread."""

    name: str
    """What to call it in the UI ("MacBook Pro Speakers", "No audio output")."""
    silent: bool
    """True when nothing is actually heard (no sound card): the UI says so."""

    def start(self, sample_rate: int, pull: Pull) -> None:
        """Begin calling ``pull(frames)`` from a device thread and playing what it returns.

        Raises :class:`OutputError` (plain words) when the device cannot be opened. Starting a device that
        is already running restarts it with the new rate and source.
        """

    def stop(self) -> None:
        """Stop pulling and release the device; a no-op when stopped. Never call it from the device thread."""


def check_output(device: Any = None) -> None:
    """Raise :class:`OutputError` in plain words when there is nothing to play through."""
    try:
        import sounddevice as sd
    except OSError as exc:  # sounddevice raises OSError when the PortAudio library itself is missing
        raise OutputError(
            "Audio playback needs the PortAudio library, which is not installed "
            "(on Debian/Ubuntu: sudo apt install libportaudio2)."
        ) from exc
    try:
        sd.query_devices(device, kind="output")
    except (ValueError, sd.PortAudioError) as exc:
        raise OutputError("No audio output device was found.") from exc


def output_available(device: Any = None) -> tuple[bool, str]:
    """``(True, "")`` when a real output device can be opened, else ``(False, reason in plain words)``."""
    try:
        check_output(device)
    except OutputError as exc:
        return False, str(exc)
    return True, ""


def _fill(outdata: np.ndarray, pull: Pull, frames: int) -> None:
    """Copy ``pull(frames)`` into a PortAudio buffer, padding or trimming; silence if the source fails."""
    try:
        data = np.asarray(pull(frames), dtype=np.float32).reshape(-1)
    except Exception:  # a raising source must not kill the audio thread: play silence instead
        logger.exception("The audio source failed; playing silence")
        data = np.zeros(0, np.float32)
    take = min(frames, data.size)
    outdata[:take, 0] = data[:take]
    outdata[take:, 0] = 0.0


class SoundDeviceStream:
    """The system's output device (or ``device``, a sounddevice id or name), through PortAudio."""

    silent = False

    def __init__(self, device: Any = None) -> None:
        self.device = device
        self.name = "Default output" if device is None else str(device)
        self._stream: Any = None

    def start(self, sample_rate: int, pull: Pull) -> None:
        self.stop()
        check_output(self.device)
        import sounddevice as sd

        def callback(outdata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
            if status:
                logger.debug("PortAudio status: %s", status)
            _fill(outdata, pull, frames)

        try:
            info = sd.query_devices(self.device, kind="output")
            self.name = str(info.get("name", self.name))
            stream = sd.OutputStream(
                samplerate=int(sample_rate),
                channels=1,
                dtype="float32",
                device=self.device,
                callback=callback,
            )
            stream.start()
        except sd.PortAudioError as exc:
            raise OutputError(f"The audio device could not be opened: {exc}.") from exc
        self._stream = stream

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.stop()
            stream.close()
        except Exception:  # a device unplugged mid-play: it is gone either way
            logger.warning("The audio device did not close cleanly", exc_info=True)


class ClockStream:
    """Pulls ``block`` frames at a time at real-time pace × ``speed`` and plays them into nothing.

    The stand-in for speakers where there is no sound card; ``speed`` > 1 makes tests fast.
    """

    silent = True

    def __init__(self, speed: float = 1.0, block: int = 512) -> None:
        if speed <= 0 or block <= 0:
            raise ValueError("speed and block must be positive")
        self.speed = float(speed)
        self.block = int(block)
        self.name = "No audio output (silent)"
        self._thread: threading.Thread | None = None
        self._running: threading.Event | None = None

    @property
    def running(self) -> bool:
        return self._running is not None and self._running.is_set()

    def start(self, sample_rate: int, pull: Pull) -> None:
        if sample_rate <= 0:
            raise OutputError("The audio has no sample rate, so it cannot be played.")
        self.stop()
        # Each run gets its own flag, so a thread that outlives a stop/start pair still sees its own stop.
        running = threading.Event()
        running.set()
        self._running = running
        self._thread = threading.Thread(
            target=self._run, args=(int(sample_rate), pull, running), name="clock-stream", daemon=True
        )
        self._thread.start()

    def _run(self, sample_rate: int, pull: Pull, running: threading.Event) -> None:
        period = self.block / sample_rate / self.speed
        next_tick = time.monotonic()
        while running.is_set():
            try:
                pull(self.block)
            except Exception:
                logger.exception("The audio source failed; playing silence")
            next_tick += period
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1.0:
                next_tick = time.monotonic()  # far behind (machine suspended): don't race to catch up

    def stop(self) -> None:
        running, self._running = self._running, None
        thread, self._thread = self._thread, None
        if running is not None:
            running.clear()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)


def default_device() -> AudioDevice:
    """The system's output device when there is one, otherwise a silent :class:`ClockStream`."""
    ok, reason = output_available()
    if ok:
        return SoundDeviceStream()
    logger.warning("No audio output; playing silently. %s", reason)
    return ClockStream()
