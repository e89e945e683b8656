"""The playback buffer: exact pulls, gap accounting, bounded memory, drain and stop."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.core.errors import OutputError
from app.services.playback import BufferedOutput, ClockedOutput, SoundDeviceOutput


def test_pull_returns_queued_audio_in_order_across_chunks():
    out = BufferedOutput()
    out.start(1000)
    out.write(np.arange(1, 6, dtype=np.float32))
    out.write(np.arange(6, 11, dtype=np.float32))
    assert out.pull(3).tolist() == [1, 2, 3]
    assert out.pull(4).tolist() == [4, 5, 6, 7]
    assert out.buffered_seconds == pytest.approx(0.003)
    assert out.underruns == 0


def test_running_dry_mid_stream_counts_one_gap_per_episode():
    out = BufferedOutput()
    out.start(1000)
    assert out.pull(10).tolist() == [0] * 10  # before any audio: waiting, not a gap
    assert out.underruns == 0
    out.write(np.ones(5, dtype=np.float32))
    assert out.pull(10).tolist() == [1] * 5 + [0] * 5
    out.pull(10)
    assert out.underruns == 1
    assert out.underrun_seconds == pytest.approx(0.015)
    out.write(np.ones(20, dtype=np.float32))
    out.pull(10)
    out.pull(10)
    out.pull(10)
    assert out.underruns == 2


def test_end_of_input_is_not_a_gap():
    out = BufferedOutput()
    out.start(1000)
    out.write(np.ones(5, dtype=np.float32))
    out.pull(5)
    threading.Thread(target=out.drain, daemon=True).start()
    time.sleep(0.05)
    out.pull(10)
    assert out.underruns == 0


def test_write_waits_while_the_buffer_is_full():
    out = BufferedOutput(max_buffered_seconds=0.01)
    out.start(1000)
    out.write(np.ones(10, dtype=np.float32))
    done = threading.Event()

    def writer() -> None:
        out.write(np.ones(10, dtype=np.float32))
        done.set()

    threading.Thread(target=writer, daemon=True).start()
    assert not done.wait(0.2), "write did not wait for room"
    out.pull(5)
    assert done.wait(1.0)


def test_stop_drops_everything_and_releases_a_waiting_writer():
    out = BufferedOutput(max_buffered_seconds=0.01)
    out.start(1000)
    out.write(np.ones(10, dtype=np.float32))
    writer = threading.Thread(target=out.write, args=(np.ones(10, dtype=np.float32),), daemon=True)
    writer.start()
    out.stop()
    writer.join(1.0)
    assert not writer.is_alive()
    assert out.buffered_seconds == 0


def test_clocked_output_plays_in_real_time_and_drains():
    out = ClockedOutput(block=100)
    out.start(8000)
    out.write(np.ones(4000, dtype=np.float32))  # half a second
    started = time.perf_counter()
    out.drain()
    elapsed = time.perf_counter() - started
    assert 0.4 < elapsed < 1.5
    assert out.played_frames == 4000
    assert out.underruns == 0


def test_sounddevice_output_reports_a_missing_device_in_plain_words():
    # This machine has no sound card: the real output must say so plainly rather than crash.
    try:
        SoundDeviceOutput.check_available()
    except OutputError as exc:
        assert "--out" in str(exc)
    else:  # a machine with speakers: the device opens and plays silence without error
        out = SoundDeviceOutput()
        out.start(22050)
        out.write(np.zeros(2205, dtype=np.float32))
        out.drain(timeout=2)
