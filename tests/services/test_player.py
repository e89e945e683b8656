"""The seekable player: exactly which samples reach the device when playing, pausing, seeking, playing a
region and following a growing track; the end stopping it; the silent clock and the default device."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.core.errors import OutputError
from app.core.track import AudioTrack
from app.services.devices import (
    AudioDevice,
    ClockStream,
    SoundDeviceStream,
    default_device,
    output_available,
)
from app.services.player import Player

RATE = 1000


class RecordingDevice:
    """An :class:`AudioDevice` that pulls only when the test calls :meth:`tick`, and remembers it all."""

    name = "recording"
    silent = True

    def __init__(self) -> None:
        self.pull = None
        self.sample_rate = 0
        self.starts = 0
        self.stop_threads: list[int] = []
        self.stopped = threading.Event()
        self.fail: Exception | None = None
        self.played: list[float] = []

    @property
    def running(self) -> bool:
        return self.pull is not None

    def start(self, sample_rate: int, pull) -> None:
        if self.fail is not None:
            raise self.fail
        self.sample_rate, self.pull = sample_rate, pull
        self.starts += 1
        self.stopped.clear()

    def stop(self) -> None:
        if self.pull is not None:
            self.stop_threads.append(threading.get_ident())
        self.pull = None
        self.stopped.set()

    def tick(self, frames: int) -> list[float]:
        """What the device plays next (this thread stands in for the device thread)."""
        assert self.pull is not None, "the device is not running"
        out = self.pull(frames)
        assert out.dtype == np.float32 and out.shape == (frames,)
        self.played += out.tolist()
        return out.tolist()


def ramp(n: int, growing: bool = False) -> AudioTrack:
    """Samples 1, 2, 3 ... n, so every played sample says where it came from."""
    samples = np.arange(1, n + 1, dtype=np.float32)
    if growing:
        track = AudioTrack(RATE)
        track.append(samples)
        return track
    return AudioTrack.from_array(samples, RATE)


def values(a: int, b: int) -> list[float]:
    """The ramp's samples for frames [a, b)."""
    return [float(i) for i in range(a + 1, b + 1)]


@pytest.fixture
def device() -> RecordingDevice:
    return RecordingDevice()


@pytest.fixture
def player(device: RecordingDevice) -> Player:
    p = Player(device)
    p.load(ramp(100))
    return p


def test_every_device_is_an_audio_device(device):
    assert isinstance(device, AudioDevice)
    assert isinstance(ClockStream(), AudioDevice)
    assert isinstance(SoundDeviceStream(), AudioDevice)
    assert ClockStream().silent and not SoundDeviceStream().silent


def test_play_from_the_start_hands_the_samples_over_in_order(player, device):
    states: list[str] = []
    player.on_state_changed = states.append
    assert player.state == "stopped" and player.position == 0.0
    player.play()
    assert device.sample_rate == RATE
    assert device.tick(4) == values(0, 4)
    assert device.tick(3) == values(4, 7)
    assert player.position == pytest.approx(0.007)
    assert player.playing and player.state == "playing"
    assert states == ["playing"]


def test_pause_keeps_the_position_and_stops_the_device(player, device):
    player.play()
    device.tick(10)
    player.pause()
    assert player.state == "paused" and not player.playing
    assert not device.running
    assert player.position == pytest.approx(0.010)
    player.play()
    assert device.tick(3) == values(10, 13)


def test_toggle_pauses_and_resumes(player, device):
    player.toggle()
    device.tick(5)
    player.toggle()
    assert player.state == "paused" and not device.running
    player.toggle()
    assert device.tick(2) == values(5, 7)


def test_seek_while_paused_then_play_starts_there(player, device):
    player.play()
    device.tick(5)
    player.pause()
    player.seek(0.050)
    assert player.state == "paused"
    assert player.position == pytest.approx(0.050)
    player.play()
    assert device.tick(3) == values(50, 53)


def test_seek_while_playing_jumps_without_restarting_the_device(player, device):
    player.play()
    assert device.tick(3) == values(0, 3)
    player.seek(0.020)
    assert device.tick(2) == values(20, 22)
    player.seek(0.001)
    assert device.tick(2) == values(1, 3)
    assert device.starts == 1 and player.playing


def test_seek_is_clamped_to_the_track(player):
    player.seek(-3.0)
    assert player.position == 0.0
    player.seek(99.0)
    assert player.position == pytest.approx(0.100)


