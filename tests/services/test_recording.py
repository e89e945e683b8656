"""Recording a reference through the source interface: a real file played in at real-time pace stands in
for the microphone this machine lacks; the microphone itself must fail in plain words when absent."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile as sf

from app.core.errors import CancelledError
from app.core.models import CancelToken, SynthesisRequest
from app.services.recording import FileSource, MicrophoneSource, Recorder, RecordingError
from app.services.voices import VoiceService
from app.storage.library import Library


@pytest.fixture(scope="module")
def spoken(tmp_path_factory, kokoro):
    text = (
        "The old lighthouse keeper climbed the stairs every evening. He lit the lamp and watched the ships."
    )
    audio = np.concatenate(
        [c.samples for c in kokoro.synthesize(SynthesisRequest(text=text, voice="af_sky"), CancelToken())]
    )
    path = tmp_path_factory.mktemp("mic") / "said.wav"
    sf.write(path, np.concatenate([np.zeros(12000, np.float32), audio]), 24000)
    return path, audio


def test_recording_reports_levels_and_feeds_a_profile(spoken, tmp_path, timbre_home):
    path, audio = spoken
    levels = []
    recorder = Recorder(FileSource(path, speed=8.0), max_seconds=60, on_level=levels.append)
    out = recorder.record_to(tmp_path / "take.flac")
    recorded, rate = sf.read(out, dtype="float32")
    assert rate == 24000 and abs(len(recorded) - (len(audio) + 12000)) < 2
    assert len(levels) >= 20 and levels[-1].seconds == pytest.approx(len(recorded) / rate, abs=0.06)
    assert min(level.rms_db for level in levels[:5]) < -100, "the lead-in silence reads as silence"
    assert max(level.peak_db for level in levels) > -20 and not any(level.clipped for level in levels)
    with Library() as library:
        profile, warnings = VoiceService(library).create_profile("Sky", [out], transcript="given")
        assert len(profile.samples) == 1 and warnings == []


def test_stop_keeps_what_was_said_and_cancel_keeps_nothing(spoken, tmp_path):
    path, _ = spoken
    stop = CancelToken()
    timer = threading.Timer(0.6, stop.cancel)
    timer.start()
    kept = Recorder(FileSource(path, speed=1.0)).record(stop=stop)
    timer.join()
    assert 0.4 < len(kept) / 24000 < 1.5, "stopped after about 0.6 s of real time"

    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()
    with pytest.raises(CancelledError):
        Recorder(FileSource(path, speed=1.0)).record_to(tmp_path / "never.flac", cancel=cancel)
    assert not (tmp_path / "never.flac").exists() and list(tmp_path.iterdir()) == []


def test_max_seconds_bounds_a_recording(spoken):
    path, _ = spoken
    audio = Recorder(FileSource(path, speed=20.0), max_seconds=1.5).record()
    assert len(audio) == int(1.5 * 24000)


def test_missing_microphone_is_a_plain_error():
    try:
        MicrophoneSource.check_available()
    except RecordingError as exc:
        assert "microphone" in str(exc)
    else:  # pragma: no cover - a machine with a microphone
        pytest.skip("this machine has a microphone")
