"""The whole window, driven like a user would: type and generate, hear it (by proxy), stop, play from the
history, export, errors in plain words, and quick speak from the menu bar. Real Piper, real library."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.media import load_media
from tests.speech import transcribe, word_error_rate

LONG_TEXT = " ".join(
    f"Sentence number {n} is here so that the job runs long enough to be stopped halfway." for n in range(60)
)


@pytest.fixture
def window(qtbot, registry, timbre_home):
    from app.ui.context import AppContext
    from app.ui.main_window import MainWindow

    context = AppContext.create()
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.resize(1180, 760)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
    context.close()


def _generate(qtbot, win, text: str) -> None:
    win.composer.text.setPlainText("")
    qtbot.keyClicks(win.composer.text, text)
    win.composer.text.setFocus()
    qtbot.keyClick(win.composer.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def _messages(win) -> list[QMessageBox]:
    return [w for w in win.findChildren(QMessageBox) if w.isVisible()]


def test_type_and_generate_streams_into_the_timeline_and_the_history(qtbot, window):
    text = "The quick brown fox jumps over the lazy dog."
    _generate(qtbot, window, text)
    assert window.generation.busy, "Ctrl+Return started a generation"
    assert not window.composer.generate_button.isEnabled() and window.composer.stop_button.isEnabled()
    qtbot.waitUntil(lambda: window.history_panel._model.rowCount() == 1, timeout=60_000)

    track = window.playback.track
    assert track is not None and track.finished and track.duration > 1.5
    generation = window.history_panel.selected()
    assert generation.text == text and generation.engine == "piper"
    assert abs(generation.duration - track.duration) < 0.01, "the timeline shows what was saved"
    xs, ys = window.waveform.curve.getData()
    assert len(xs) > 100 and max(ys) > 0.05 and xs[-1] > track.duration * 0.9
    assert window.composer.generate_button.isEnabled() and not window.composer.stop_button.isEnabled()
    qtbot.waitUntil(lambda: window.playback.position > 0.2, timeout=5000)  # it plays by itself

    heard = transcribe(str(window.context.history.audio_path(generation)))
    assert word_error_rate(text, heard) <= 0.15, heard


def test_escape_stops_a_long_generation_and_nothing_is_saved(qtbot, window, timbre_home):
    _generate(qtbot, window, LONG_TEXT)
    qtbot.waitUntil(
        lambda: window.playback.track is not None and window.playback.track.frames > 0, timeout=60_000
    )
    with qtbot.waitSignal(window.generation.cancelled, timeout=30_000):
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.generation.busy and window.playback.track.finished
    assert window.context.history.count() == 0
    leftovers = (
        list((timbre_home / "generations").rglob("*")) if (timbre_home / "generations").exists() else []
    )
    assert [p for p in leftovers if p.is_file()] == []
    assert "Stopped" in window.statusBar().currentMessage()


def test_a_history_row_plays_in_the_timeline_and_space_pauses(qtbot, window):
    _generate(qtbot, window, "First take.")
    qtbot.waitUntil(lambda: window.history_panel._model.rowCount() == 1, timeout=60_000)
    _generate(qtbot, window, "A second, somewhat longer take for the timeline.")
    qtbot.waitUntil(lambda: window.history_panel._model.rowCount() == 2, timeout=60_000)
    first = window.context.history.list()[-1]
    window.playback.pause()
    window.history_panel.playRequested.emit(first.id)
    qtbot.waitUntil(lambda: window.playback.track is not None and window.playback.playing, timeout=10_000)
    assert abs(window.playback.track.duration - first.duration) < 0.01
    window.waveform.setFocus()
    qtbot.keyClick(window.waveform, Qt.Key.Key_Space)
    assert not window.playback.playing

    # In the history list, Space plays the selected row instead (one live shortcut per key).
    newest = window.context.history.list()[0]
    view = window.history_panel.view
    window.history_panel.select(newest.id)
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: abs(window.playback.track.duration - newest.duration) < 0.01, timeout=10_000)
    assert window.playback.playing


def test_export_current_take_as_mp3(qtbot, window, tmp_path):
    _generate(qtbot, window, "Export me as an MP3, please.")
    qtbot.waitUntil(lambda: window.history_panel._model.rowCount() == 1, timeout=60_000)
    dest = tmp_path / "take.mp3"
    window.exporter.choose_path = lambda _name: dest
    window.export_current()
    qtbot.waitUntil(lambda: "Exported take.mp3" in window.statusBar().currentMessage(), timeout=30_000)
    media = load_media(dest)
    saved = window.context.history.list()[0]
    assert abs(media.audio.size / media.sample_rate - saved.duration) < 0.1


def test_text_with_nothing_to_say_gives_a_plain_error(qtbot, window):
    _generate(qtbot, window, "... !!! ---")
    qtbot.waitUntil(lambda: bool(_messages(window)), timeout=30_000)
    box = _messages(window)[0]
    assert "nothing to say" in box.text().lower()
    assert window.context.history.count() == 0
    box.close()


def test_menu_bar_quick_speak_says_the_text(qtbot, window):
    from app.ui.tray import TrayController

    tray = TrayController(
        voice_choices=lambda: window.choices,
        speak=window.speak,
        show_window=window.show,
        quit_app=lambda: None,
        parent=window,
    )
    tray.show_popover()
    popover = tray.popover
    qtbot.keyClicks(popover.text, "Hello from the menu bar.")
    qtbot.keyClick(popover.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.context.history.count() == 1, timeout=60_000)
    assert window.context.history.list()[0].text == "Hello from the menu bar."


def test_closing_hides_to_the_menu_bar_when_it_can(qtbot, window):
    window.keep_running_in_menu_bar = True
    window.close()
    assert not window.isVisible()
    assert QApplication.instance() is not None
    assert Path(window.context.history.library.root).exists()


def test_regenerate_from_the_history_streams_a_new_take(qtbot, window):
    _generate(qtbot, window, "Say it once more.")
    qtbot.waitUntil(lambda: window.history_panel._model.rowCount() == 1, timeout=60_000)
    first = window.context.history.list()[0]
    window.history_panel.regenerateRequested.emit(first.id)
    qtbot.waitUntil(lambda: window.history_panel._model.rowCount() == 2, timeout=60_000)
    again = window.context.history.list()[0]
    assert again.params["regenerated_from"] == first.id and again.text == first.text
    assert window.playback.track.finished and abs(window.playback.track.duration - again.duration) < 0.01


def test_shift_ctrl_m_opens_the_models_window(window, qtbot):
    qtbot.keyClick(
        window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    dialog = window._models_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.select("xtts-v2")
    assert dialog.selected_id() == "xtts-v2"
    dialog.close()
    window.open_models()  # built once, kept: reopening shows the same window
    assert window._models_dialog is dialog and dialog.isVisible()