def test_play_from_a_given_start(player, device):
    player.play(start=0.090)
    assert device.tick(4) == values(90, 94)


def test_region_play_stops_at_the_region_end_with_exactly_its_samples(player, device):
    states: list[str] = []
    player.on_state_changed = states.append
    player.play(0.010, 0.015)
    assert player.region == pytest.approx((0.010, 0.015))
    assert device.tick(4) == values(10, 14)
    assert device.tick(4) == values(14, 15) + [0.0, 0.0, 0.0]
    assert not player.playing and player.state == "stopped"
    assert [v for v in device.played if v] == values(10, 15)
    # Documented choice: after a region plays out, the position returns to the region's start.
    assert player.position == pytest.approx(0.010)
    assert device.stopped.wait(2.0)
    assert device.stop_threads and threading.get_ident() not in device.stop_threads
    assert states == ["playing", "stopped"]
    player.play()  # plays the same region again
    assert device.tick(6) == values(10, 15) + [0.0]


def test_stop_goes_back_to_the_start_or_the_region_start(player, device):
    player.play()
    device.tick(30)
    player.stop()
    assert player.state == "stopped" and player.position == 0.0 and not device.running
    player.play(0.040, 0.060)
    device.tick(5)
    player.stop()
    assert player.position == pytest.approx(0.040)


def test_seeking_outside_the_region_drops_it(player, device):
    player.play(0.010, 0.020)
    player.seek(0.080)
    assert player.region is None
    assert device.tick(25) == values(80, 100) + [0.0] * 5


def test_the_end_of_a_finished_track_stops_playback_and_the_device(player, device):
    states: list[str] = []
    player.on_state_changed = states.append
    player.play(start=0.095)
    assert device.tick(10) == values(95, 100) + [0.0] * 5
    assert player.state == "stopped" and not player.playing
    # Documented choice: the position stays at the end of the track.
    assert player.position == pytest.approx(0.100)
    assert device.stopped.wait(2.0)
    assert not device.running
    assert device.stop_threads and threading.get_ident() not in device.stop_threads
    assert states == ["playing", "stopped"]
    assert player.underruns == 0
    player.play()  # from the end, play starts again from the top
    assert device.tick(2) == values(0, 2)


def test_playing_again_right_after_the_end_keeps_the_device_running(player, device):
    player.play(start=0.098)
    device.tick(4)
    player.play()  # may run before or after the helper thread stops the device: either way it plays
    time.sleep(0.1)
    assert player.playing and device.running
    assert device.tick(2) == values(0, 2)


def test_a_growing_track_waits_for_audio_without_advancing(device):
    player = Player(device)
    track = AudioTrack(RATE)
    player.load(track)
    player.play()  # nothing has arrived yet
    assert device.tick(5) == [0.0] * 5
    assert player.position == 0.0 and player.playing
    assert player.underruns == 0  # waiting for the first chunk is not a gap

    track.append(np.arange(1, 7, dtype=np.float32))
    assert device.tick(4) == values(0, 4)
    assert device.tick(4) == values(4, 6) + [0.0, 0.0]  # caught up: silence, and one underrun
    assert player.underruns == 1
    assert device.tick(4) == [0.0] * 4  # the same gap still
    assert player.underruns == 1
    assert player.position == pytest.approx(0.006) and player.playing

    track.append(np.arange(7, 11, dtype=np.float32))
    assert device.tick(4) == values(6, 10)
    assert device.tick(2) == [0.0, 0.0]
    assert player.underruns == 2

    track.finish()
    device.tick(2)
    assert player.state == "stopped"
    assert device.stopped.wait(2.0)
    assert [v for v in device.played if v] == values(0, 10)


def test_a_region_past_what_has_streamed_in_waits_for_it(device):
    player = Player(device)
    track = ramp(10, growing=True)
    player.load(track)
    player.play(0.005, 0.015)
    assert device.tick(8) == values(5, 10) + [0.0] * 3
    assert player.playing
    track.append(np.arange(11, 21, dtype=np.float32))
    assert device.tick(8) == values(10, 15) + [0.0] * 3
    assert player.state == "stopped"


