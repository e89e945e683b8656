"""Voices from recordings: real files for every good and bad case (made by the built-in voices and
encoded by real encoders), each outcome and message checked, and nothing stored on refusal."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from speech import word_error_rate

from app.core import reference
from app.core.export import export_audio
from app.core.loudness import measure_lufs
from app.core.media import MediaError
from app.core.models import CancelToken, SynthesisRequest
from app.services.voices import RecordingRefusedError, VoiceService
from app.storage.library import Library

SAID = (
    "The old lighthouse keeper climbed the stairs every evening. "
    "He lit the lamp and watched the ships pass by. On stormy nights he never slept at all."
)
RATE = 24000


@pytest.fixture(scope="session")
def michael(kokoro) -> np.ndarray:
    """About nine seconds of a real voice (Kokoro am_michael), with a second of silence either side."""
    request = SynthesisRequest(text=SAID, voice="am_michael")
    speech = np.concatenate([c.samples for c in kokoro.synthesize(request, CancelToken())])
    pad = np.zeros(RATE, dtype=np.float32)
    return np.concatenate([pad, speech, pad])


@pytest.fixture
def voices(timbre_home):
    library = Library()
    yield VoiceService(library)
    library.close()


def _stored(home: Path) -> list[str]:
    folder = home / "samples"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _video(path: Path, audio: np.ndarray | None, seconds: float = 2.0) -> Path:
    """A real MP4: MPEG-4 video frames, and AAC audio when ``audio`` is given."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = None
        if audio is not None:
            sound = container.add_stream("aac", rate=RATE)
            sound.layout = "mono"
        for i in range(int(seconds * 10)):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 10 % 255, np.uint8), format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            for start in range(0, len(audio), 1024):
                block = audio[start : start + 1024].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
                container.mux(sound.encode(frame))
            container.mux(sound.encode(None))
    return path


