"""Where synthesized audio goes as it arrives: a file (atomic), the speakers, nowhere, or several."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.core.errors import OutputError, audio_write_error, disk_error
from app.services.playback import BufferedOutput, SoundDeviceOutput

logger = logging.getLogger(__name__)

FILE_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16")}


class Sink(Protocol):
    """Receives audio chunk by chunk. ``close`` finishes the job; ``abort`` discards it."""

    realtime: bool
    """True when the audio is heard as it arrives, so synthesis must stay ahead of it (see pacing)."""

    def open(self, sample_rate: int) -> None: ...

    def write(self, samples: np.ndarray) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class NullSink:
    """Counts what it is given and keeps nothing."""

    realtime = False

    def __init__(self) -> None:
        self.sample_rate = 0
        self.frames = 0
        self.closed = False

    def open(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate

    def write(self, samples: np.ndarray) -> None:
        self.frames += len(samples)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = False


class CollectSink(NullSink):
    """Keeps every chunk in memory (short texts, tests and benchmarks only)."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[np.ndarray] = []

    def write(self, samples: np.ndarray) -> None:
        super().write(samples)
        self.chunks.append(np.asarray(samples, dtype=np.float32).copy())

    @property
    def audio(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.float32)


class CallbackSink:
    """Hands each chunk to callbacks (a UI drawing and playing the audio as it streams in).

    ``on_write`` gets a private copy of every chunk, since the receiver may keep it after the job moves on.
    """

    realtime = False

    def __init__(
        self,
        on_open: Callable[[int], None],
        on_write: Callable[[np.ndarray], None],
        on_end: Callable[[bool], None] | None = None,
    ) -> None:
        self._on_open = on_open
        self._on_write = on_write
        self._on_end = on_end

    def open(self, sample_rate: int) -> None:
        self._on_open(int(sample_rate))

    def write(self, samples: np.ndarray) -> None:
        self._on_write(np.array(samples, dtype=np.float32, copy=True).reshape(-1))

    def close(self) -> None:
        if self._on_end is not None:
            self._on_end(True)

    def abort(self) -> None:
        if self._on_end is not None:
            self._on_end(False)


class FileSink:
    """Streams audio into a temporary file beside ``path``; it becomes ``path`` only on ``close``."""

    realtime = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        suffix = self.path.suffix.lower()
        if suffix not in FILE_FORMATS:
            raise OutputError(
                f"Timbre can write .wav or .flac files, not '{suffix or self.path.name}'. "
                "Choose a name ending in .wav or .flac."
            )
        self._format, self._subtype = FILE_FORMATS[suffix]
        self._tmp: Path | None = None
        self._file: Any = None
        self.frames = 0

    def open(self, sample_rate: int) -> None:
        import soundfile as sf

        if self.path.is_dir():
            raise OutputError(f"{self.path} is a folder; give a file name ending in .wav or .flac.")
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        except OSError as exc:
            raise disk_error(exc, self.path) from exc
        os.close(fd)
        self._tmp = Path(name)
        try:
            self._file = sf.SoundFile(
                name, "w", samplerate=int(sample_rate), channels=1, format=self._format, subtype=self._subtype
            )
        except Exception as exc:
            self._discard()
            raise audio_write_error(exc, self.path) from exc

    def write(self, samples: np.ndarray) -> None:
        try:
            self._file.write(np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0))
        except OSError as exc:
            raise disk_error(exc, self.path) from exc
        except RuntimeError as exc:
            raise audio_write_error(exc, self.path) from exc
        self.frames += len(samples)

    def close(self) -> None:
        if self._file is None or self._tmp is None:
            return
        try:
            self._file.close()
            with open(self._tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self._discard()
            raise disk_error(exc, self.path) from exc
        except RuntimeError as exc:
            self._discard()
            raise audio_write_error(exc, self.path) from exc
        self._file = None
        self._tmp = None

    def abort(self) -> None:
        self._discard()

    def _discard(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except Exception:  # noqa: BLE001 - the file is being thrown away; its close error is moot
                logger.debug("Closing an aborted file failed", exc_info=True)
            self._file = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


class PlaybackSink:
    """Plays chunks as they arrive; ``close`` waits until the last one has been heard."""

    realtime = True

    def __init__(self, output: BufferedOutput | None = None) -> None:
        self.output = output if output is not None else SoundDeviceOutput()

    def open(self, sample_rate: int) -> None:
        self.output.start(sample_rate)

    def write(self, samples: np.ndarray) -> None:
        self.output.write(samples)

    def close(self) -> None:
        self.output.drain()

    def abort(self) -> None:
        self.output.stop()


class TeeSink:
    """Hands every chunk to several sinks (play and save at once)."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = list(sinks)
        self.realtime = any(getattr(sink, "realtime", False) for sink in self.sinks)

    def open(self, sample_rate: int) -> None:
        opened: list[Sink] = []
        try:
            for sink in self.sinks:
                sink.open(sample_rate)
                opened.append(sink)
        except BaseException:
            for sink in opened:
                sink.abort()
            raise

    def write(self, samples: np.ndarray) -> None:
        for sink in self.sinks:
            sink.write(samples)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

    def abort(self) -> None:
        for sink in self.sinks:
            sink.abort()
