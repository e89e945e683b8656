"""A growing mono audio buffer shared by the player and the waveform while a generation streams in.

One writer (the UI thread, as chunks arrive) appends; readers (the audio device thread, the waveform)
take views of what is there. Capacity doubles, so appending an hour of audio chunk by chunk copies each
sample only a few times, and a reader's view is never moved under it (old buffers are not reused).
"""

from __future__ import annotations

import threading

import numpy as np

_INITIAL = 1 << 16


class AudioTrack:
    """Mono float32 audio at one sample rate; ``finished`` once the last chunk has been appended."""

    def __init__(self, sample_rate: int, samples: np.ndarray | None = None, finished: bool = False) -> None:
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self.sample_rate = int(sample_rate)
        self._lock = threading.Lock()
        data = np.zeros(0, np.float32) if samples is None else np.asarray(samples, np.float32).reshape(-1)
        self._buffer = np.zeros(max(_INITIAL, data.size), np.float32)
        self._buffer[: data.size] = data
        self._length = data.size
        self._finished = finished
        self.version = 0
        """Bumped on every change, so a view can tell whether it must redraw."""

    @classmethod
    def from_array(cls, samples: np.ndarray, sample_rate: int) -> AudioTrack:
        """A complete track (a saved generation)."""
        return cls(sample_rate, samples, finished=True)

    def append(self, samples: np.ndarray) -> None:
        data = np.asarray(samples, np.float32).reshape(-1)
        if data.size == 0:
            return
        with self._lock:
            if self._finished:
                raise ValueError("cannot append to a finished track")
            need = self._length + data.size
            if need > self._buffer.size:
                grown = np.zeros(max(need, self._buffer.size * 2), np.float32)
                grown[: self._length] = self._buffer[: self._length]
                self._buffer = grown
            self._buffer[self._length : need] = data
            self._length = need
            self.version += 1

    def finish(self) -> None:
        """No more audio will come."""
        with self._lock:
            self._finished = True
            self.version += 1

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def frames(self) -> int:
        return self._length

    @property
    def duration(self) -> float:
        return self._length / self.sample_rate

    def view(self, start: int = 0, end: int | None = None) -> np.ndarray:
        """Read-only samples ``[start, end)`` (clamped to what has arrived); no copy."""
        with self._lock:
            buffer, length = self._buffer, self._length
        end = length if end is None else max(0, min(int(end), length))
        start = max(0, min(int(start), end))
        out = buffer[start:end]
        out.flags.writeable = False
        return out

    @property
    def samples(self) -> np.ndarray:
        """Everything so far (read-only view)."""
        return self.view()