def test_good_recordings_in_every_format_make_a_profile(voices, michael, tmp_path, timbre_home):
    files = []
    for suffix in (".wav", ".flac", ".mp3", ".m4a"):
        files.append(export_audio(michael, RATE, tmp_path / f"michael{suffix}"))
    opus = tmp_path / "voice-note.ogg"  # Opus in Ogg, as phones save voice notes
    sf.write(opus, michael[::2][: len(michael) // 2], RATE // 2, format="OGG", subtype="OPUS")
    files.append(opus)
    stereo = tmp_path / "michael-44k-stereo.wav"
    sf.write(stereo, np.stack([michael, michael * 0.5], axis=1), RATE)
    files.append(stereo)
    files.append(_video(tmp_path / "interview.mp4", michael, seconds=len(michael) / RATE))

    profile, warnings = voices.create_profile("Michael", files, description="from every format")
    assert warnings == []
    assert profile.language == "en" and len(profile.samples) == len(files)
    for sample in profile.samples:
        audio, rate = sf.read(timbre_home / sample.file, dtype="float32")
        assert rate == reference.TARGET_RATE
        # Trimmed to the speech (about 9 s) plus the lead-in and the silence added at the end.
        assert 8.0 < len(audio) / rate < 11.0, sample.quality["source"]
        assert np.all(audio[-int(0.25 * rate) :] == 0), "ends in silence"
        assert measure_lufs(audio, rate) == pytest.approx(reference.REFERENCE_LUFS, abs=1.0)
        assert word_error_rate(SAID, sample.transcript) <= 0.15, sample.transcript
        assert sample.quality["speech_seconds"] > 7 and sample.quality["warnings"] == []


def test_a_long_recording_keeps_its_best_30_seconds(voices, michael, tmp_path, timbre_home):
    pause = np.zeros(RATE // 2, dtype=np.float32)
    long = np.concatenate([np.concatenate([michael, pause])] * 6)  # about 70 s
    path = tmp_path / "long.flac"
    sf.write(path, long, RATE)
    sample, warnings = voices.add_sample(voices.store.create("Long").name, path, transcript="given by hand")
    assert warnings == [] and sample.transcript == "given by hand"
    assert reference.WINDOW_SECONDS[0] <= sample.duration <= reference.WINDOW_SECONDS[1] + 0.5


@pytest.mark.parametrize(
    "case, message",
    [
        ("silent", "silent"),
        ("short", "at least 3 s"),
        ("nan", "invalid sample values"),
        ("truncated", "cut short"),
        ("garbage", "cannot read"),
        ("text", "cannot read"),
        ("empty", "empty"),
        ("video without sound", "video with no sound track"),
    ],
)
def test_bad_recordings_are_refused_and_nothing_is_stored(
    voices, michael, tmp_path, timbre_home, case, message
):
    path = tmp_path / "bad.wav"
    if case == "silent":
        sf.write(path, np.zeros(5 * RATE, dtype=np.float32), RATE)
    elif case == "short":
        sf.write(path, michael[RATE : int(2.5 * RATE)], RATE)
    elif case == "nan":
        audio = michael.copy()
        audio[RATE * 3 : RATE * 3 + 100] = np.nan
        sf.write(path, audio, RATE, subtype="FLOAT")
    elif case == "truncated":
        sf.write(tmp_path / "whole.wav", michael, RATE)
        data = (tmp_path / "whole.wav").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(50_000))
    elif case == "text":
        path = tmp_path / "notes.mp3"
        path.write_text("These are my notes, not a recording.")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "video without sound":
        path = _video(tmp_path / "silent-film.mp4", None)

    with pytest.raises((RecordingRefusedError, MediaError), match=message):
        voices.create_profile("Bad", [path])
    assert voices.store.list(include_deleted=True) == [] and _stored(timbre_home) == []


def test_clipping_and_noise_are_warnings_not_refusals(voices, michael, tmp_path):
    clipped = tmp_path / "clipped.wav"
    sf.write(clipped, np.clip(michael * 8, -1, 1), RATE)
    noisy = tmp_path / "noisy.wav"
    sf.write(noisy, michael + 0.03 * np.random.default_rng(1).standard_normal(michael.size), RATE)
    profile, warnings = voices.create_profile("Rough", [clipped, noisy], description="", report=None)
    assert len(profile.samples) == 2
    assert any("clipped.wav" in w and "clipped (distorted)" in w for w in warnings), warnings
    assert any("noisy.wav" in w and "noisy" in w for w in warnings), warnings


def test_one_bad_file_among_good_ones_stores_nothing(voices, michael, tmp_path, timbre_home):
    good = export_audio(michael, RATE, tmp_path / "good.wav")
    bad = tmp_path / "silence.wav"
    sf.write(bad, np.zeros(4 * RATE, dtype=np.float32), RATE)
    with pytest.raises(RecordingRefusedError, match=r"silence\.wav: .*silent"):
        voices.create_profile("Half", [good, bad], transcript=None)
    assert voices.store.list(include_deleted=True) == [] and _stored(timbre_home) == []


def test_language_is_detected(voices, kokoro, tmp_path):
    request = SynthesisRequest(
        text="今日はとても良い天気ですね。散歩に行きましょう。駅の近くに新しい店ができました。",
        voice="jf_alpha",
    )
    audio = np.concatenate([c.samples for c in kokoro.synthesize(request, CancelToken())])
    path = export_audio(audio, RATE, tmp_path / "japanese.m4a")
    prepared = voices.prepare(path)
    assert prepared.language == "ja" and len(prepared.transcript) >= 5


def test_several_samples_combine_into_one_reference(voices, michael, tmp_path):
    first = export_audio(michael, RATE, tmp_path / "one.flac")
    second = export_audio(michael[: len(michael) // 2 + RATE], RATE, tmp_path / "two.flac")
    profile, _ = voices.create_profile("Pair", [first], transcript="first part")
    voices.add_sample("Pair", second, transcript="second part")
    references = voices.references("Pair")
    assert [t for _, t in references] == ["first part", "second part"]
    combined, words = voices.combined_reference("Pair")
    expected = sum(len(a) for a, _ in references) + int(0.3 * RATE)
    assert len(combined) == expected and words == "first part second part"
    fixed = voices.set_transcript("Pair", profile.samples[0].id, "  first   part, corrected ")
    assert fixed.transcript == "first part, corrected"
    with pytest.raises(Exception, match="no sample #999"):
        voices.set_transcript("Pair", 999, "x")
    only_first, words = voices.combined_reference("Pair", max_seconds=len(references[0][0]) / RATE + 1)
    assert len(only_first) == len(references[0][0]) and words == "first part, corrected"
