"""Speak-and-save: every finished job is kept; a failed or cancelled one leaves no row and no file."""

from __future__ import annotations

import pytest
import soundfile as sf

from app.core.errors import CancelledError, OutputError
from app.core.models import CancelToken, SynthesisRequest
from app.services.history import HistoryService, NotFoundError
from app.services.sinks import CollectSink, FileSink


@pytest.fixture
def history(timbre_home):
    service = HistoryService()
    yield service
    service.library.close()


def _files(home):
    folder = home / "generations"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_finished_job_is_saved_with_its_parameters(history, service, piper, timbre_home):
    also = CollectSink()
    result, gen = history.speak_and_save(service, SynthesisRequest(text="Keep this one.", speed=1.1), also)
    assert (gen.engine, gen.voice, gen.text) == ("piper", "joe", "Keep this one.")
    assert gen.params == {"speed": 1.1} and gen.timings["rtf"] > 0
    assert isinstance(gen.seed, int), "a seed is always kept, so the take can be regenerated"
    info = sf.info(history.audio_path(gen))
    assert info.samplerate == 22050 and abs(info.duration - result.audio_seconds) < 0.01
    assert also.frames == info.frames, "the extra sink heard exactly what was saved"
    assert [g.id for g in history.search("keep")] == [gen.id]


def test_cancelled_job_leaves_no_row_and_no_file(history, service, piper, timbre_home):
    cancel = CancelToken()

    def progress(fraction, chunks):
        cancel.cancel()

    text = "One sentence. Two sentences. Three sentences. Four sentences."
    with pytest.raises(CancelledError):
        history.speak_and_save(service, SynthesisRequest(text=text), cancel=cancel, progress=progress)
    assert history.list() == [] and _files(timbre_home) == []


def test_failing_extra_output_leaves_no_row_and_no_file(history, service, piper, timbre_home, tmp_path):
    bad = FileSink(tmp_path / "missing-folder" / "x.wav")
    with pytest.raises(OutputError):
        history.speak_and_save(service, SynthesisRequest(text="Never kept."), bad)
    assert history.list() == [] and _files(timbre_home) == []


def test_opening_the_history_cleans_what_a_crash_left(timbre_home, service, piper):
    first = HistoryService()
    _, gen = first.speak_and_save(service, SynthesisRequest(text="Survivor."))
    stray = first.library.new_generation_path()
    stray.write_bytes(b"half a file from a crash")
    first.library.close()
    again = HistoryService()
    assert not stray.exists()
    assert [g.id for g in again.list()] == [gen.id]
    assert again.library.integrity_ok()


def test_regenerate_repeats_engine_voice_settings_and_seed(history, service, kokoro):
    request = SynthesisRequest(text="Say it once more.", voice="af_heart", speed=0.9, seed=1234)
    _, first = history.speak_and_save(service, request)
    _, again = history.regenerate(service, first.id)
    assert again.id != first.id
    same = ("text", "engine", "voice", "seed", "language", "sample_rate")
    assert {k: getattr(again, k) for k in same} == {k: getattr(first, k) for k in same}
    assert again.params == {"speed": 0.9, "regenerated_from": first.id}
    a, _ = sf.read(history.audio_path(first), dtype="float32")
    b, _ = sf.read(history.audio_path(again), dtype="float32")
    # Kokoro is deterministic: the same request gives the same take, sample for sample (to 16-bit).
    assert a.shape == b.shape and float(abs(a - b).max()) < 1e-3
    with pytest.raises(NotFoundError):
        history.regenerate(service, 999)


def test_play_streams_the_saved_audio_and_can_be_cancelled(history, service, piper):
    from app.services.playback import ClockedOutput

    _, gen = history.speak_and_save(service, SynthesisRequest(text="Play me back, please."))
    output = ClockedOutput(speed=20.0)
    seconds = history.play(gen.id, output)
    assert seconds == pytest.approx(gen.duration) and output.underruns == 0
    assert output.played_frames == sf.info(history.audio_path(gen)).frames

    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(CancelledError):
        history.play(gen.id, ClockedOutput(speed=20.0), cancel)


def test_sampling_parameters_are_kept_and_regenerated(history, service, piper):
    request = SynthesisRequest(text="Warmer, please.", temperature=0.7, top_k=40)
    _, first = history.speak_and_save(service, request)
    assert first.params == {"speed": 1.0, "temperature": 0.7, "top_k": 40}
    _, again = history.regenerate(service, first.id)
    assert again.params == {"speed": 1.0, "temperature": 0.7, "top_k": 40, "regenerated_from": first.id}
