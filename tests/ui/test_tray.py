"""The menu-bar tray: Quick Speak popover, Speak Clipboard, the menu, and where the popover goes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSystemTrayIcon

from app.ui import icons
from app.ui.tray import TrayController, popover_position
from app.ui.widgets.voice_picker import BUILT_IN, YOURS, VoiceChoice

CHOICES = [
    VoiceChoice("piper:joe", "Joe (US English, medium)", BUILT_IN, "piper", "joe", engine_name="Piper"),
    VoiceChoice(
        "kokoro:af_heart", "Heart (US English, female)", BUILT_IN, "kokoro", "af_heart", engine_name="Kokoro"
    ),
    VoiceChoice("profile:4", "Grandpa", YOURS, "kokoro", "bm_george", profile_id=4),
]


class Calls:
    def __init__(self) -> None:
        self.spoken: list[tuple[str, VoiceChoice | None]] = []
        self.shown = 0
        self.quits = 0

    def speak(self, text: str, choice: VoiceChoice | None) -> None:
        self.spoken.append((text, choice))

    def show(self) -> None:
        self.shown += 1

    def quit(self) -> None:
        self.quits += 1


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def tray(qtbot, calls) -> Iterator[TrayController]:
    tray = TrayController(lambda: list(CHOICES), calls.speak, calls.show, calls.quit)
    qtbot.addWidget(tray.popover)
    yield tray
    tray.popover.close()
    tray.icon.hide()
    QGuiApplication.clipboard().clear()


def test_the_popover_speaks_with_ctrl_return(qtbot, tray, calls) -> None:
    tray.show_popover()
    popover = tray.popover
    qtbot.waitUntil(popover.isVisible)
    assert [popover.picker.itemText(r) for r in range(popover.picker.count())][0] == BUILT_IN

    assert not popover.speak_button.isEnabled()
    qtbot.keyClick(popover.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert calls.spoken == []  # nothing typed yet: nothing to say
    assert popover.isVisible()

    qtbot.keyClicks(popover.text, "Hello from the menu bar.")
    assert popover.speak_button.isEnabled()
    qtbot.keyClick(popover.picker.lineEdit(), Qt.Key.Key_Down)  # Joe -> Heart
    assert popover.picker.current() == CHOICES[1]
    qtbot.keyClick(popover.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    assert calls.spoken == [("Hello from the menu bar.", CHOICES[1])]
    assert not popover.isVisible()


def test_the_speak_button_and_escape(qtbot, tray, calls) -> None:
    tray.show_popover()
    popover = tray.popover
    qtbot.keyClicks(popover.text, "Grandpa says hi")
    assert popover.picker.select("profile:4")
    qtbot.mouseClick(popover.speak_button, Qt.MouseButton.LeftButton)
    assert calls.spoken == [("Grandpa says hi", CHOICES[2])]
    assert not popover.isVisible()

    tray.show_popover()  # the voice stays; the old text is selected so typing replaces it
    assert popover.picker.current() == CHOICES[2]
    assert popover.text.textCursor().selectedText() == "Grandpa says hi"
    qtbot.keyClick(popover.text, Qt.Key.Key_Escape)
    assert not popover.isVisible()
    assert len(calls.spoken) == 1


def test_speak_clipboard(qtbot, tray, calls) -> None:
    notes: list[str] = []
    tray.messageShown.connect(notes.append)
    QGuiApplication.clipboard().setText("  Words from the clipboard.\n")
    tray.clipboard_action.trigger()
    assert calls.spoken == [("Words from the clipboard.", CHOICES[0])]
    assert notes == []

    QGuiApplication.clipboard().clear()
    tray.speak_clipboard()
    assert len(calls.spoken) == 1
    assert notes == ["The clipboard has no text."]


def test_menu_actions(qtbot, tray, calls) -> None:
    labels = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert labels == ["Quick Speak…", "Speak Clipboard", "Show Timbre", "Quit Timbre"]
    tray.show_action.trigger()
    tray.quit_action.trigger()
    assert (calls.shown, calls.quits) == (1, 1)
    tray.quick_speak_action.trigger()
    assert tray.popover.isVisible()
    assert tray.popover.menu_button.menu() is tray.menu


def test_a_click_on_the_icon_toggles_the_popover(qtbot, tray) -> None:
    assert TrayController.available() == QSystemTrayIcon.isSystemTrayAvailable()
    tray.show()
    assert tray.icon.isVisible() == TrayController.available()  # offscreen: no tray, yet all else works
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert tray.popover.isVisible()
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert not tray.popover.isVisible()
    # The click that closed it must not reopen it straight away (the icon's click is outside the popup).
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert not tray.popover.isVisible()
    qtbot.wait(350)
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert tray.popover.isVisible()


def test_busy_shows_speaking(qtbot, tray) -> None:
    tray.show_popover()
    assert not tray.popover.status_label.isVisible()
    tray.set_busy(True)
    assert tray.popover.status_label.isVisible()
    assert tray.popover.status_label.text() == "Speaking…"
    tray.set_busy(False)
    assert not tray.popover.status_label.isVisible()


def test_popover_position_stays_on_screen() -> None:
    screen = QRect(0, 25, 1440, 875)  # below a 25 px menu bar
    size = QSize(380, 160)
    # Under an icon near the right edge: pushed left so it fits, a few pixels below the menu bar.
    spot = popover_position(size, screen, QRect(1400, 0, 24, 24), QPoint(0, 0))
    assert spot == QPoint(1440 - 380, 23 + 6)
    # Under an icon in the middle: centred below it (QRect(700, 0, 24, 24).center().x() is 711).
    spot = popover_position(size, screen, QRect(700, 0, 24, 24), QPoint(0, 0))
    assert spot == QPoint(711 - 190, 23 + 6)
    # Off the top of the screen (a stale geometry): pulled down onto it.
    assert popover_position(size, screen, QRect(700, -200, 24, 24), QPoint(0, 0)).y() == 25
    # A tray at the bottom (Windows): above the icon, and never over the taskbar (outside the free area).
    spot = popover_position(size, QRect(0, 0, 1440, 860), QRect(700, 870, 24, 24), QPoint(0, 0))
    assert spot == QPoint(711 - 190, 860 - 160)
    spot = popover_position(size, QRect(0, 0, 1440, 900), QRect(700, 870, 24, 24), QPoint(0, 0))
    assert spot == QPoint(711 - 190, 870 - 6 - 160)
    # No icon geometry: under the pointer, clamped at the screen's left edge.
    assert popover_position(size, screen, None, QPoint(10, 400)) == QPoint(0, 406)


def test_rendering_and_icons(qtbot, tray) -> None:
    tray.show_popover()
    tray.popover.text.setPlainText("Hello")
    assert not tray.popover.grab().isNull()
    app, menu_bar = icons.app_icon(), icons.tray_icon()
    assert not app.isNull() and not app.pixmap(64, 64).isNull()
    assert menu_bar.isMask()
    image = menu_bar.pixmap(36, 36).toImage()
    pixels = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())]
    assert {(c.red(), c.green(), c.blue()) for c in pixels if c.alpha() > 0} == {(0, 0, 0)}  # black only
    assert sum(c.alpha() == 0 for c in pixels) > len(pixels) // 3  # on transparent
