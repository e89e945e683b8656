"""The streaming synthesis service on the real engines: streaming, cancel, joins, bad input, big input."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
from speech import rms, seconds, words_per_second_ok

from app.core.errors import CancelledError, EmptyTextError, TimbreError, VoiceNotFoundError
from app.core.models import CancelToken, SynthesisRequest
from app.services.playback import ClockedOutput
from app.services.sinks import CollectSink, FileSink, PlaybackSink

STORY = (
    "The lighthouse keeper woke before dawn. He climbed the spiral stairs, one hundred and twelve of them. "
    "At the top, he cleaned the great lens until it shone. Then he watched the ships come home, "
    "one by one, through the grey morning fog."
)


class TimedSink(CollectSink):
    """Collects chunks and when each arrived."""

    def __init__(self, on_write=None) -> None:
        super().__init__()
        self.times: list[float] = []
        self.on_write = on_write

    def write(self, samples):
        super().write(samples)
        self.times.append(time.perf_counter())
        if self.on_write:
            self.on_write(len(self.times))


@pytest.mark.parametrize("voice", ["joe", "af_heart"])
def test_chunks_reach_the_sink_while_the_rest_is_computed(service, voice, piper, kokoro):
    sink = TimedSink()
    start = time.perf_counter()
    result = service.synthesize(SynthesisRequest(text=STORY, voice=voice), sink)
    end = time.perf_counter()
    assert len(sink.times) >= 3
    assert sink.times[0] - start < 0.5 * (end - start), "first audio must come long before the end"
    assert result.first_audio_seconds < result.total_seconds / 2
    assert sink.sample_rate == result.sample_rate == (22050 if voice == "joe" else 24000)
    assert words_per_second_ok(STORY, seconds(sink.audio, sink.sample_rate))
    assert rms(sink.audio) > 0.02


def test_joins_have_no_clicks_and_sentences_have_pauses(service, piper):
    sink = CollectSink()
    service.synthesize(SynthesisRequest(text=STORY), sink)
    for chunk in sink.chunks:
        assert abs(chunk[0]) < 1e-3 and abs(chunk[-1]) < 1e-3, "each chunk starts and ends at zero"
    audio = sink.audio
    frame = 441  # 20 ms
    levels = np.sqrt(np.mean(audio[: len(audio) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    silent_runs = np.diff(np.flatnonzero(np.diff(np.r_[0, levels < 1e-4, 0])))[::2]
    assert (silent_runs >= 10).sum() >= 3, "sentence pauses (>= 200 ms) between the sentences"


def test_cancel_takes_effect_within_one_chunk(service, piper, tmp_path):
    cancel = CancelToken()
    out = tmp_path / "cancelled.wav"
    sink = FileSink(out)
    writes = []

    def on_write(n: int) -> None:
        writes.append(n)
        if n == 2:
            cancel.cancel()

    class Spy(TimedSink):
        def open(self, rate):
            sink.open(rate)

        def write(self, samples):
            sink.write(samples)
            super().write(samples)

        def abort(self):
            sink.abort()

    with pytest.raises(CancelledError):
        service.synthesize(SynthesisRequest(text=STORY * 3), Spy(on_write), cancel=cancel)
    assert writes == [1, 2]
    assert list(tmp_path.iterdir()) == [], "a cancelled job leaves no file"


@pytest.mark.parametrize("text", ["", "   \n\t ", "\x00\x07\x1b", "😀🎉👍", "... --- !!!"])
def test_nothing_to_say_is_a_plain_error_and_touches_no_sink(service, text, tmp_path):
    sink = FileSink(tmp_path / "x.wav")
    with pytest.raises(EmptyTextError, match="nothing to say"):
        service.synthesize(SynthesisRequest(text=text), sink)
    assert list(tmp_path.iterdir()) == []


def test_control_characters_and_emoji_around_words_are_spoken(service, piper):
    sink = CollectSink()
    text = "Hello\x00 there 👋\x1b[0m, how\u200b are you\ttoday? 🎉"
    service.synthesize(SynthesisRequest(text=text), sink)
    assert words_per_second_ok("Hello there how are you today", seconds(sink.audio, sink.sample_rate))


def test_unknown_voice_and_bad_speed_fail_before_any_output(service, tmp_path):
    with pytest.raises(VoiceNotFoundError, match="af_heart"):
        service.synthesize(SynthesisRequest(text="Hi.", voice="af_heartt"), FileSink(tmp_path / "a.wav"))
    with pytest.raises(TimbreError, match="speeds from 0.5 to 2"):
        service.synthesize(SynthesisRequest(text="Hi.", speed=9), FileSink(tmp_path / "b.wav"))
    assert list(tmp_path.iterdir()) == []


def test_one_megabyte_text_streams_in_bounded_memory(service, piper, tmp_path):
    paragraph = (
        "Chapter {n}. The river ran past the mill, and the miller counted sacks of flour. "
        "Nobody knew how long the summer would last; the old folks said it would end soon.\n\n"
    )
    text = "".join(paragraph.format(n=i) for i in range(6200))
    assert len(text.encode()) > 1_000_000
    cancel = CancelToken()
    out = tmp_path / "book.flac"

    def progress(fraction: float, chunks: int) -> None:
        if chunks >= 12:
            cancel.cancel()

    tracemalloc.start()
    started = time.perf_counter()
    first = []
    sink = FileSink(out)
    original_write = sink.write

    def write(samples):
        first.append(time.perf_counter() - started)
        original_write(samples)

    sink.write = write
    with pytest.raises(CancelledError):
        service.synthesize(SynthesisRequest(text=text), sink, cancel=cancel, progress=progress)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert first[0] < 3.0, f"first audio after {first[0]:.2f} s: the text must not be processed up front"
    assert peak < 60 * 1024 * 1024, f"peak traced memory {peak / 1e6:.0f} MB"
    assert list(tmp_path.iterdir()) == []


def test_playback_is_gap_free_when_synthesis_beats_real_time(service, piper):
    # A virtual speaker that drains twice as fast as real time: stricter than a real one.
    output = ClockedOutput(speed=2.0)
    result = service.synthesize(SynthesisRequest(text=STORY), PlaybackSink(output))
    assert result.rtf < 0.5
    assert output.played_frames == result.frames
    assert output.underruns == 0, f"{output.underruns} gaps, {output.underrun_seconds:.2f} s of silence"


def test_kokoro_playback_has_no_gaps_thanks_to_pacing(service, kokoro):
    # Kokoro's RTF on this shared 2-core VM swings between 0.55 and 1.2 from run to run, so the virtual
    # speaker plays at 0.6x: the check holds whenever Kokoro runs below RTF ~1.5, and it still fails
    # without pacing (the unpaced second chunk is ~3x the first and arrives long after it has played).
    output = ClockedOutput(speed=0.6)
    result = service.synthesize(SynthesisRequest(text=STORY, voice="af_heart"), PlaybackSink(output))
    assert result.rtf < 1.5, "the machine is too loaded for this check to mean anything"
    assert output.underruns == 0, f"{output.underruns} gaps, {output.underrun_seconds:.2f} s of silence"


class ListeningSink(CollectSink):
    """Keeps the audio, and tells the service that someone hears it as it arrives."""

    realtime = True


def test_pacing_keeps_chunks_small_for_a_slow_engine_and_grows_them_later(service, kokoro):
    sink = ListeningSink()
    result = service.synthesize(SynthesisRequest(text=STORY * 2, voice="af_heart"), sink)
    lengths = [len(c) / result.sample_rate for c in sink.chunks]
    assert lengths[1] < 2.5 * lengths[0], "the second chunk must be ready before the first has played"
    assert max(lengths[2:]) > lengths[1]


def test_files_are_not_paced_their_chunks_grow_at_once(service, kokoro):
    paced, unpaced = ListeningSink(), CollectSink()
    service.synthesize(SynthesisRequest(text=STORY * 2, voice="af_heart"), paced)
    service.synthesize(SynthesisRequest(text=STORY * 2, voice="af_heart"), unpaced)
    assert len(unpaced.chunks) < len(paced.chunks)


def test_flac_output_has_the_engine_rate(service, kokoro, tmp_path):
    out = tmp_path / "k.flac"
    service.synthesize(SynthesisRequest(text="Short and sweet.", voice="bf_emma"), FileSink(out))
    info = sf.info(out)
    assert info.samplerate == 24000 and info.channels == 1 and info.duration > 0.5
