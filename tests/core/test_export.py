"""Export: real files through real encoders, decoded again and checked for length, pitch, level and codec."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from app.core import export
from app.core.errors import CancelledError, DiskError, TimbreError
from app.core.export import EXPORT_FORMATS, ExportError, export_audio, export_file, read_audio
from app.core.loudness import DEFAULT_LUFS, measure_lufs, normalise_loudness

FORMATS = list(EXPORT_FORMATS)
CEILING = 10 ** (-1 / 20)  # -1 dBFS, the default peak ceiling
CODECS = {".mp3": ("mp3", "mp3"), ".m4a": ("aac", "mov,mp4,m4a,3gp,3g2,mj2")}
PADDING = {".wav": 0, ".flac": 0, ".mp3": 1152, ".m4a": 2048}
"""Samples a decoder may add after the end: MP3 is gapless via the LAME tag, AAC pads its last frame."""


def speech_like(rate: int, seconds: float = 2.0, level: float = 0.1) -> np.ndarray:
    """A 220 Hz voice with four harmonics, a little breath noise and a 4 Hz syllable envelope."""
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(a * np.sin(2 * np.pi * 220 * k * t + k) for k, a in [(1, 1), (2, 0.5), (3, 0.3), (4, 0.2)])
    breath = 0.05 * np.random.default_rng(0).standard_normal(t.size)
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t - np.pi / 2)
    return (level * (voice + breath) * envelope / np.max(np.abs(voice))).astype(np.float32)


def decode(path: Path) -> tuple[np.ndarray, int, int, str, str]:
    """(mono samples, rate, channels, codec, container) read with PyAV, independently of the module."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        to_float = av.AudioResampler(format="fltp")  # WAV/FLAC decode as int16; keep layout and rate
        planes = [out.to_ndarray() for frame in container.decode(stream) for out in to_float.resample(frame)]
        planes += [out.to_ndarray() for out in to_float.resample(None)]
        samples = np.concatenate(planes, axis=1)[0] if planes else np.zeros(0, np.float32)
        codec = stream.codec_context.codec.canonical_name
        return samples, stream.rate, stream.codec_context.channels, codec, container.format.name


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[np.argmax(spectrum)])


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("rate", [22050, 24000])
@pytest.mark.parametrize("suffix", FORMATS)
def test_round_trip_keeps_length_pitch_and_shape(tmp_path, suffix, rate):
    original = speech_like(rate)
    dest = export_audio(original, rate, tmp_path / f"speech{suffix}")

    assert dest == tmp_path / f"speech{suffix}" and dest.stat().st_size > 0
    assert names(tmp_path) == {dest.name}, "no temp file left beside it"
    decoded, decoded_rate, channels, codec, container = decode(dest)
    assert channels == 1 and decoded_rate == rate, "mono stays mono; speech rates need no resampling"
    assert np.all(np.isfinite(decoded))
    assert original.size - 0.005 * rate <= decoded.size <= original.size + 0.05 * rate + PADDING[suffix]
    assert dominant_hz(decoded, rate) == pytest.approx(220, abs=1)
    n = min(decoded.size, original.size)
    assert np.corrcoef(original[:n], decoded[:n])[0, 1] > 0.99, "aligned, not delayed by encoder priming"
    if suffix in CODECS:
        assert (codec, container) == CODECS[suffix]
    else:
        info = sf.info(str(dest))
        assert (info.format, info.subtype) == (suffix[1:].upper(), "PCM_16")
        assert np.max(np.abs(decoded - original)) < 1.5 / 32767, "lossless apart from 16-bit rounding"

    samples, read_rate = read_audio(dest)
    assert read_rate == rate and samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size - decoded.size) <= PADDING[suffix]


