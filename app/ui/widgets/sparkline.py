"""A tiny history graph for the header: the last minute of one figure, painted with QPainter.

A plotting library would be overkill for sixty points redrawn once a second; a filled polyline in the
palette's highlight colour costs next to nothing and follows the light or dark appearance.
"""

from __future__ import annotations

import collections
import logging

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.services.monitor import HISTORY

logger = logging.getLogger(__name__)


class Sparkline(QWidget):
    """The last ``points`` values of one figure, scaled to ``0..maximum``."""

    def __init__(
        self,
        maximum: float = 100.0,
        points: int = HISTORY,
        role: QPalette.ColorRole = QPalette.ColorRole.Highlight,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._maximum = maximum
        self._role = role
        self._values: collections.deque[float] = collections.deque(maxlen=points)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    @property
    def capacity(self) -> int:
        return self._values.maxlen or 0

    def values(self) -> list[float]:
        return list(self._values)

    def add(self, value: float) -> None:
        self._values.append(min(max(float(value), 0.0), self._maximum))
        self.update()

    def clear(self) -> None:
        self._values.clear()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(64, 20)

    def paintEvent(self, _event: object) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        trough = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        trough.setAlpha(22)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(trough)
        painter.drawRoundedRect(frame, 3, 3)
        if len(self._values) < 2:
            painter.end()
            return
        area = frame.adjusted(1.5, 2.0, -1.5, -1.5)
        # Points fill the graph from the right, so a fresh graph grows leftwards like Activity Monitor.
        step = area.width() / max(1, self.capacity - 1)
        start = area.right() - step * (len(self._values) - 1)
        line = QPainterPath()
        for i, value in enumerate(self._values):
            point = QPointF(start + i * step, area.bottom() - area.height() * value / self._maximum)
            if i == 0:
                line.moveTo(point)
            else:
                line.lineTo(point)
        fill = QPainterPath(line)
        fill.lineTo(area.right(), area.bottom())
        fill.lineTo(start, area.bottom())
        fill.closeSubpath()
        colour = QColor(self.palette().color(self._role))
        shade = QColor(colour)
        shade.setAlpha(70)
        painter.setBrush(shade)
        painter.drawPath(fill)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(colour, 1.3))
        painter.drawPath(line)
        painter.end()
