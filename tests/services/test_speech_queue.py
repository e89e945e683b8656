"""The narration playback queue: gap-free joins, time stamps, pauses, a fading interruption, back-pressure."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.services.devices import ClockStream
from app.services.speech_queue import FADE_SECONDS, SpeechQueue

RATE = 1000


class HandDevice:
    """A device whose pulls the test makes itself, at times it chooses (the speakers' stand-in)."""

    name = "hand"
    silent = True

    def __init__(self) -> None:
        self.pull = None

    def start(self, sample_rate: int, pull) -> None:
        self.pull = pull

    def stop(self) -> None:
        self.pull = None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make() -> tuple[SpeechQueue, HandDevice, Clock]:
    device, clock = HandDevice(), Clock()
    queue = SpeechQueue(device=device, clock=clock)
    queue.open(RATE)
    return queue, device, clock


def tone(seconds: float, value: float = 0.5) -> np.ndarray:
    return np.full(int(seconds * RATE), value, np.float32)


def test_sentences_play_back_to_back_with_their_pause_and_are_time_stamped() -> None:
    queue, device, clock = make()
    assert queue.write(0, tone(0.3)) and queue.write(1, tone(0.2, 0.25), lead_in=0.1)
    played = []
    for _ in range(7):  # 0.7 s in 0.1 s blocks
        played.append(device.pull(100))
        clock.now += 0.1
    audio = np.concatenate(played)
    pause = np.zeros(100, np.float32)
    expected = np.concatenate([tone(0.3), pause, tone(0.2, 0.25), pause])
    np.testing.assert_array_equal(audio, expected)
    first, second = queue.heard[0], queue.heard[1]
    assert first.started_at == pytest.approx(100.0) and first.ended_at == pytest.approx(100.3)
    assert second.started_at == pytest.approx(100.4) and second.ended_at == pytest.approx(100.6)
    assert second.lead_in == pytest.approx(0.1) and second.frames == 200
    assert not queue.busy


def test_a_sentence_in_pieces_is_one_sentence() -> None:
    queue, device, clock = make()
    queue.write(5, tone(0.05))
    queue.write(5, tone(0.05, 0.1))
    device.pull(50)
    clock.now += 0.05
    device.pull(100)
    heard = queue.heard[5]
    assert heard.frames == 100 and heard.started_at == pytest.approx(100.0)
    assert heard.ended_at == pytest.approx(100.1)


def test_silence_before_a_sentence_counts_the_time_already_quiet() -> None:
    queue, device, clock = make()
    assert queue.silence_before(0.3) == 0.0  # nothing played yet: start at once
    queue.write(0, tone(0.1))
    assert queue.silence_before(0.3) == 0.3  # playing: the whole pause
    device.pull(100)  # handed over at 100.0, so heard until 100.1
    clock.now += 0.2  # quiet for 0.1 s since the sentence ended
    assert queue.silence_before(0.3) == pytest.approx(0.2)
    clock.now += 1.0
    assert queue.silence_before(0.3) == 0.0


def test_clear_fades_out_the_sentence_being_heard_and_drops_the_rest() -> None:
    queue, device, _ = make()
    queue.write(0, tone(1.0))
    queue.write(1, tone(1.0))
    device.pull(100)
    queue.clear()
    fade = int(FADE_SECONDS * RATE)
    tail = device.pull(100)
    assert tail[0] == pytest.approx(0.5) and tail[fade - 1] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.diff(tail[:fade]) <= 0) and not tail[fade:].any()
    assert queue.heard[0].dropped and queue.heard[1].dropped and queue.heard[1].started_at is None
    assert not queue.busy


def test_write_waits_while_too_much_is_queued_and_a_clear_releases_it() -> None:
    device, clock = HandDevice(), Clock()
    queue = SpeechQueue(device=device, max_ahead=0.5, clock=clock)
    queue.open(RATE)
    queue.write(0, tone(0.6))
    results = []
    writer = threading.Thread(target=lambda: results.append(queue.write(1, tone(0.1))))
    writer.start()
    writer.join(0.3)
    assert writer.is_alive()  # waiting for room
    device.pull(200)  # 0.4 s left queued: room again
    writer.join(2)
    assert results == [True]  # 0.5 s queued again: full
    blocked = threading.Thread(target=lambda: results.append(queue.write(3, tone(0.1))))
    blocked.start()
    blocked.join(0.2)
    queue.clear()
    blocked.join(2)
    assert results == [True, False] and 3 not in queue.heard


def test_drain_waits_for_the_device_and_on_played_records_only_what_was_heard() -> None:
    queue = SpeechQueue(device=ClockStream(speed=10.0, block=64))
    recorded: list[np.ndarray] = []
    queue.on_played = lambda samples, rate: recorded.append(samples.copy())
    queue.open(8000)
    queue.write(0, np.full(4000, 0.3, np.float32))
    started = time.monotonic()
    assert queue.drain(timeout=5)
    took = time.monotonic() - started
    time.sleep(0.05)  # the clock keeps pulling silence, which is not recorded
    queue.close()
    assert 0.02 < took < 2.0  # 0.5 s of audio at 10x
    assert sum(part.size for part in recorded) == 4000
    np.testing.assert_allclose(np.concatenate(recorded), 0.3)


def test_close_releases_a_waiting_writer_and_drain() -> None:
    queue, _, _ = make()
    queue.write(0, tone(40.0))  # over max_ahead (30 s)
    results = []
    writer = threading.Thread(target=lambda: results.append(queue.write(1, tone(0.1))))
    writer.start()
    queue.close()
    writer.join(2)
    assert results == [False] and queue.drain(timeout=1)
