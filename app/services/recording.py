"""Recording a reference: audio sources (the microphone through sounddevice, or a file played in at real
time on machines without one), and a recorder that reports levels the UI can draw as it goes."""

from __future__ import annotations

import logging
import math
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.core.errors import CancelledError, TimbreError
from app.core.models import CancelToken

logger = logging.getLogger(__name__)

BLOCK_SECONDS = 0.05
"""One level reading per block: 20 a second, smooth enough for a meter."""


class RecordingError(TimbreError):
    """No microphone, or it stopped delivering audio."""


class AudioSource(Protocol):
    """Something that delivers mono float32 blocks in real time."""

    sample_rate: int

    def start(self) -> None: ...

    def read(self, timeout: float) -> np.ndarray | None:
        """The next block, or ``None`` once the source has ended."""

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Level:
    """One meter reading."""

    rms_db: float
    peak_db: float
    clipped: bool
    seconds: float
    """Recorded so far."""


def _db(value: float) -> float:
    return 20.0 * math.log10(value) if value > 1e-6 else -120.0


class MicrophoneSource:
    """The default input device, through PortAudio (sounddevice)."""

    def __init__(self, sample_rate: int = 48000, device: Any = None) -> None:
        self.sample_rate = sample_rate
        self.device = device
        self._queue: queue.Queue[np.ndarray] = queue.Queue()
        self._stream: Any = None

    @staticmethod
    def check_available(device: Any = None) -> None:
        """Raise :class:`RecordingError` in plain words when there is no microphone to record from."""
        try:
            import sounddevice as sd

            info = sd.query_devices(device, "input")
        except (OSError, ValueError, Exception) as exc:  # noqa: BLE001 - PortAudio raises its own types
            raise RecordingError(f"There is no microphone to record from ({exc}).") from exc
        if not info or int(info.get("max_input_channels", 0)) < 1:
            raise RecordingError("There is no microphone to record from.")

    def start(self) -> None:
        import sounddevice as sd

        self.check_available(self.device)

        def callback(indata: np.ndarray, _frames: int, _time: Any, status: Any) -> None:
            if status:
                logger.debug("Input status: %s", status)
            self._queue.put(indata[:, 0].copy())

        self._stream = sd.InputStream(
            samplerate=self.sample_rate,
            channels=1,
            dtype="float32",
            blocksize=int(BLOCK_SECONDS * self.sample_rate),
            device=self.device,
            callback=callback,
        )
        self._stream.start()

    def read(self, timeout: float) -> np.ndarray | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty as exc:
            raise RecordingError("The microphone stopped sending audio.") from exc

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None


class FileSource:
    """A recording played in as if it were being spoken now (``speed`` > 1 for quick tests)."""

    def __init__(self, path: Path | str, speed: float = 1.0) -> None:
        from app.core.media import load_media

        media = load_media(path)
        self.audio, self.sample_rate = media.audio, media.sample_rate
        self.speed = speed
        self._position = 0
        self._started = 0.0

    def start(self) -> None:
        self._position = 0
        self._started = time.monotonic()

    def read(self, timeout: float) -> np.ndarray | None:
        if self._position >= len(self.audio):
            return None
        block = int(BLOCK_SECONDS * self.sample_rate)
        due = self._started + (self._position + block) / self.sample_rate / self.speed
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(min(delay, timeout))
        chunk = self.audio[self._position : self._position + block]
        self._position += block
        return chunk

    def stop(self) -> None:
        self._position = len(self.audio)


class Recorder:
    """Records from a source until stopped, cancelled, the source ends or ``max_seconds`` pass."""

    def __init__(
        self, source: AudioSource, max_seconds: float = 60.0, on_level: Callable[[Level], None] | None = None
    ) -> None:
        self.source = source
        self.max_seconds = max_seconds
        self.on_level = on_level

    def record(self, stop: CancelToken | None = None, cancel: CancelToken | None = None) -> np.ndarray:
        """The recorded samples (at ``source.sample_rate``). ``stop`` keeps what was recorded, ``cancel``
        throws it away (raising :class:`CancelledError`)."""
        stop = stop or CancelToken()
        cancel = cancel or CancelToken()
        blocks: list[np.ndarray] = []
        frames = 0
        limit = int(self.max_seconds * self.source.sample_rate)
        self.source.start()
        try:
            while not stop.cancelled and frames < limit:
                if cancel.cancelled:
                    raise CancelledError()
                block = self.source.read(timeout=1.0)
                if block is None:
                    break
                block = block[: limit - frames]
                blocks.append(block)
                frames += len(block)
                if self.on_level is not None and len(block):
                    peak = float(np.max(np.abs(block)))
                    rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64))))
                    self.on_level(Level(_db(rms), _db(peak), peak >= 0.99, frames / self.source.sample_rate))
        finally:
            self.source.stop()
        return np.concatenate(blocks).astype(np.float32) if blocks else np.zeros(0, np.float32)

    def record_to(
        self, path: Path, stop: CancelToken | None = None, cancel: CancelToken | None = None
    ) -> Path:
        """Record, then write a FLAC/WAV atomically (nothing is written when cancelled)."""
        from app.services.sinks import FileSink

        audio = self.record(stop, cancel)
        sink = FileSink(path)
        sink.open(self.source.sample_rate)
        try:
            sink.write(audio)
        except BaseException:
            sink.abort()
            raise
        sink.close()
        return Path(path)
