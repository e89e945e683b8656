"""Timbre's icons, drawn with QPainter when first asked for, so the app ships no image files.

Two of them: the app icon (a sound wave in a rounded square, for the Dock and window titles) and the
menu-bar icon, a monochrome *template* (black on transparent, ``QIcon.isMask()``) that macOS tints to suit
a light or dark menu bar. Both are drawn at several pixel sizes so they stay crisp on Retina screens.
"""

from __future__ import annotations

import logging
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QLinearGradient, QPainter, QPixmap

logger = logging.getLogger(__name__)

WAVE = (0.30, 0.62, 1.0, 0.74, 0.46, 0.84, 0.38)
"""Bar heights of the sound wave, as fractions of the tallest: a loud syllable trailing off."""
TRAY_WAVE = (0.36, 0.72, 1.0, 0.58, 0.82)

APP_SIZES = (16, 32, 64, 128, 256, 512)
TRAY_SIZES = (16, 18, 32, 36)
"""18 pt is the tallest image the macOS menu bar shows; 36 px is that on a Retina screen."""


def _canvas(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    return image


def _draw_wave(painter: QPainter, area: QRectF, colour: QColor, wave: tuple[float, ...] = WAVE) -> None:
    """Rounded vertical bars centred on the middle line of ``area``, like a level meter mid-word."""
    count = len(wave)
    pitch = area.width() / count
    width = pitch * 0.6
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(colour))
    for i, height in enumerate(wave):
        bar_height = max(width, area.height() * height)
        x = area.left() + i * pitch + (pitch - width) / 2
        y = area.center().y() - bar_height / 2
        painter.drawRoundedRect(QRectF(x, y, width, bar_height), width / 2, width / 2)


def app_pixmap(size: int) -> QPixmap:
    image = _canvas(size)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    # Apple's icon grid leaves a margin around the rounded square; about 10% reads right in the Dock.
    margin = size * 0.08
    square = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    gradient = QLinearGradient(square.topLeft(), square.bottomRight())
    gradient.setColorAt(0.0, QColor("#6d5cff"))
    gradient.setColorAt(1.0, QColor("#c2428f"))
    painter.setBrush(QBrush(gradient))
    painter.setPen(Qt.PenStyle.NoPen)
    radius = square.width() * 0.225
    painter.drawRoundedRect(square, radius, radius)
    if size >= 32:
        # A faint highlight along the top edge gives the square some depth at Dock sizes.
        shine = QLinearGradient(square.topLeft(), QPointF(square.left(), square.center().y()))
        shine.setColorAt(0.0, QColor(255, 255, 255, 46))
        shine.setColorAt(1.0, QColor(255, 255, 255, 0))
        painter.setBrush(QBrush(shine))
        painter.drawRoundedRect(square, radius, radius)
    inner = square.adjusted(square.width() * 0.17, square.height() * 0.2, -square.width() * 0.17, 0)
    inner.setBottom(square.bottom() - square.height() * 0.2)
    _draw_wave(painter, inner, QColor(255, 255, 255, 240))
    painter.end()
    return QPixmap.fromImage(image)


def tray_pixmap(size: int) -> QPixmap:
    image = _canvas(size)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    # A template image is read only for its alpha, so pure black. Five bars, not the app icon's seven:
    # at 18 points any more blur into a grey block, and no frame around them for the same reason.
    margin = size * 0.06
    _draw_wave(
        painter, QRectF(margin, margin, size - 2 * margin, size - 2 * margin), QColor(0, 0, 0), TRAY_WAVE
    )
    painter.end()
    return QPixmap.fromImage(image)


@cache
def app_icon() -> QIcon:
    """The Dock and window icon. Needs a QGuiApplication, like every pixmap."""
    icon = QIcon()
    for size in APP_SIZES:
        icon.addPixmap(app_pixmap(size))
    return icon


@cache
def tray_icon() -> QIcon:
    """The menu-bar icon: a monochrome template that macOS tints for light and dark menu bars."""
    icon = QIcon()
    for size in TRAY_SIZES:
        icon.addPixmap(tray_pixmap(size))
    icon.setIsMask(True)
    return icon