def test_lossy_bitrates_are_honoured_and_capped_to_what_the_codec_allows(tmp_path):
    audio = speech_like(24000)
    low = export_audio(audio, 24000, tmp_path / "low.mp3", bitrate=64)
    default = export_audio(audio, 24000, tmp_path / "default.mp3")
    with av.open(str(low)) as a, av.open(str(default)) as b:
        assert a.streams.audio[0].bit_rate == 64000
        # 192 kbps does not exist in MPEG-2 (what MP3 at 24 kHz is): 160 is the most it allows.
        assert b.streams.audio[0].bit_rate == 160000
    assert low.stat().st_size < default.stat().st_size
    small = export_audio(audio, 24000, tmp_path / "small.m4a", bitrate=32)
    assert small.stat().st_size < export_audio(audio, 24000, tmp_path / "big.m4a").stat().st_size
    with pytest.raises(ExportError, match="between 8 and 320 kbps, not 192000"):
        export_audio(audio, 24000, tmp_path / "bps.mp3", bitrate=192000)


@pytest.mark.parametrize("suffix", [".mp3", ".m4a"])
def test_a_rate_the_encoder_lacks_is_resampled_to_a_supported_one(tmp_path, suffix):
    audio = speech_like(23000)
    decoded, rate, *_ = decode(export_audio(audio, 23000, tmp_path / f"odd{suffix}"))
    assert rate == 24000
    assert 2.0 - 0.01 <= decoded.size / rate <= 2.0 + 0.05 + PADDING[suffix] / rate
    assert dominant_hz(decoded, rate) == pytest.approx(220, abs=1)


@pytest.mark.parametrize("target", [DEFAULT_LUFS, -23.0])
@pytest.mark.parametrize("suffix", FORMATS)
def test_loudness_target_is_met_in_the_decoded_file(tmp_path, suffix, target):
    audio = speech_like(24000, level=0.1)  # about -30 LUFS: normalising has to turn it up
    assert measure_lufs(audio, 24000) < target - 5
    decoded, rate, *_ = decode(export_audio(audio, 24000, tmp_path / f"x{suffix}", loudness=target))
    assert measure_lufs(decoded, rate) == pytest.approx(target, abs=0.5)
    assert np.max(np.abs(decoded)) <= CEILING + 0.01


def test_mp3_level_is_not_lowered_by_lames_preset_scaling(tmp_path):
    # LAME's CBR presets scale the input by 0.95 (-0.45 dB); export measures and undoes that.
    decoded, rate, *_ = decode(export_audio(speech_like(24000), 24000, tmp_path / "x.mp3", loudness=-16))
    assert measure_lufs(decoded, rate) == pytest.approx(-16, abs=0.1)


