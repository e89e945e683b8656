"""The waveform timeline: a track's min/max envelope that stays smooth from a few samples to an hour of audio.

Each redraw asks a :class:`PeakPyramid` for one or two bins per pixel of the visible range and draws them
as one zigzag polyline (low, high, low, high...), which fills each column like a min/max envelope at the
cost of a single non-antialiased path, so a redraw costs the same at any zoom. While a generation
streams, :meth:`WaveformView.refresh` folds the new samples into the pyramid and the view grows with the
track unless the user has zoomed in.

Mouse: click seeks, a left drag selects, the wheel zooms around the cursor, a middle drag (or the
scrollbar, or a horizontal swipe) scrolls. Keys: ``+``/``=`` and ``-`` zoom, ``0`` fits, arrows scroll,
Escape clears the selection. pyqtgraph's own mouse handling (panning y, the 'A' button, its menu) is
replaced, so the y range stays at [-1, 1].
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal, SignalInstance
from PySide6.QtGui import QAction, QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollBar,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.peaks import PeakPyramid
from app.core.track import AudioTrack

logger = logging.getLogger(__name__)

MIN_SPAN = 0.01
"""The narrowest view, in seconds: a period of a low voice, 240 samples at 24 kHz."""
STREAM_SPAN = 5.0
"""While a track streams in, the view shows at least this much, so it fills from the left instead of
stretching the first few chunks across the whole width."""
PLAYHEAD_COLOUR = QColor(255, 159, 10)  # an orange accent that reads on dark and light backgrounds
_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900)
_STEPS += (1800, 3600, 7200)
_PX_PER_LABEL = 90


def format_time(seconds: float, decimals: int = 0, hours: bool = False) -> str:
    """``m:ss`` (``h:mm:ss`` when ``hours``) with ``decimals`` digits of fractions of a second."""
    sign = "-" if seconds < 0 else ""
    seconds = round(abs(seconds), decimals)
    minutes, secs = divmod(seconds, 60)
    whole = f"{secs:0{3 + decimals if decimals else 2}.{decimals}f}"
    if hours:
        return f"{sign}{int(minutes // 60)}:{int(minutes % 60):02d}:{whole}"
    return f"{sign}{int(minutes)}:{whole}"


class _TimeAxis(pg.AxisItem):
    """Ticks at round numbers of seconds and minutes, labelled m:ss (h:mm:ss past an hour)."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N802
        most = max(1.0, size / _PX_PER_LABEL)
        step = next((s for s in _STEPS if (maxVal - minVal) / s <= most), _STEPS[-1])
        return [(float(step), 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        decimals = max(0, math.ceil(-math.log10(spacing) - 1e-9)) if spacing > 0 else 0
        hours = bool(values) and max(values) >= 3600
        return [format_time(v, decimals, hours) for v in values]


class _WaveViewBox(pg.ViewBox):
    """A view box whose mouse gestures are the timeline's, reported as signals, never pyqtgraph's own."""

    clicked = Signal(float)  # x in seconds
    menuRequested = Signal(object)  # noqa: N815  QPoint on the screen
    selecting = Signal(float, float, bool)  # from, to, finished
    panned = Signal(float)  # seconds to move the view by
    zoomed = Signal(float, float)  # factor on the visible span, around this x
    pressed = Signal()

    def __init__(self) -> None:
        super().__init__(enableMouse=False, enableMenu=False, defaultPadding=0.0)

    def _x(self, scene_pos: QPointF) -> float:
        return float(self.mapSceneToView(scene_pos).x())

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        ev.accept()
        self.pressed.emit()
        if ev.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self._x(ev.scenePos()))
        elif ev.button() == Qt.MouseButton.RightButton:
            self.menuRequested.emit(ev.screenPos().toPoint())

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        ev.accept()
        if ev.isStart():
            self.pressed.emit()
        # A middle drag, or any drag on the time axis, scrolls; a left drag on the wave selects.
        if ev.button() == Qt.MouseButton.MiddleButton or axis is not None:
            self.panned.emit(self._x(ev.lastScenePos()) - self._x(ev.scenePos()))
        elif ev.button() == Qt.MouseButton.LeftButton:
            self.selecting.emit(self._x(ev.buttonDownScenePos()), self._x(ev.scenePos()), ev.isFinish())

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802
        ev.accept()
        if ev.orientation() == Qt.Orientation.Horizontal:  # a sideways swipe on a trackpad scrolls
            x0, x1 = self.viewRange()[0]
            self.panned.emit(-ev.delta() / 1200 * (x1 - x0))
        else:
            self.zoomed.emit(2.0 ** (-ev.delta() / 240), self._x(ev.scenePos()))


class WaveformView(QWidget):
    """A scrollable, zoomable waveform of one :class:`AudioTrack` with a playhead and a selection."""

    seekRequested = Signal(float)  # noqa: N815
    selectionChanged = Signal(object)  # noqa: N815  (start, end) in seconds, or None
    playSelectionRequested = Signal(float, float)  # noqa: N815
    exportSelectionRequested = Signal(float, float)  # noqa: N815
    viewRangeChanged = Signal(float, float)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Waveform")
        self.setAccessibleDescription(
            "Click to seek, drag to select. Scroll or press + and − to zoom, 0 to fit, arrows to scroll."
        )
        self._track: AudioTrack | None = None
        self._pyramid: PeakPyramid | None = None
        self._range = (0.0, STREAM_SPAN)
        self._following = True  # showing the whole (growing) track, until the user zooms in
        self._selection: tuple[float, float] | None = None
        self._playhead = 0.0
        self._syncing_scrollbar = False
        self._placing_region = False

        self.viewbox = _WaveViewBox()
        self.plot = pg.PlotWidget(viewBox=self.viewbox, axisItems={"bottom": _TimeAxis("bottom")})
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.plot.setAccessibleName("Waveform plot")
        item = self.plot.getPlotItem()
        item.hideAxis("left")
        item.hideButtons()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        self.viewbox.disableAutoRange()
        self.viewbox.setYRange(-1.0, 1.0, padding=0.02)
        self.curve = pg.PlotCurveItem(antialias=False, connect="all", skipFiniteCheck=True)
        self.region = pg.LinearRegionItem(movable=True)
        self.region.movable = False  # its edges can be dragged; a drag inside it makes a new selection
        self.region.setVisible(False)
        self.region.sigRegionChangeFinished.connect(self._region_edited)
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False)
        self.playhead.setVisible(False)
        self.viewbox.addItem(self.region, ignoreBounds=True)
        self.viewbox.addItem(self.curve, ignoreBounds=True)
        self.viewbox.addItem(self.playhead, ignoreBounds=True)
        self.viewbox.clicked.connect(self._clicked)
        self.viewbox.menuRequested.connect(self._show_menu)
        self.viewbox.selecting.connect(self._selecting)
        self.viewbox.panned.connect(self._pan)
        self.viewbox.zoomed.connect(self._zoom_around)
        self.viewbox.pressed.connect(lambda: self.setFocus(Qt.FocusReason.MouseFocusReason))
        self.viewbox.sigResized.connect(self.redraw)

        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal)
        self.scrollbar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scrollbar.setAccessibleName("Scroll the waveform")
        self.scrollbar.valueChanged.connect(self._scrolled)
        play, export = self.playSelectionRequested, self.exportSelectionRequested
        self.play_selection_action = self._action("Play selection", "Play only the selected part", play)
        self.export_selection_action = self._action("Export selection…", "Save the selected part", export)
        self.clear_selection_action = self._action("Clear selection", "Clear the selection (Esc)", None)
        self.clear_selection_action.triggered.connect(self.clear_selection)
        self._selection_actions = (self.play_selection_action, self.export_selection_action)
        self._selection_actions += (self.clear_selection_action,)
        self.zoom_in_action = self._action("+", "Zoom in (+)", self.zoom_in)
        self.zoom_out_action = self._action("−", "Zoom out (−)", self.zoom_out)
        self.fit_action = self._action("Fit", "Show the whole track (0)", self.zoom_to_fit)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.scrollbar, 1)
        self.buttons: dict[str, QToolButton] = {}
        for action in (self.zoom_out_action, self.zoom_in_action, self.fit_action):
            controls.addWidget(self._button(action))
        controls.addSpacing(8)
        for action in (self.play_selection_action, self.export_selection_action):
            controls.addWidget(self._button(action))
        timeline = QWidget()
        column = QVBoxLayout(timeline)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.plot, 1)
        column.addLayout(controls)
        self.hint = QLabel("Your audio will appear here")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setAccessibleName("Waveform (empty)")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.hint)
        self.pages.addWidget(timeline)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self._apply_palette()
        self._update_actions()
        self.set_track(None)

    def _action(self, text: str, tip: str, target) -> QAction:
        """An action that calls ``target``, or emits it (a signal) with the selection."""
        action = QAction(text, self)
        action.setToolTip(tip)
        if isinstance(target, SignalInstance):
            action.triggered.connect(lambda: self._emit_selection(target))
        elif target is not None:
            action.triggered.connect(lambda _checked=False: target())
        return action

    def _button(self, action: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setAccessibleName(action.toolTip())
        self.buttons[action.text()] = button
        return button

    # -- the track -----------------------------------------------------------------------------------

    @property
    def track(self) -> AudioTrack | None:
        return self._track

    def set_track(self, track: AudioTrack | None, pyramid: PeakPyramid | None = None) -> None:
        """Show ``track`` (whole, and following it as it grows); None shows the empty hint.

        ``pyramid``, when given, is the track's peaks already computed off the UI thread (an hour of
        audio takes ~0.5 s to fold in, too long for the main thread)."""
        self._track = track
        if pyramid is not None and pyramid.track is not track:
            raise ValueError("the pyramid belongs to another track")
        self._pyramid = pyramid if pyramid is not None else PeakPyramid(track) if track is not None else None
        self._set_selection(None)
        self._playhead = 0.0
        self.playhead.setPos(0.0)
        self.playhead.setVisible(track is not None)
        self.pages.setCurrentIndex(0 if track is None else 1)
        self._update_actions()
        self.zoom_to_fit()

    def refresh(self) -> None:
        """The track grew (or finished): fold in the new samples and redraw what is visible."""
        if self._pyramid is None:
            return
        self._pyramid.update()
        if self._following:
            self._show(0.0, self._extent(), user=False)
        else:
            self._sync_scrollbar()
            self.redraw()

    def _extent(self) -> float:
        """How far the timeline reaches: the track, or more while it is still streaming in."""
        if self._track is None:
            return STREAM_SPAN
        duration = self._pyramid.frames / self._track.sample_rate if self._pyramid else 0.0
        if not self._track.finished:
            return max(duration, STREAM_SPAN)
        return max(duration, MIN_SPAN)

    # -- drawing -------------------------------------------------------------------------------------

    def redraw(self) -> None:
        """Recompute the visible range's envelope and give it to the curve (painted on the next frame)."""
        if self._pyramid is None:
            self.curve.setData(np.zeros(0), np.zeros(0))
            return
        start, end = self._range
        width = max(1, int(round(self.viewbox.width())))
        pad = 2 * (end - start) / width  # a bin or two past each edge, so the wave meets the edges
        times, lows, highs = self._pyramid.envelope(start - pad, end + pad, width)
        if np.array_equal(lows, highs):  # single samples: a plain line through them
            x, y = times, lows
        else:
            x = np.repeat(times, 2)
            y = np.empty(2 * lows.size, np.float32)
            y[0::2], y[1::2] = lows, highs
        self.curve.setData(x, y)

    def _apply_palette(self) -> None:
        palette = self.palette()
        wave = palette.color(QPalette.ColorRole.Highlight)
        text = palette.color(QPalette.ColorRole.WindowText)
        self.plot.setBackground(palette.color(QPalette.ColorRole.Window))
        self.curve.setPen(pg.mkPen(wave, width=1))
        fill = QColor(wave)
        fill.setAlpha(50)
        self.region.setBrush(pg.mkBrush(fill))
        fill.setAlpha(80)
        self.region.setHoverBrush(pg.mkBrush(fill))
        for line in self.region.lines:
            line.setPen(pg.mkPen(wave, width=1))
        self.playhead.setPen(pg.mkPen(PLAYHEAD_COLOUR, width=2))
        axis = self.plot.getPlotItem().getAxis("bottom")
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
        hint = self.hint.palette()
        hint.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText))
        self.hint.setPalette(hint)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (event.Type.PaletteChange, event.Type.StyleChange):
            self._apply_palette()
        super().changeEvent(event)

    # -- the visible range ---------------------------------------------------------------------------

    def view_range(self) -> tuple[float, float]:
        return self._range

    def set_view_range(self, start_s: float, end_s: float) -> None:
        """Show ``[start_s, end_s]``, kept within the track and no narrower than :data:`MIN_SPAN`."""
        self._show(start_s, end_s)

    def zoom_to_fit(self) -> None:
        self._following = True
        self._show(0.0, self._extent(), user=False)

    def zoom_in(self) -> None:
        self._zoom_around(0.5, sum(self._range) / 2)

    def zoom_out(self) -> None:
        self._zoom_around(2.0, sum(self._range) / 2)

    def _zoom_around(self, factor: float, x: float) -> None:
        start, end = self._range
        span = min(max((end - start) * factor, MIN_SPAN), self._extent())
        left = (x - start) / (end - start) if end > start else 0.5
        self._show(x - left * span, x - left * span + span)

    def _pan(self, seconds: float) -> None:
        self._show(self._range[0] + seconds, self._range[1] + seconds)

    def _show(self, start: float, end: float, user: bool = True) -> None:
        extent = self._extent()
        span = min(max(float(end) - float(start), MIN_SPAN), extent)
        start = min(max(float(start), 0.0), extent - span)
        if user:  # zoomed right out is following again; anything narrower stays where the user put it
            self._following = start <= 0.0 and span >= extent - 1e-9
        self._range = (start, start + span)
        self.viewbox.setXRange(start, start + span, padding=0.0)
        self._sync_scrollbar()
        self.redraw()
        self.viewRangeChanged.emit(*self._range)

    def _sync_scrollbar(self) -> None:
        extent_ms = int(round(self._extent() * 1000))
        start_ms = int(round(self._range[0] * 1000))
        span_ms = max(1, int(round((self._range[1] - self._range[0]) * 1000)))
        self._syncing_scrollbar = True
        self.scrollbar.setRange(0, max(0, extent_ms - span_ms))
        self.scrollbar.setPageStep(span_ms)
        self.scrollbar.setSingleStep(max(1, span_ms // 10))
        self.scrollbar.setValue(start_ms)
        self.scrollbar.setEnabled(extent_ms > span_ms)
        self._syncing_scrollbar = False

    def _scrolled(self, value: int) -> None:
        if not self._syncing_scrollbar:
            span = self._range[1] - self._range[0]
            self._show(value / 1000, value / 1000 + span)

    # -- playhead, seeking and the selection ---------------------------------------------------------

    def set_playhead(self, seconds: float, follow: bool = True) -> None:
        """Move the playhead; with ``follow``, a playhead that runs out of view turns the page."""
        start, end = self._range
        was_visible = start <= self._playhead <= end
        self._playhead = float(seconds)
        self.playhead.setPos(self._playhead)
        if follow and was_visible and not start <= self._playhead <= end:
            span = end - start
            self._show(self._playhead - 0.05 * span, self._playhead + 0.95 * span)

    def _clicked(self, x: float) -> None:
        if self._track is not None:
            self.seekRequested.emit(min(max(x, 0.0), self._track.duration))

    def _show_menu(self, where: QPoint) -> None:
        if self._track is None:
            return
        menu = QMenu(self)
        menu.addAction(self.play_selection_action)
        menu.addAction(self.export_selection_action)
        menu.addAction(self.clear_selection_action)
        menu.addSeparator()
        menu.addAction(self.fit_action)
        menu.exec(where)

    def _selecting(self, x0: float, x1: float, finished: bool) -> None:
        if self._track is None:
            return
        duration = self._track.duration
        lo, hi = sorted((min(max(x0, 0.0), duration), min(max(x1, 0.0), duration)))
        self._placing_region = True  # setRegion reports a finished change; only the user's edits count
        self.region.setBounds((0.0, duration))
        self.region.setRegion((lo, hi))
        self._placing_region = False
        self.region.setVisible(hi > lo)
        if finished:
            self._set_selection((lo, hi) if hi > lo else None)

    def _region_edited(self) -> None:
        if self.region.isVisible() and not self._placing_region:
            lo, hi = self.region.getRegion()
            self._set_selection((float(lo), float(hi)) if hi > lo else None)

    def _set_selection(self, selection: tuple[float, float] | None) -> None:
        if selection == self._selection:
            return
        self._selection = selection
        self.region.setVisible(selection is not None)
        self._update_actions()
        self.selectionChanged.emit(selection)

    def selection(self) -> tuple[float, float] | None:
        return self._selection

    def set_selection(self, start_s: float, end_s: float) -> None:
        self._selecting(start_s, end_s, True)

    def clear_selection(self) -> None:
        self._set_selection(None)

    def _emit_selection(self, signal: SignalInstance) -> None:
        if self._selection is not None:
            signal.emit(*self._selection)

    def _update_actions(self) -> None:
        for action in self._selection_actions:
            action.setEnabled(self._selection is not None)
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action):
            action.setEnabled(self._track is not None)

    # -- keys ----------------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key, k = event.key(), Qt.Key
        span = self._range[1] - self._range[0]
        keys = {k.Key_Plus: self.zoom_in, k.Key_Equal: self.zoom_in, k.Key_Minus: self.zoom_out}
        keys |= {k.Key_Underscore: self.zoom_out, k.Key_0: self.zoom_to_fit}
        keys |= {k.Key_Left: lambda: self._pan(-span / 10), k.Key_Right: lambda: self._pan(span / 10)}
        act = keys.get(key) if self._track is not None else None
        if key == k.Key_Escape and self._selection is not None:
            act = self.clear_selection
        if act is None:
            super().keyPressEvent(event)
            return
        act()
        event.accept()


def redraw_seconds(view: WaveformView, repeats: int = 20, paint: bool = True) -> list[float]:
    """Wall-clock seconds of each of ``repeats`` full redraws of ``view`` at its current range.

    With ``paint`` (and the view shown), each timing includes painting the plot synchronously, which is
    what a user waits for; otherwise only the envelope and the curve's data are counted.
    """
    seconds = []
    for _ in range(repeats):
        began = time.perf_counter()
        view.redraw()
        if paint and view.isVisible():
            view.plot.viewport().repaint()
        seconds.append(time.perf_counter() - began)
    return seconds
