"""The transport: a Qt face on the Qt-free :class:`~app.services.player.Player`.

The player's device thread moves the position; a 30 Hz timer on the main thread reads it and tells the
waveform and the transport bar, so no Qt object is ever touched from the audio thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.errors import TimbreError
from app.core.track import AudioTrack
from app.services.player import Player

logger = logging.getLogger(__name__)

TICK_MS = 33


class PlaybackController(QObject):
    """Play, pause, seek and play a region of the current track."""

    positionChanged = Signal(float)  # noqa: N815 - seconds
    stateChanged = Signal(str)  # noqa: N815 - "stopped" | "playing" | "paused"
    failed = Signal(str)

    def __init__(self, player: Player | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.player = player if player is not None else Player()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last_state = "stopped"
        self._last_position = -1.0

    @property
    def track(self) -> AudioTrack | None:
        return self.player.track

    @property
    def position(self) -> float:
        return self.player.position

    @property
    def playing(self) -> bool:
        return self.player.playing

    def load(self, track: AudioTrack | None, play: bool = False) -> None:
        self.player.load(track)
        self._tick()
        if play and track is not None:
            self.play()

    def play(self, start: float | None = None, end: float | None = None) -> None:
        if self.player.track is None:
            return
        try:
            self.player.play(start, end)
        except TimbreError as exc:
            self.failed.emit(str(exc))
            return
        self._timer.start()
        self._tick()

    def pause(self) -> None:
        self.player.pause()
        self._tick()

    def toggle(self) -> None:
        if self.player.playing:
            self.pause()
        else:
            self.play()

    def seek(self, seconds: float) -> None:
        self.player.seek(seconds)
        self._tick()

    def stop(self) -> None:
        self.player.stop()
        self._tick()

    def close(self) -> None:
        self._timer.stop()
        self.player.close()

    def _tick(self) -> None:
        state = self.player.state
        position = self.player.position
        if position != self._last_position:
            self._last_position = position
            self.positionChanged.emit(position)
        if state != self._last_state:
            self._last_state = state
            self.stateChanged.emit(state)
        if state != "playing":
            self._timer.stop()