def test_speech_peaks_are_limited_and_the_target_is_still_met(tmp_path):
    rate = 24000
    voice = speech_like(rate, level=0.05)
    voice[rate // 2 : rate // 2 + 240] *= 12  # a plosive burst 20 dB over the rest
    louder = normalise_loudness(voice, rate, target_lufs=-16)
    assert np.max(np.abs(louder)) <= CEILING + 1e-6, "no sample over -1 dBFS, and no clipping"
    assert measure_lufs(louder, rate) == pytest.approx(-16, abs=0.1), "yet the loudness is what was asked"
    untouched = np.r_[0 : rate // 2 - 500, rate // 2 + 800 : voice.size]
    ratio = louder[untouched] / np.where(voice[untouched] == 0, 1, voice[untouched])
    assert np.ptp(ratio[voice[untouched] != 0]) < 1e-3, "away from the burst the gain is constant"


def test_peak_ceiling_wins_over_the_loudness_target(tmp_path):
    rate = 24000
    spiky = (0.01 * np.sin(2 * np.pi * 220 * np.arange(2 * rate) / rate)).astype(np.float32)
    spiky[:: rate // 5] = 0.9  # clicks: reaching -16 LUFS would need +25 dB and push them far over 0 dBFS

    louder = normalise_loudness(spiky, rate, target_lufs=-16)
    assert np.max(np.abs(louder)) <= CEILING + 1e-6
    # More than MAX_LIMITING_DB of limiting would be heard: the level stops short of the target instead.
    assert measure_lufs(louder, rate) < -16 - 5, "quieter than asked, by design, instead of squashing"
    assert spiky[0] == 0.9, "input left untouched"

    for suffix in FORMATS:
        decoded, decoded_rate, *_ = decode(
            export_audio(spiky, rate, tmp_path / f"spiky{suffix}", loudness=-16)
        )
        assert np.max(np.abs(decoded)) <= CEILING + (1 / 32767 if suffix in (".wav", ".flac") else 0.02)
        assert measure_lufs(decoded, decoded_rate) < -16 - 5


def test_normalise_turns_loud_audio_down_too():
    loud = speech_like(24000, level=0.99)
    quieter = normalise_loudness(loud, 24000, target_lufs=-23)
    assert measure_lufs(quieter, 24000) == pytest.approx(-23, abs=0.05)
    assert quieter.dtype == np.float32 and quieter.shape == loud.shape


@pytest.mark.parametrize("suffix", FORMATS)
def test_silence_stays_silent(tmp_path, suffix):
    silence = np.zeros(24000, np.float32)
    assert measure_lufs(silence, 24000) == float("-inf")
    assert measure_lufs(np.zeros(0, np.float32), 24000) == float("-inf")
    same = normalise_loudness(silence, 24000)
    assert np.array_equal(same, silence) and np.all(np.isfinite(same))

    decoded, *_ = decode(export_audio(silence, 24000, tmp_path / f"quiet{suffix}", loudness=-16))
    assert decoded.size >= 24000 and np.all(np.isfinite(decoded))
    assert np.max(np.abs(decoded)) < 1e-4


def test_measure_lufs_of_a_clip_shorter_than_a_gating_block_matches_the_long_tone():
    rate = 24000
    tone = (0.2 * np.sin(2 * np.pi * 200 * np.arange(2 * rate) / rate)).astype(np.float32)
    short = tone[: rate // 100]  # 10 ms: two whole periods, far less than pyloudnorm's 0.4 s block
    assert measure_lufs(short, rate) == pytest.approx(measure_lufs(tone, rate), abs=0.5)
    assert np.isfinite(measure_lufs(tone[:5], rate))


@pytest.mark.parametrize("suffix", FORMATS)
def test_ten_milliseconds_export_to_every_format(tmp_path, suffix):
    clip = speech_like(24000, seconds=0.01, level=0.3)
    dest = export_audio(clip, 24000, tmp_path / f"blip{suffix}", loudness=-16)
    decoded, rate, channels, *_ = decode(dest)
    assert channels == 1 and rate == 24000
    assert 240 <= decoded.size <= 240 + PADDING[suffix]
    assert np.max(np.abs(decoded)) > 0.05
    assert names(tmp_path) == {dest.name}


def test_empty_audio_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(ExportError, match=r"^There is no audio to export\.$"):
        export_audio(np.zeros(0, np.float32), 24000, tmp_path / "empty.wav")
    assert names(tmp_path) == set()


def test_unknown_suffix_names_the_formats_that_work(tmp_path):
    with pytest.raises(ExportError) as caught:
        export_audio(speech_like(24000), 24000, tmp_path / "speech.xyz")
    assert str(caught.value) == "Timbre can export .wav, .flac, .mp3 or .m4a, not .xyz."
    assert isinstance(caught.value, TimbreError)
    with pytest.raises(ExportError, match="without a suffix"):
        export_audio(speech_like(24000), 24000, tmp_path / "speech")
    assert names(tmp_path) == set()


def test_suffix_case_does_not_matter(tmp_path):
    decoded, *_, codec, _ = decode(export_audio(speech_like(24000), 24000, tmp_path / "LOUD.MP3"))
    assert codec == "mp3" and names(tmp_path) == {"LOUD.MP3"}


def test_missing_or_impossible_folder_is_a_plain_error(tmp_path):
    with pytest.raises(ExportError, match="There is no folder"):
        export_audio(speech_like(24000), 24000, tmp_path / "nowhere" / "speech.wav")
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a folder")
    with pytest.raises(ExportError, match="There is no folder"):
        export_audio(speech_like(24000), 24000, blocker / "speech.mp3")
    folder = tmp_path / "taken.wav"
    folder.mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        export_audio(speech_like(24000), 24000, folder)
    assert names(tmp_path) == {"a-file", "taken.wav"} and blocker.read_bytes() == b"not a folder"


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.ENOSPC, "The disk is full"), (errno.EROFS, "read-only"), (errno.EACCES, "not allowed")],
)
@pytest.mark.parametrize("suffix", [".wav", ".m4a"])
def test_write_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch, code, words, suffix):
    dest = export_audio(speech_like(24000, seconds=0.5), 24000, tmp_path / f"old{suffix}")
    before = dest.read_bytes()

    def failing_fsync(fd: int) -> None:  # the temp file is fully written by now; the disk says no
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(export.os, "fsync", failing_fsync)
    with pytest.raises(DiskError, match=words) as caught:
        export_audio(speech_like(24000), 24000, dest, loudness=-16)
    assert str(dest) in str(caught.value) or str(dest.parent) in str(caught.value)
    assert isinstance(caught.value.__cause__, OSError) and caught.value.__cause__.errno == code
    assert dest.read_bytes() == before
    assert names(tmp_path) == {dest.name}