def test_loading_another_track_stops_the_old_one(player, device):
    player.play()
    device.tick(10)
    other = AudioTrack.from_array(np.full(50, 0.5, np.float32), RATE)
    player.load(other)
    assert player.track is other
    assert player.state == "stopped" and player.position == 0.0 and not device.running
    player.play()
    assert device.tick(3) == [0.5] * 3
    player.load(None)
    assert player.track is None and not device.running
    player.play()  # nothing to play: stays stopped
    assert player.state == "stopped"


def test_pull_never_raises(player, device, caplog):
    assert player.pull(-5).size == 0
    assert player.pull("nonsense").size == 0  # type: ignore[arg-type]
    assert Player(RecordingDevice()).pull(8).tolist() == [0.0] * 8  # no track at all

    def broken(*_args, **_kwargs):
        raise RuntimeError("the buffer went away")

    player.play()
    player.track.view = broken  # type: ignore[method-assign]
    assert device.tick(4) == [0.0] * 4
    assert device.tick(4) == [0.0] * 4
    assert sum("Playback failed" in r.message for r in caplog.records) == 1  # logged once, not per block


def test_a_failing_state_callback_does_not_break_playback(player, device):
    def broken(_state: str) -> None:
        raise RuntimeError("listener bug")

    player.on_state_changed = broken
    player.play(start=0.098)
    assert device.tick(4) == values(98, 100) + [0.0, 0.0]
    assert player.state == "stopped"


def test_a_device_that_cannot_start_leaves_the_player_stopped(player, device):
    device.fail = OutputError("No audio output device was found.")
    with pytest.raises(OutputError, match="No audio output device was found"):
        player.play()
    assert player.state == "stopped" and not player.playing
    device.fail = None
    player.play()
    assert device.tick(2) == values(0, 2)


def test_a_region_must_end_after_it_starts(player):
    with pytest.raises(ValueError):
        player.play(0.05, 0.02)
    assert player.state == "stopped"


def test_clock_stream_plays_half_a_second_at_ten_times_speed():
    clock = ClockStream(speed=10, block=256)
    player = Player(clock)
    player.load(AudioTrack.from_array(np.zeros(8000, np.float32), 16000))
    ended = threading.Event()
    player.on_state_changed = lambda state: state == "stopped" and ended.set()
    started = time.monotonic()
    player.play()
    assert ended.wait(3.0)
    elapsed = time.monotonic() - started
    assert 0.02 < elapsed < 1.0  # 0.05 s expected
    assert player.position == pytest.approx(0.5)
    deadline = time.monotonic() + 2.0
    while clock.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not clock.running


def test_clock_stream_follows_a_growing_track():
    clock = ClockStream(speed=20, block=128)
    player = Player(clock)
    track = AudioTrack(16000)
    player.load(track)
    player.play()
    time.sleep(0.05)
    assert player.position == 0.0 and player.playing
    track.append(np.zeros(16000, np.float32))  # one second, played in about 0.05 s
    deadline = time.monotonic() + 2.0
    while player.position < 1.0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert player.position == pytest.approx(1.0) and player.playing
    track.finish()
    deadline = time.monotonic() + 2.0
    while player.playing and time.monotonic() < deadline:
        time.sleep(0.01)
    assert player.state == "stopped"
    player.close()
    assert not clock.running


def test_default_device_matches_what_output_is_available():
    ok, reason = output_available()
    device = default_device()
    if ok:
        assert reason == "" and isinstance(device, SoundDeviceStream) and not device.silent
    else:
        assert reason.endswith(".") and len(reason) > 10
        assert isinstance(device, ClockStream) and device.silent
    # Either way it plays: a Player with no device opens the default one on the first play.
    player = Player()
    assert player.device is None
    player.load(AudioTrack.from_array(np.zeros(800, np.float32), 16000))  # 50 ms of silence
    player.play()
    assert type(player.device) is type(device)
    deadline = time.monotonic() + 3.0
    while player.playing and time.monotonic() < deadline:
        time.sleep(0.01)
    assert player.state == "stopped" and player.position == pytest.approx(0.05)
    player.close()


def test_sound_device_stream_opens_or_says_why_not():
    ok, reason = output_available()
    stream = SoundDeviceStream()
    if ok:
        stream.start(16000, lambda frames: np.zeros(frames, np.float32))
        stream.stop()
    else:
        with pytest.raises(OutputError) as caught:
            stream.start(16000, lambda frames: np.zeros(frames, np.float32))
        assert str(caught.value) == reason
    stream.stop()  # stopping twice is harmless
