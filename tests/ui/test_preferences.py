"""Preferences dialog, theme and window state: real widgets, a real settings file under TIMBRE_HOME."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QWidget,
)

from app import paths, settings
from app.settings import Settings
from app.ui import theme, window_state
from app.ui.dialogs.preferences import PreferencesDialog


@dataclass(frozen=True)
class Choice:
    """Shaped like app.ui.widgets.voice_picker.VoiceChoice, as far as the dialog cares."""

    key: str
    label: str
    engine: str
    voice: str


CHOICES = [
    Choice("piper:joe", "Joe (Piper)", "piper", "joe"),
    Choice("kokoro:af_heart", "Heart (Kokoro)", "kokoro", "af_heart"),
    Choice("kokoro:am_adam", "Adam (Kokoro)", "kokoro", "am_adam"),
]
ENGINES = [("piper", "Piper"), ("kokoro", "Kokoro")]


def _dialog(qtbot, prefs: Settings, choices=CHOICES) -> PreferencesDialog:
    dialog = PreferencesDialog(prefs, choices, ENGINES)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _click(qtbot, dialog: PreferencesDialog, which: QDialogButtonBox.StandardButton) -> None:
    qtbot.mouseClick(dialog.buttons.button(which), Qt.MouseButton.LeftButton)


# --- the dialog ------------------------------------------------------------------------------------------
def test_dialog_shows_the_settings_it_was_given(qtbot):
    prefs = Settings(
        default_engine="kokoro",
        default_voice="af_heart",
        speed=1.2,
        output_format="flac",
        output_folder="/tmp/exports",
        loudness_target=-20.0,
        normalise_exports=False,
        hotkey="Ctrl+Alt+Space",
        theme="dark",
        play_while_generating=False,
    )
    dialog = _dialog(qtbot, prefs)
    assert dialog.engine.currentText() == "Kokoro"
    assert dialog.voice.currentText() == "Heart (Kokoro)"
    assert dialog.speed.value() == pytest.approx(1.2)
    assert dialog.output_format.currentData() == "flac"
    assert dialog.output_folder.text() == "/tmp/exports"
    assert dialog.loudness.value() == -20.0 and not dialog.loudness.isEnabled()
    assert not dialog.normalise.isChecked()
    assert dialog.hotkey.keySequence() == QKeySequence("Ctrl+Alt+Space")
    assert dialog.theme.currentData() == "dark"
    assert not dialog.play_while_generating.isChecked()
    assert dialog.result_settings() == prefs  # nothing touched, nothing changed
    assert all(w.accessibleName() for w in (dialog.engine, dialog.voice, dialog.speed, dialog.hotkey))


def test_ok_saves_the_edits_and_tells_the_app(qtbot, timbre_home, tmp_path, monkeypatch):
    dialog = _dialog(qtbot, Settings(hotkey="Ctrl+Alt+Space"))
    assert dialog.voice.currentText() == "The engine's default voice"

    dialog.voice.setCurrentIndex(dialog.voice.findText("Adam (Kokoro)"))
    assert dialog.engine.currentData() == "kokoro", "a voice brings its engine along"
    dialog.speed.clear()
    qtbot.keyClicks(dialog.speed, "1.5")
    qtbot.keyClicks(dialog.output_folder, str(tmp_path / "Exports"))
    dialog.output_format.setCurrentIndex(dialog.output_format.findData("mp3"))
    dialog.loudness.setValue(-23.0)
    qtbot.mouseClick(dialog.play_while_generating, Qt.MouseButton.LeftButton)
    dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
    models = tmp_path / "Weights"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(models))
    qtbot.mouseClick(dialog.models_folder_button, Qt.MouseButton.LeftButton)
    assert dialog.models_folder.text() == str(models)

    with qtbot.waitSignal(dialog.settingsChanged, timeout=2000) as signal:
        _click(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    expected = Settings(
        default_engine="kokoro",
        default_voice="am_adam",
        speed=1.5,
        output_folder=str(tmp_path / "Exports"),
        output_format="mp3",
        loudness_target=-23.0,
        normalise_exports=True,
        models_folder=str(models),
        hotkey="Ctrl+Alt+Space",
        theme="light",
        play_while_generating=False,
    )
    assert signal.args == [expected]
    assert paths.settings_file().parent == timbre_home
    assert settings.load() == expected
    assert not dialog.isVisible()


def test_cancel_leaves_the_file_untouched(qtbot):
    before = Settings(default_voice="joe", default_engine="piper", theme="dark")
    settings.save(before)
    written = paths.settings_file().read_bytes()
    dialog = _dialog(qtbot, before)
    fired = []
    dialog.settingsChanged.connect(fired.append)
    dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
    dialog.output_format.setCurrentIndex(dialog.output_format.findData("m4a"))
    qtbot.keyClicks(dialog.output_folder, "/somewhere/else")
    _click(qtbot, dialog, QDialogButtonBox.StandardButton.Cancel)
    assert not dialog.isVisible()
    assert paths.settings_file().read_bytes() == written
    assert fired == []


def test_escape_cancels_without_writing_a_file(qtbot):
    dialog = _dialog(qtbot, Settings())
    dialog.speed.setValue(0.7)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert not paths.settings_file().exists()


def test_normalise_checkbox_enables_the_loudness_target(qtbot):
    dialog = _dialog(qtbot, Settings())
    assert dialog.normalise.isChecked() and dialog.loudness.isEnabled()
    qtbot.mouseClick(dialog.normalise, Qt.MouseButton.LeftButton)
    assert not dialog.loudness.isEnabled()
    assert dialog.result_settings().normalise_exports is False
    assert dialog.loudness.minimum() == -30.0 and dialog.loudness.maximum() == -5.0


def test_picking_another_engine_drops_a_voice_it_does_not_own(qtbot):
    dialog = _dialog(qtbot, Settings(default_engine="kokoro", default_voice="af_heart"))
    dialog.engine.setCurrentIndex(dialog.engine.findData("piper"))
    assert dialog.voice.currentIndex() == 0
    result = dialog.result_settings()
    assert (result.default_engine, result.default_voice) == ("piper", "")


def test_a_voice_that_is_not_offered_now_is_kept(qtbot):
    dialog = _dialog(qtbot, Settings(default_engine="kokoro", default_voice="bf_missing"))
    assert dialog.voice.currentText() == "bf_missing (not available)"
    assert dialog.result_settings().default_voice == "bf_missing"


def test_choices_without_engine_are_stored_by_key(qtbot):
    plain = [SimpleNamespace(key="profile:7", label="My voice")]
    dialog = _dialog(qtbot, Settings(), plain)
    dialog.voice.setCurrentIndex(dialog.voice.findText("My voice"))
    assert dialog.result_settings().default_voice == "profile:7"
    reopened = _dialog(qtbot, dialog.result_settings(), plain)
    assert reopened.voice.currentText() == "My voice"


def test_hotkey_is_macos_only(qtbot):
    dialog = _dialog(qtbot, Settings(hotkey="Ctrl+Alt+Space"))
    mac = sys.platform == "darwin"
    assert dialog.hotkey.isEnabled() is mac
    assert ("macOS only" in dialog.hotkey_note.text()) is not mac
    dialog.hotkey.setKeySequence(QKeySequence("Ctrl+Shift+K"))
    assert dialog.result_settings().hotkey == "Ctrl+Shift+K"


def test_models_folder_says_it_needs_a_restart(qtbot):
    dialog = _dialog(qtbot, Settings())
    notes = [label.text() for label in dialog.findChildren(QLabel)]
    assert any("next time Timbre starts" in text for text in notes)


def test_a_failed_save_keeps_the_dialog_open_with_a_plain_reason(qtbot, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.setenv("TIMBRE_HOME", str(blocker / "home"))
    dialog = _dialog(qtbot, Settings())
    fired = []
    dialog.settingsChanged.connect(fired.append)
    _click(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    qtbot.waitUntil(lambda: dialog.findChild(QMessageBox) is not None, timeout=2000)
    box = dialog.findChild(QMessageBox)
    assert "could not be written" in box.text() or "does not exist" in box.text()
    assert dialog.isVisible() and fired == []
    box.close()


# --- theme ---------------------------------------------------------------------------------------------
@pytest.fixture
def app_look(qtbot):
    """Put the application's style, palette and colour scheme back as they were."""
    app = QApplication.instance()
    style, palette = app.style().name(), QPalette(app.palette())
    yield app
    app.setProperty("timbreTheme", None)
    app.styleHints().unsetColorScheme()
    app.setStyle(style)
    app.setPalette(palette)