def test_cancel_during_encoding_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    dest = export_audio(speech_like(24000, seconds=0.5), 24000, tmp_path / "old.mp3")
    before = dest.read_bytes()
    real = av.AudioFrame.from_ndarray
    calls = []

    def cancel_on_third_frame(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise CancelledError()
        return real(*args, **kwargs)

    monkeypatch.setattr(av.AudioFrame, "from_ndarray", cancel_on_third_frame)
    with pytest.raises(CancelledError):
        export_audio(speech_like(24000, seconds=5), 24000, dest)
    assert len(calls) == 3, "cancelled part-way through the encode"
    assert dest.read_bytes() == before
    assert names(tmp_path) == {dest.name}


def test_overwrite_false_refuses_and_overwrite_keeps_permissions(tmp_path):
    dest = export_audio(speech_like(24000, seconds=0.2), 24000, tmp_path / "a.flac")
    before = dest.read_bytes()
    with pytest.raises(ExportError, match="already exists"):
        export_audio(speech_like(24000), 24000, dest, overwrite=False)
    assert dest.read_bytes() == before
    dest.chmod(0o640)
    export_audio(speech_like(24000), 24000, dest)
    assert dest.read_bytes() != before and dest.stat().st_mode & 0o777 == 0o640


def test_export_file_converts_between_formats_and_normalises(tmp_path):
    source = export_audio(speech_like(22050), 22050, tmp_path / "source.wav")
    m4a = export_file(source, tmp_path / "book.m4a", loudness=-18, bitrate=96)
    samples, rate = read_audio(m4a)  # soundfile cannot read m4a: this goes through PyAV
    assert rate == 22050 and measure_lufs(samples, rate) == pytest.approx(-18, abs=0.5)
    back = export_file(m4a, tmp_path / "back.flac")
    decoded, *_ = decode(back)
    assert dominant_hz(decoded, 22050) == pytest.approx(220, abs=1)
    assert export_file(back, back) == back, "converting a file onto itself is safe"
    assert names(tmp_path) == {"source.wav", "book.m4a", "back.flac"}


def test_read_audio_mixes_stereo_to_mono_and_refuses_what_is_not_audio(tmp_path):
    stereo = np.stack([np.full(1000, 0.5), np.zeros(1000)], axis=1)
    sf.write(str(tmp_path / "stereo.wav"), stereo, 8000)
    samples, rate = read_audio(tmp_path / "stereo.wav")
    assert rate == 8000 and samples.shape == (1000,) and np.allclose(samples, 0.25, atol=1e-4)
    (tmp_path / "notes.txt").write_text("not audio")
    with pytest.raises(ExportError, match="cannot read"):
        read_audio(tmp_path / "notes.txt")
    with pytest.raises(ExportError, match="no audio file"):
        read_audio(tmp_path / "missing.wav")


def test_a_really_full_disk_leaves_the_folder_as_it_was(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tiny tmpfs")
    disk = tmp_path / "tiny"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        dest = export_audio(speech_like(24000, seconds=0.5), 24000, disk / "speech.wav")  # 24 kB
        before = dest.read_bytes()
        with pytest.raises(
            DiskError,
            match=r"^The disk is full: .*speech\.wav was not saved\. Free some space and try again\.$",
        ) as caught:
            export_audio(speech_like(24000, seconds=10), 24000, dest)  # 480 kB
        assert caught.value.__cause__.errno == errno.ENOSPC
        assert dest.read_bytes() == before
        assert names(disk) == {"speech.wav"}
    finally:
        subprocess.run(["umount", str(disk)], check=True)
