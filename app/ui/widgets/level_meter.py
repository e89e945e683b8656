"""A recording level meter: the input's loudness (RMS) as a bar and its peak as a held line, in dB.

Painted with QPainter from the readings the recorder sends twenty times a second. The bar turns red
when the input clips, and the peak line falls back slowly so a single loud syllable stays visible long
enough to read, as on a studio meter.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

logger = logging.getLogger(__name__)

FLOOR_DB = -60.0
"""The bottom of the scale: quieter than this reads as silence."""
PEAK_HOLD_SECONDS = 1.2
PEAK_FALL_DB_PER_SECOND = 20.0
CLIP_SHOW_SECONDS = 1.5
"""A clip stays red this long after it happened, so a brief one is not missed."""

# Accents that read on both light and dark backgrounds.
GOOD = QColor("#34c759")
HOT = QColor("#ffcc00")
CLIPPED = QColor("#ff3b30")


def _fraction(db: float) -> float:
    return min(1.0, max(0.0, (db - FLOOR_DB) / -FLOOR_DB))


class LevelMeter(QWidget):
    """A horizontal meter from :data:`FLOOR_DB` to 0 dB. Feed it with :meth:`set_level`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Input level")
        self.setToolTip("How loud the microphone hears you. Aim for the bar to reach the yellow, never red.")
        self.reset()

    # --- readings --------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.rms_db = FLOOR_DB * 2
        self.peak_db = FLOOR_DB * 2
        self.max_rms_db = FLOOR_DB * 2
        """The loudest reading since the last reset: enough to tell a working input from a dead one."""
        self.readings = 0
        self._held_db = FLOOR_DB * 2
        self._held_at = 0.0
        self._clipped_at: float | None = None
        self.update()

    def set_level(self, rms_db: float, peak_db: float, clipped: bool = False) -> None:
        now = time.monotonic()
        self.rms_db, self.peak_db = float(rms_db), float(peak_db)
        self.max_rms_db = max(self.max_rms_db, self.rms_db)
        self.readings += 1
        falling = self._held_db - PEAK_FALL_DB_PER_SECOND * max(0.0, now - self._held_at - PEAK_HOLD_SECONDS)
        if self.peak_db >= falling:
            self._held_db, self._held_at = self.peak_db, now
        else:
            self._held_db, self._held_at = falling, now - PEAK_HOLD_SECONDS
        if clipped:
            self._clipped_at = now
        self.setAccessibleDescription(f"{self.rms_db:.0f} dB, peak {self.peak_db:.0f} dB")
        self.update()

    @property
    def clipped(self) -> bool:
        """True while a recent clip is still shown."""
        return self._clipped_at is not None and time.monotonic() - self._clipped_at < CLIP_SHOW_SECONDS

    # --- painting --------------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(280, 18)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(80, 12)

    def paintEvent(self, _event: object) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        trough = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        trough.setAlpha(28)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(trough)
        painter.drawRoundedRect(frame, 3, 3)

        inner = frame.adjusted(1.5, 1.5, -1.5, -1.5)
        level = _fraction(self.rms_db)
        if level > 0:
            if self.clipped:
                colour = CLIPPED
            elif self.rms_db > -12.0:
                colour = HOT
            else:
                colour = GOOD
            painter.setBrush(colour)
            painter.drawRoundedRect(
                QRectF(inner.left(), inner.top(), inner.width() * level, inner.height()), 2, 2
            )

        held = _fraction(self._held_db)
        if held > 0:
            x = inner.left() + inner.width() * held
            painter.setBrush(CLIPPED if self.clipped else self.palette().color(QPalette.ColorRole.WindowText))
            painter.drawRect(QRectF(min(x, inner.right() - 2), inner.top(), 2, inner.height()))

        # Ticks every 12 dB: -48, -36, -24, -12 — enough to judge the level at a glance.
        tick = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        tick.setAlpha(60)
        painter.setBrush(tick)
        for db in (-48, -36, -24, -12):
            x = inner.left() + inner.width() * _fraction(db)
            painter.drawRect(QRectF(x, inner.bottom() - 3, 1, 3))
        painter.end()