def _lightness(widget: QWidget, role: QPalette.ColorRole) -> int:
    return widget.palette().color(role).lightness()


def test_dark_and_light_palettes(qtbot, app_look):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    window_role, text_role, base_role = (
        QPalette.ColorRole.Window,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Base,
    )
    for _ in range(2):  # back and forth, twice
        theme.apply_theme(app_look, "dark")
        assert theme.is_dark(app_look) and theme.current_theme(app_look) == "dark"
        # The application palette changes at once; shown widgets pick it up from a posted event.
        qtbot.waitUntil(lambda: _lightness(window, window_role) < 100, timeout=2000)
        assert _lightness(window, text_role) > 155
        assert _lightness(window, base_role) < 100

        theme.apply_theme(app_look, "light")
        assert not theme.is_dark(app_look) and theme.current_theme(app_look) == "light"
        qtbot.waitUntil(lambda: _lightness(window, window_role) > 155, timeout=2000)
        assert _lightness(window, text_role) < 100
        assert _lightness(window, base_role) > 155


def test_palettes_keep_text_readable_in_every_group():
    for palette, dark in ((theme.dark_palette(), True), (theme.light_palette(), False)):
        for role_bg, role_fg in (
            (QPalette.ColorRole.Window, QPalette.ColorRole.WindowText),
            (QPalette.ColorRole.Base, QPalette.ColorRole.Text),
            (QPalette.ColorRole.Button, QPalette.ColorRole.ButtonText),
            (QPalette.ColorRole.Highlight, QPalette.ColorRole.HighlightedText),
        ):
            bg = palette.color(QPalette.ColorGroup.Active, role_bg).lightness()
            fg = palette.color(QPalette.ColorGroup.Active, role_fg).lightness()
            assert abs(fg - bg) > 90, (dark, role_bg)
        disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        assert disabled != palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text)


