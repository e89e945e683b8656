"""File output: atomic, streamed, plain errors, nothing half-written."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from app.core.errors import OutputError
from app.services.sinks import CollectSink, FileSink, NullSink, TeeSink

TONE = (0.5 * np.sin(np.linspace(0, 2000 * np.pi, 22050))).astype(np.float32)


@pytest.mark.parametrize("suffix,fmt", [(".wav", "WAV"), (".flac", "FLAC")])
def test_file_appears_only_when_closed(tmp_path, suffix, fmt):
    path = tmp_path / f"out{suffix}"
    sink = FileSink(path)
    sink.open(22050)
    sink.write(TONE[:10000])
    sink.write(TONE[10000:])
    assert not path.exists(), "the final name must not exist before close"
    sink.close()
    data, rate = sf.read(path, dtype="float32")
    assert rate == 22050 and sf.info(path).format == fmt
    np.testing.assert_allclose(data, TONE, atol=1e-4)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_abort_leaves_nothing_and_keeps_an_existing_file(tmp_path):
    path = tmp_path / "keep.wav"
    path.write_bytes(b"precious")
    sink = FileSink(path)
    sink.open(22050)
    sink.write(TONE)
    sink.abort()
    assert path.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]


def test_unsupported_suffix_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(OutputError, match=r"\.wav or \.flac"):
        FileSink(tmp_path / "out.mp3")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_and_folder_as_file_are_plain_errors(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        FileSink(tmp_path / "nope" / "out.wav").open(22050)
    (tmp_path / "dir.wav").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        FileSink(tmp_path / "dir.wav").open(22050)


def test_unwritable_location_is_a_plain_error_even_for_root():
    # /proc refuses new files whoever asks (tests often run as root, which ignores folder permissions).
    with pytest.raises(OutputError, match="not allowed|could not"):
        FileSink("/proc/timbre-test.wav").open(22050)


def test_tee_aborts_the_opened_sinks_when_one_fails(tmp_path):
    good = FileSink(tmp_path / "good.wav")
    bad = FileSink(tmp_path / "missing" / "bad.wav")
    with pytest.raises(OutputError):
        TeeSink(good, bad).open(22050)
    assert list(tmp_path.iterdir()) == []


def test_collect_and_null_sinks_count_frames():
    collect, null = CollectSink(), NullSink()
    tee = TeeSink(collect, null)
    tee.open(16000)
    tee.write(TONE[:100])
    tee.write(TONE[100:250])
    tee.close()
    assert null.frames == collect.frames == 250 and null.closed
    np.testing.assert_array_equal(collect.audio, TONE[:250])


def test_callback_sink_hands_over_private_copies_and_reports_the_end():
    import numpy as np

    from app.services.sinks import CallbackSink

    events: list[object] = []
    sink = CallbackSink(events.append, events.append, lambda ok: events.append(("end", ok)))
    sink.open(24000)
    chunk = np.ones(4, np.float32)
    sink.write(chunk)
    chunk[:] = 0  # the producer reuses its buffer; the receiver's copy must not change
    sink.close()
    sink.abort()
    assert events[0] == 24000
    np.testing.assert_array_equal(events[1], np.ones(4, np.float32))
    assert events[2:] == [("end", True), ("end", False)]
