"""The waveform timeline as a real widget: what it draws, and how clicks, drags, keys and wheel drive it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication

from app.core.track import AudioTrack
from app.ui.widgets.waveform import MIN_SPAN, STREAM_SPAN, WaveformView, format_time, redraw_seconds

RATE = 24_000


def _burst(seconds: float = 3.0) -> np.ndarray:
    """A 220 Hz tone that swells and stops, with silence around it: a shape the envelope must follow."""
    t = np.arange(int(seconds * RATE)) / RATE
    swell = np.clip(np.sin(np.pi * (t - 0.5) / (seconds - 1.0)), 0.0, None) * (
        (t > 0.5) & (t < seconds - 0.5)
    )
    return (0.8 * swell * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.fixture
def view(qtbot) -> WaveformView:
    widget = WaveformView()
    qtbot.addWidget(widget)
    widget.resize(800, 220)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _show(qtbot, view: WaveformView, track: AudioTrack | None) -> None:
    view.set_track(track)
    if track is not None:  # the plot page is laid out once it is current
        qtbot.waitUntil(lambda: view.viewbox.width() > 700)
        view.redraw()


def _at(view: WaveformView, seconds: float, y: float = 0.0) -> QPoint:
    """Where ``seconds`` is on the plot's viewport, through the view box's own mapping."""
    scene = view.viewbox.mapViewToScene(QPointF(seconds, y))
    return view.plot.mapFromScene(scene)


def _move(qtbot, widget, pos: QPoint, buttons) -> None:
    qtbot.wait(15)  # pyqtgraph drops mouse moves that come less than 10 ms apart
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(pos),
        QPointF(widget.mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def _drawn(view: WaveformView) -> tuple[np.ndarray, np.ndarray]:
    x, y = view.curve.getData()
    return np.asarray(x), np.asarray(y)


def _pixel_seconds(view: WaveformView) -> float:
    start, end = view.view_range()
    return (end - start) / view.viewbox.width()


def test_without_a_track_it_says_where_the_audio_will_appear(qtbot, view: WaveformView) -> None:
    assert view.pages.currentWidget() is view.hint and view.hint.isVisible()
    assert "audio will appear here" in view.hint.text()
    assert not view.play_selection_action.isEnabled() and not view.fit_action.isEnabled()
    _show(qtbot, view, AudioTrack.from_array(_burst(), RATE))
    assert not view.hint.isVisible() and view.plot.isVisible()
    assert view.fit_action.isEnabled()
    _show(qtbot, view, None)
    assert view.hint.isVisible() and _drawn(view)[0].size == 0


def test_the_drawn_curve_is_the_tracks_min_max_envelope(qtbot, view: WaveformView) -> None:
    samples = _burst()
    _show(qtbot, view, AudioTrack.from_array(samples, RATE))
    assert view.view_range() == (0.0, pytest.approx(3.0))
    x, y = _drawn(view)
    # A zigzag, low then high, at each bin's middle.
    times, lows, highs = x[0::2], y[0::2], y[1::2]
    np.testing.assert_array_equal(x[0::2], x[1::2])
    assert np.all(lows <= highs)
    width = view.viewbox.width()
    assert width <= times.size <= 2 * width + 2
    # Every bin holds exactly the min and max of the samples under it.
    size = round((times[1] - times[0]) * RATE)
    first = round(times[0] * RATE - (size - 1) / 2)
    starts = first + size * np.arange(times.size)
    stops = np.minimum(starts + size, samples.size)
    np.testing.assert_allclose(times, (starts + stops - 1) / 2 / RATE)
    for i in range(times.size):
        assert (
            lows[i] == samples[starts[i] : stops[i]].min() and highs[i] == samples[starts[i] : stops[i]].max()
        )
    # It spans the whole track, and follows its shape: silent at the ends, loudest in the middle.
    assert starts[0] == 0 and stops[-1] == samples.size
    assert highs.max() == samples.max() and lows.min() == samples.min()
    assert highs[times < 0.45].max() == 0.0 and highs[np.abs(times - 1.5) < 0.05].max() > 0.75


def test_zoomed_in_it_draws_the_samples_themselves(qtbot, view: WaveformView) -> None:
    samples = _burst()
    _show(qtbot, view, AudioTrack.from_array(samples, RATE))
    view.set_view_range(1.5, 1.51)  # 240 samples on ~800 pixels
    x, y = _drawn(view)
    first = round(x[0] * RATE)
    np.testing.assert_allclose(x, np.arange(first, first + x.size) / RATE)
    np.testing.assert_array_equal(y, samples[first : first + x.size])
    assert x[0] <= 1.5 and x[-1] >= 1.51 - 1 / RATE


def test_a_streaming_track_grows_on_screen(qtbot, view: WaveformView) -> None:
    samples = _burst(8.0)
    track = AudioTrack(RATE)
    _show(qtbot, view, track)
    assert view.view_range() == (0.0, STREAM_SPAN)  # room to grow into
    ends = []
    for part in np.array_split(samples, 16):
        track.append(part)
        view.refresh()
        ends.append(_drawn(view)[0][-1])
    assert all(b > a for a, b in zip(ends, ends[1:], strict=False))
    assert ends[-1] == pytest.approx(8.0, abs=2 * _pixel_seconds(view))
    assert view.view_range() == (0.0, pytest.approx(8.0))  # past the first five seconds, it shows it all

    view.set_view_range(1.0, 2.0)  # the user zooms in: more audio no longer moves the view
    track.append(samples[:RATE])
    view.refresh()
    assert view.view_range() == (pytest.approx(1.0), pytest.approx(2.0))
    track.finish()
    view.refresh()
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.view_range() == (0.0, pytest.approx(9.0))
    assert _drawn(view)[0][-1] == pytest.approx(9.0, abs=2 * _pixel_seconds(view))


def test_a_click_asks_to_seek_there(qtbot, view: WaveformView) -> None:
    _show(qtbot, view, AudioTrack.from_array(_burst(), RATE))
    with qtbot.waitSignal(view.seekRequested, timeout=2000) as blocker:
        qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=_at(view, 1.25))
    assert blocker.args[0] == pytest.approx(1.25, abs=2 * _pixel_seconds(view))
    assert view.selection() is None
    view.set_playhead(blocker.args[0])
    assert view.playhead.value() == pytest.approx(1.25, abs=2 * _pixel_seconds(view))


def test_a_drag_selects_and_the_selection_can_be_played_exported_and_cleared(
    qtbot, view: WaveformView
) -> None:
    _show(qtbot, view, AudioTrack.from_array(_burst(), RATE))
    viewport = view.plot.viewport()
    tolerance = 2 * _pixel_seconds(view)
    assert not view.buttons["Play selection"].isEnabled()
    with qtbot.waitSignal(view.selectionChanged, timeout=2000) as changed:
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=_at(view, 0.5))
        for seconds in (0.7, 1.0, 1.5):
            _move(qtbot, viewport, _at(view, seconds), Qt.MouseButton.LeftButton)
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=_at(view, 1.5))
    start, end = changed.args[0]
    assert start == pytest.approx(0.5, abs=tolerance) and end == pytest.approx(1.5, abs=tolerance)
    assert view.selection() == (start, end)
    assert view.region.isVisible() and view.region.getRegion() == pytest.approx((start, end))

    with qtbot.waitSignal(view.playSelectionRequested, timeout=2000) as played:
        qtbot.mouseClick(view.buttons["Play selection"], Qt.MouseButton.LeftButton)
    assert played.args == [start, end]
    with qtbot.waitSignal(view.exportSelectionRequested, timeout=2000) as exported:
        view.export_selection_action.trigger()
    assert exported.args == [start, end]

    with qtbot.waitSignal(view.selectionChanged, timeout=2000) as cleared:
        qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert cleared.args == [None] and view.selection() is None
    assert not view.region.isVisible() and not view.play_selection_action.isEnabled()

    view.set_selection(2.0, 2.5)
    with qtbot.waitSignal(view.selectionChanged, timeout=2000) as replaced:
        view.set_track(AudioTrack.from_array(_burst(2.0), RATE))  # another track: no selection in it
    assert replaced.args == [None] and view.selection() is None


def _drag(qtbot, view: WaveformView, button, start: QPoint, end: QPoint) -> None:
    viewport = view.plot.viewport()
    qtbot.mousePress(viewport, button, pos=start)
    _move(qtbot, viewport, (start + end) / 2, button)
    _move(qtbot, viewport, end, button)
    qtbot.mouseRelease(viewport, button, pos=end)


def test_an_edge_of_the_selection_can_be_dragged(qtbot, view: WaveformView) -> None:
    _show(qtbot, view, AudioTrack.from_array(_burst(), RATE))
    view.set_selection(1.0, 2.0)
    tolerance = 2 * _pixel_seconds(view)
    with qtbot.waitSignal(view.selectionChanged, timeout=2000) as changed:
        _drag(qtbot, view, Qt.MouseButton.LeftButton, _at(view, 2.0), _at(view, 2.5))
    assert changed.args[0] == (1.0, pytest.approx(2.5, abs=tolerance))
    # A drag that starts inside the selection makes a new one rather than moving it.
    _drag(qtbot, view, Qt.MouseButton.LeftButton, _at(view, 1.2), _at(view, 1.6))
    assert view.selection() == pytest.approx((1.2, 1.6), abs=tolerance)


def test_a_middle_drag_or_a_drag_on_the_time_axis_scrolls(qtbot, view: WaveformView) -> None:
    _show(qtbot, view, AudioTrack.from_array(_burst(), RATE))
    view.set_view_range(1.0, 2.0)
    start, end = _at(view, 1.8), _at(view, 1.3)  # both taken before the view moves
    _drag(qtbot, view, Qt.MouseButton.MiddleButton, start, end)
    assert view.view_range() == pytest.approx((1.5, 2.5), abs=2 * _pixel_seconds(view))
    axis = view.plot.getPlotItem().getAxis("bottom")
    y = view.plot.mapFromScene(axis.sceneBoundingRect().center()).y()
    _drag(qtbot, view, Qt.MouseButton.LeftButton, QPoint(start.x(), y), QPoint(end.x(), y))
    assert view.view_range() == pytest.approx((2.0, 3.0), abs=2 * _pixel_seconds(view))
    assert view.selection() is None


def test_right_click_offers_the_selection_actions(qtbot, view: WaveformView) -> None:
    _show(qtbot, view, AudioTrack.from_array(_burst(), RATE))
    view.set_selection(1.0, 2.0)
    seen: list[tuple[str, bool]] = []

    def inspect_menu() -> None:
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(20, inspect_menu)
            return
        seen.extend((action.text(), action.isEnabled()) for action in menu.actions() if action.text())
        menu.close()

    QTimer.singleShot(20, inspect_menu)
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.RightButton, pos=_at(view, 1.5))
    qtbot.waitUntil(lambda: bool(seen))
    assert ("Play selection", True) in seen and ("Export selection…", True) in seen


def test_keys_zoom_and_fit_and_scroll(qtbot, view: WaveformView) -> None:
    _show(qtbot, view, AudioTrack.from_array(_burst(), RATE))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.view_range() == pytest.approx((0.75, 2.25))
    qtbot.keyClick(view, Qt.Key.Key_Equal)
    assert view.view_range() == pytest.approx((1.125, 1.875))
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.view_range() == pytest.approx((0.75, 2.25))
    assert view.scrollbar.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.view_range() == pytest.approx((0.9, 2.4))
    view.scrollbar.setValue(0)  # as if its handle were dragged to the start
    assert view.view_range() == pytest.approx((0.0, 1.5))
    for _ in range(20):
        qtbot.keyClick(view, Qt.Key.Key_Plus)
    start, end = view.view_range()
    assert end - start == pytest.approx(MIN_SPAN)
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.view_range() == (0.0, pytest.approx(3.0)) and not view.scrollbar.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_Minus)  # never further out than the whole track
    assert view.view_range() == (0.0, pytest.approx(3.0))


def test_the_wheel_zooms_around_the_cursor(qtbot, view: WaveformView) -> None:
    _show(qtbot, view, AudioTrack.from_array(_burst(), RATE))
    viewport = view.plot.viewport()
    pos = _at(view, 1.0)
    y_range = view.viewbox.viewRange()[1]
    event = QWheelEvent(
        QPointF(pos),
        QPointF(viewport.mapToGlobal(pos)),
        QPoint(),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)
    start, end = view.view_range()
    assert end - start == pytest.approx(1.5)
    assert view.viewbox.mapSceneToView(view.plot.mapToScene(pos)).x() == pytest.approx(1.0, abs=0.01)
    assert view.viewbox.viewRange()[1] == y_range == pytest.approx([-1.04, 1.04])  # y never moves


def test_the_playhead_turns_the_page_when_it_runs_out_of_view(qtbot, view: WaveformView) -> None:
    _show(qtbot, view, AudioTrack.from_array(_burst(), RATE))
    view.set_view_range(0.0, 1.0)
    view.set_playhead(0.9)
    assert view.view_range() == pytest.approx((0.0, 1.0))
    view.set_playhead(1.1)
    start, end = view.view_range()
    assert start < 1.1 < end and end - start == pytest.approx(1.0)
    view.set_playhead(2.9, follow=False)  # a jump without following leaves the view alone
    assert view.view_range() == pytest.approx((start, end))


def test_an_hour_of_audio_redraws_with_points_bounded_by_the_width(qtbot, view: WaveformView) -> None:
    samples = np.zeros(3600 * RATE, np.float32)
    samples[[10, 30_000_000, 86_000_000]] = [0.5, -0.9, 0.8]
    _show(qtbot, view, AudioTrack.from_array(samples, RATE))
    del samples
    width = view.viewbox.width()
    assert view.view_range() == (0.0, pytest.approx(3600.0))
    for start, end in [(0.0, 3600.0), (1245.0, 1255.0), (3583.33, 3583.34)]:
        view.set_view_range(start, end)
        times = redraw_seconds(view, repeats=3)
        assert len(times) == 3 and all(t > 0 for t in times)
        x, y = _drawn(view)
        assert 0 < x.size <= 4 * width + 8
        assert x[0] <= start + _pixel_seconds(view) and x[-1] >= end - _pixel_seconds(view)
        if start == 0.0:
            assert y.max() == pytest.approx(0.8) and y.min() == pytest.approx(-0.9)
        if start == 1245.0:  # the spike at 30 000 000 / 24 000 = 1250 s
            assert y.min() == pytest.approx(-0.9)
        if start == 3583.33:  # the spike at 86 000 000 / 24 000 = 3583.333 s, as a single sample
            assert y.max() == pytest.approx(0.8) and x.size < width


def test_it_paints_the_wave_in_the_palettes_colours(qtbot, view: WaveformView) -> None:
    _show(qtbot, view, AudioTrack.from_array(_burst(), RATE))
    image = view.plot.grab().toImage()
    background = view.palette().color(QPalette.ColorRole.Window)
    wave = view.palette().color(QPalette.ColorRole.Highlight)
    pixels = [image.pixelColor(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)]
    assert sum(p != background for p in pixels) > 200
    assert sum(p == wave for p in pixels) > 200

    dark = QPalette(view.palette())
    dark.setColor(QPalette.ColorRole.Window, QColor(30, 30, 32))
    dark.setColor(QPalette.ColorRole.WindowText, QColor(235, 235, 240))
    view.setPalette(dark)
    assert view.plot.backgroundBrush().color() == QColor(30, 30, 32)


def test_times_read_as_minutes_and_seconds() -> None:
    assert format_time(0) == "0:00"
    assert format_time(75) == "1:15"
    assert format_time(75.25, 2) == "1:15.25"
    assert format_time(3725, 0, hours=True) == "1:02:05"
    assert format_time(59.9996, 3) == "1:00.000"
