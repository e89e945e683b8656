"""Write audio to WAV, FLAC, MP3 or M4A (AAC), optionally loudness-normalised; atomically.

Each file is encoded in memory, written to a hidden temp file beside the destination, fsynced and renamed
over it: whatever fails (encoder, full disk, cancel), the destination is the complete new file or exactly
what was there before, and no temp file is left behind."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import secrets
import stat
from fractions import Fraction
from pathlib import Path

import numpy as np

from app.core.audio import as_mono_float32, to_int16
from app.core.errors import TimbreError, disk_error
from app.core.loudness import normalise_loudness

log = logging.getLogger(__name__)

EXPORT_FORMATS: dict[str, str] = {".wav": "WAV", ".flac": "FLAC", ".mp3": "MP3", ".m4a": "M4A (AAC)"}
"""Suffix -> name to show. Raw ADTS ``.aac`` is left out on purpose: it is the same codec as ``.m4a`` but
without a container, so players cannot show its duration or seek in it reliably."""

DEFAULT_BITRATES: dict[str, int] = {".mp3": 192, ".m4a": 160}
"""kbps for lossy formats; lowered to what the codec allows at the sample rate (see ``_bit_rate``)."""

_LOSSY = {".mp3": ("mp3", "libmp3lame"), ".m4a": ("ipod", "aac")}  # suffix -> (PyAV container, encoder)
_CHUNK = 4096  # samples per frame fed to PyAV; it re-frames to the codec's frame_size (576/1152/1024)


class ExportError(TimbreError):
    """The audio could not be exported; the message says why in plain words."""


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and rate from any audio or video file (see :mod:`app.core.media`)."""
    from app.core.media import MediaError, load_media

    try:
        media = load_media(path)
    except MediaError as exc:
        raise ExportError(str(exc)) from exc
    return as_mono_float32(media.audio), media.sample_rate


def export_audio(
    audio: np.ndarray,
    sample_rate: int,
    dest: Path,
    *,
    loudness: float | None = None,
    bitrate: int | None = None,
    overwrite: bool = True,
) -> Path:
    """Encode to the format named by ``dest``'s suffix and write it atomically; returns ``dest``.

    ``loudness`` is a target in LUFS (None: keep the level as it is, though LAME's presets leave MP3 up to
    0.45 dB quieter); ``bitrate`` is in kbps and only matters for MP3/M4A. Raises ExportError with a
    message fit to show the user.
    """
    dest = Path(dest)
    suffix = dest.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        known = list(EXPORT_FORMATS)
        what = suffix or f"a name without a suffix like {dest.name}"
        raise ExportError(f"Timbre can export {', '.join(known[:-1])} or {known[-1]}, not {what}.")
    if bitrate is not None and not 8 <= bitrate <= 320:
        raise ExportError(f"The bitrate must be between 8 and 320 kbps, not {bitrate}.")
    samples = as_mono_float32(audio)
    if samples.size == 0:
        raise ExportError("There is no audio to export.")
    if not dest.parent.is_dir():
        raise ExportError(f"There is no folder {dest.parent}: could not write {dest}.")
    if dest.is_dir():
        raise ExportError(f"{dest} is a folder, not a file.")
    if not overwrite and dest.exists():
        raise ExportError(f"{dest} already exists.")
    if loudness is not None:
        samples = normalise_loudness(samples, sample_rate, loudness)
        if suffix == ".mp3":  # LAME's CBR presets turn the level down by up to 0.45 dB; undo that
            samples = samples / np.float32(_encoder_gain(sample_rate, suffix, bitrate))
    _write_atomically(_encode(samples, sample_rate, suffix, bitrate), dest)
    log.info("Exported %.1f s of audio to %s", samples.size / sample_rate, dest)
    return dest


def export_file(src: Path, dest: Path, *, loudness: float | None = None, bitrate: int | None = None) -> Path:
    """Convert an audio file to the format named by ``dest``'s suffix (``src`` may equal ``dest``)."""
    audio, rate = read_audio(src)
    return export_audio(audio, rate, dest, loudness=loudness, bitrate=bitrate)