def test_system_follows_the_os_scheme_and_its_changes(qtbot, app_look):
    theme.apply_theme(app_look, "system")
    os_dark = app_look.styleHints().colorScheme() == Qt.ColorScheme.Dark
    assert theme.is_dark(app_look) is os_dark
    # A stale palette is corrected when the OS says its scheme changed.
    app_look.setPalette(theme.light_palette() if os_dark else theme.dark_palette())
    app_look.styleHints().colorSchemeChanged.emit(app_look.styleHints().colorScheme())
    assert theme.is_dark(app_look) is os_dark
    # A forced theme ignores the OS.
    theme.apply_theme(app_look, "light" if os_dark else "dark")
    app_look.styleHints().colorSchemeChanged.emit(app_look.styleHints().colorScheme())
    assert theme.is_dark(app_look) is not os_dark


def test_unknown_theme_follows_the_system(qtbot, app_look):
    theme.apply_theme(app_look, "neon")
    assert theme.current_theme(app_look) == "system"


# --- window state --------------------------------------------------------------------------------------
def _window(qtbot) -> tuple[QMainWindow, QSplitter]:
    window = QMainWindow()
    splitter = QSplitter()
    splitter.addWidget(QLabel("left"))
    splitter.addWidget(QLabel("right"))
    window.setCentralWidget(splitter)
    qtbot.addWidget(window)
    return window, splitter


def test_window_state_round_trip_is_kept_apart_from_preferences(qtbot, timbre_home):
    window, splitter = _window(qtbot)
    window.resize(620, 410)
    window.show()
    splitter.setSizes([150, 450])
    qtbot.waitUntil(lambda: window.size().width() == 620)
    sizes = splitter.sizes()
    assert window_state.save_window_state(window, extra={"main": splitter.saveState()})
    assert window_state.window_state_file() == timbre_home / "window.ini"
    assert not paths.settings_file().exists()

    again, again_splitter = _window(qtbot)
    again.resize(300, 200)
    assert window_state.restore_window_state(again, extra={"main": again_splitter.restoreState})
    assert (again.width(), again.height()) == (620, 410)
    again.show()
    assert again_splitter.sizes() == sizes
    assert set(window_state.saved_extra_state()) == {"main"}


def test_no_saved_state_centres_the_window(qtbot):
    window, _ = _window(qtbot)
    window.resize(400, 300)
    assert window_state.restore_window_state(window) is False
    screen = QApplication.primaryScreen().availableGeometry()
    assert abs(window.frameGeometry().center().x() - screen.center().x()) <= 2
    assert (window.width(), window.height()) == (400, 300)


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe garbage \x89PNG",
        b"[window]\ngeometry=@ByteArray(not a geometry)\nstate=12\n",
        b"[window]\ngeometry=\n[extra]\nmain=@ByteArray()\n",
    ],
)
def test_a_corrupt_state_file_does_not_crash(qtbot, content):
    file = window_state.window_state_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(content)
    window, splitter = _window(qtbot)
    window.resize(500, 300)
    restored = window_state.restore_window_state(window, extra={"main": splitter.restoreState})
    assert restored is False
    assert window_state.is_on_screen(window.frameGeometry())
    assert window_state.save_window_state(window), "a damaged file is simply overwritten"


def test_a_window_saved_off_screen_comes_back_on_screen(qtbot):
    window, _ = _window(qtbot)
    window.resize(400, 300)
    window.show()
    window.move(9000, 7000)
    qtbot.waitUntil(lambda: window.x() > 5000)
    assert not window_state.is_on_screen(window.frameGeometry())
    window_state.save_window_state(window)

    again, _ = _window(qtbot)
    window_state.restore_window_state(again)
    again.show()
    assert window_state.is_on_screen(again.frameGeometry())
    assert (again.width(), again.height()) == (400, 300)


def test_settings_dataclass_fields_all_have_a_widget(qtbot):
    """Every preference can be edited: changing each field in code changes the dialog's result."""
    dialog = _dialog(qtbot, Settings())
    edited = dataclasses.replace(
        Settings(),
        default_engine="piper",
        default_voice="joe",
        speed=0.8,
        output_format="flac",
        output_folder="/x",
        loudness_target=-18.0,
        normalise_exports=False,
        models_folder="/m",
        hotkey="Meta+K",
        theme="dark",
        play_while_generating=False,
    )
    other = _dialog(qtbot, edited)
    assert other.result_settings() == edited
    assert dialog.result_settings() == Settings()
