"""The transport bar under the waveform: play/pause, the time, and a note when nothing can be heard."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStyle, QToolButton, QWidget


def clock(seconds: float) -> str:
    """``m:ss.t`` under an hour, ``h:mm:ss`` beyond."""
    seconds = max(0.0, seconds)
    if seconds >= 3600:
        whole = int(seconds)
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


class TransportBar(QWidget):
    """Buttons for the timeline; the window connects them to the playback controller."""

    playPauseClicked = Signal()  # noqa: N815 - Qt naming
    stopClicked = Signal()  # noqa: N815
    exportClicked = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        style = self.style()
        self._play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        self.play_button = QToolButton()
        self.play_button.setIcon(self._play_icon)
        self.play_button.setToolTip("Play (Space)")
        self.play_button.setAccessibleName("Play or pause")
        self.play_button.clicked.connect(self.playPauseClicked)
        self.stop_button = QToolButton()
        self.stop_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.stop_button.setToolTip("Back to the start")
        self.stop_button.setAccessibleName("Stop playback")
        self.stop_button.clicked.connect(self.stopClicked)
        self.time = QLabel("0:00.0 / 0:00.0")
        self.time.setAccessibleName("Playback position")
        self.time.setMinimumWidth(120)
        self.note = QLabel()
        self.note.setObjectName("hint")
        self.export_button = QToolButton()
        self.export_button.setText("Export…")
        self.export_button.setToolTip("Export this take (⌘E)")
        self.export_button.clicked.connect(self.exportClicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 2, 12, 6)
        layout.addWidget(self.play_button)
        layout.addWidget(self.stop_button)
        layout.addWidget(self.time)
        layout.addWidget(self.note, 1)
        layout.addWidget(self.export_button)
        self.set_duration(0.0)

    def set_playing(self, playing: bool) -> None:
        self.play_button.setIcon(self._pause_icon if playing else self._play_icon)
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")

    def set_time(self, position: float, duration: float) -> None:
        self.time.setText(f"{clock(position)} / {clock(duration)}")

    def set_duration(self, duration: float) -> None:
        has_audio = duration > 0
        for button in (self.play_button, self.stop_button, self.export_button):
            button.setEnabled(has_audio)

    def set_note(self, text: str) -> None:
        self.note.setText(text)
