"""Decode any audio or video file to mono float32: soundfile for WAV/FLAC/OGG/MP3, PyAV (FFmpeg) for the
rest (M4A/AAC, Opus in WebM, MP4/MOV video...). Damaged input is refused with a message that says what
is wrong with the file, never a decoder's stack trace."""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from app.core.errors import TimbreError

logger = logging.getLogger(__name__)

MAX_MEDIA_SECONDS = 4 * 3600
"""Longer than any reference or chapter; protects memory from a mislabelled multi-day file."""


class MediaError(TimbreError):
    """A file that cannot be used as audio; the message says why in plain words."""


@dataclass(frozen=True)
class Media:
    """Decoded audio: mono float32 at the file's own rate."""

    audio: np.ndarray
    sample_rate: int
    channels: int
    """Channels in the file (mixed down to one here)."""
    decoder: str
    """``soundfile`` or ``pyav``."""

    @property
    def duration(self) -> float:
        return len(self.audio) / float(self.sample_rate) if self.sample_rate else 0.0


def load_media(path: Path | str) -> Media:
    """Read ``path`` as audio, or raise :class:`MediaError` saying what is wrong with it."""
    import soundfile as sf

    path = Path(path).expanduser()
    if not path.is_file():
        raise MediaError(f"There is no audio file at {path}.")
    if path.stat().st_size == 0:
        raise MediaError(f"{path.name} is empty (0 bytes).")
    _refuse_truncated_wav(path)
    try:
        info = sf.info(str(path))
    except (sf.SoundFileError, RuntimeError):
        logger.debug("soundfile cannot read %s; decoding with PyAV", path)
        return _load_with_av(path, path.name)
    if info.frames > MAX_MEDIA_SECONDS * info.samplerate:
        hours = info.frames / info.samplerate / 3600
        raise MediaError(f"{path.name} is {hours:.0f} hours long; that is too long to use.")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise MediaError(f"{path.name} is damaged: Timbre could not read it to the end.") from exc
    return Media(_mono(data.T), int(rate), int(data.shape[1]), "soundfile")


def _mono(planes: np.ndarray) -> np.ndarray:
    """Average channels (rows) into one float32 row; NaN/inf are kept so validation can see them."""
    return np.ascontiguousarray(planes.mean(axis=0, dtype=np.float32) if planes.shape[0] > 1 else planes[0])


def decode_bytes(data: bytes, label: str = "audio") -> Media:
    """Decode an encoded file held in memory (through FFmpeg)."""
    import io

    return _load_with_av(io.BytesIO(data), label)


def _load_with_av(source: Path | Any, label: str | None = None) -> Media:
    import av

    name = label or getattr(source, "name", "audio")
    try:
        container = av.open(str(source) if isinstance(source, Path) else source)
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaError(f"Timbre cannot read {name} as audio (is it a sound or video file?).") from exc
    with container:
        if not container.streams.audio:
            if container.streams.video:
                raise MediaError(f"{name} is a video with no sound track.")
            raise MediaError(f"Timbre cannot read {name} as audio: it has no sound in it.")
        stream = container.streams.audio[0]
        channels = int(stream.codec_context.channels or 1)
        resampler = av.AudioResampler(format="fltp")  # planar float, same layout and rate
        chunks: list[np.ndarray] = []
        frames = 0
        try:
            for frame in chain(container.decode(stream), [None]):
                for out in resampler.resample(frame):
                    planes = out.to_ndarray()
                    chunks.append(_mono(planes))
                    frames += planes.shape[1]
                    if frames > MAX_MEDIA_SECONDS * (stream.rate or 1):
                        raise MediaError(f"{name} is too long to use.")
        except av.FFmpegError as exc:
            if not chunks:
                raise MediaError(f"Timbre cannot read {name} as audio (it may be damaged).") from exc
            logger.warning("%s: decoding stopped early (%s); using what was read", name, exc)
    if not chunks:
        raise MediaError(f"{name} has a sound track with no audio in it.")
    return Media(np.concatenate(chunks).astype(np.float32), int(stream.rate), channels, "pyav")


def _refuse_truncated_wav(path: Path) -> None:
    """A WAV whose data chunk promises more bytes than the file holds was cut short (a copy or a
    recording that stopped halfway). Decoders quietly play what is there; Timbre says so instead."""
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        size = path.stat().st_size
        position = 12
        while position + 8 <= size:
            handle.seek(position)
            chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"data":
                available = size - position - 8
                if chunk_size != 0xFFFFFFFF and chunk_size > available + 1:
                    share = available / max(chunk_size, 1)
                    raise MediaError(
                        f"{path.name} is cut short: it holds {share:.0%} of the audio its header promises. "
                        "Copy or export it again."
                    )
                return
            position += 8 + chunk_size + (chunk_size & 1)