def _encode(audio: np.ndarray, rate: int, suffix: str, bitrate: int | None) -> bytes:
    """The complete file's bytes. Lossless formats are 16-bit PCM, clipped rather than wrapped around."""
    buffer = io.BytesIO()
    if suffix not in _LOSSY:
        import soundfile as sf

        sf.write(buffer, to_int16(audio), rate, format=suffix[1:].upper(), subtype="PCM_16")
        return buffer.getvalue()
    import av

    container_format, codec_name = _LOSSY[suffix]
    out_rate = _encoder_rate(codec_name, rate)
    bit_rate = _bit_rate(suffix, codec_name, out_rate, bitrate)
    try:
        with av.open(buffer, "w", format=container_format) as container:
            stream = container.add_stream(codec_name, rate=out_rate, layout="mono")
            stream.bit_rate = bit_rate
            # The stream resamples to out_rate and re-frames to the codec's frame_size by itself. Without
            # pts the AAC encoder's 1024-sample priming gets no edit list and the audio starts 43 ms late.
            for start in range(0, audio.size, _CHUNK):
                frame = av.AudioFrame.from_ndarray(
                    audio[None, start : start + _CHUNK], format="flt", layout="mono"
                )
                frame.sample_rate, frame.time_base, frame.pts = rate, Fraction(1, rate), start
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))  # flush the encoder's delayed frames
    except av.FFmpegError as exc:
        raise ExportError(f"Timbre could not encode the audio as {EXPORT_FORMATS[suffix]}: {exc}") from exc
    return buffer.getvalue()


def _encoder_gain(rate: int, suffix: str, bitrate: int | None) -> float:
    """Linear gain the encoder applies by itself, measured on a 1 s tone encoded and decoded again."""
    probe = (0.25 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
    from app.core.media import decode_bytes

    media = decode_bytes(_encode(probe, rate, suffix, bitrate))
    decoded, out_rate = media.audio, media.sample_rate
    energy_out = np.sum(np.square(decoded, dtype=np.float64)) / out_rate  # per second: rates may differ
    return math.sqrt(energy_out / (np.sum(np.square(probe, dtype=np.float64)) / rate))


def _encoder_rate(codec_name: str, rate: int) -> int:
    """``rate`` when the encoder takes it (22050 and 24000 both are), else the nearest supported one above."""
    import av

    supported = sorted(av.Codec(codec_name, "w").audio_rates or ())
    if not supported or rate in supported:
        return rate
    higher = [r for r in supported if r >= rate]
    return higher[0] if higher else supported[-1]


def _bit_rate(suffix: str, codec_name: str, rate: int, kbps: int | None) -> int:
    """Bits per second for the encoder, checked and capped so the codec honours it instead of guessing."""
    kbps = DEFAULT_BITRATES[suffix] if kbps is None else kbps
    if codec_name == "libmp3lame":  # MPEG-1 (>= 32 kHz), MPEG-2 (>= 16 kHz) and MPEG-2.5 limits
        most = 320 if rate >= 32000 else 160 if rate >= 16000 else 64
    else:  # AAC carries at most 6144 bits per 1024-sample frame per channel
        most = 6 * rate // 1000
    if kbps > most:
        log.debug("%d kbps is more than %s allows at %d Hz; using %d", kbps, codec_name, rate, most)
    return int(min(kbps, most) * 1000)


def _write_atomically(data: bytes, dest: Path) -> None:
    """Write ``data`` to a temp file in ``dest``'s folder, fsync it and rename it over ``dest``."""
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
    created = False
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        created = True
        with open(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):  # replacing a file keeps its permissions
            os.chmod(tmp, stat.S_IMODE(dest.stat().st_mode))
        os.replace(tmp, dest)
        created = False
    except OSError as exc:
        raise disk_error(exc, dest) from exc
    finally:
        if created:
            with contextlib.suppress(OSError):
                tmp.unlink()
    if os.name == "posix":  # make the rename itself durable
        with contextlib.suppress(OSError):
            folder_fd = os.open(dest.parent, os.O_RDONLY)
            try:
                os.fsync(folder_fd)
            finally:
                os.close(folder_fd)
