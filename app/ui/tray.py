"""Timbre in the menu bar: a Quick Speak popover and a menu (Quick Speak…, Speak Clipboard, the narration
items the app adds, Show Timbre, Quit Timbre), so speaking a line never needs the main window.

The controller works through four callables the app hands it (voice choices, speak, show window, quit),
so it knows nothing about engines or windows. Everything here is constructible where there is no system
tray (the offscreen test platform, some Linux desktops): only the icon itself is then left out.

On macOS a tray icon with a context menu opens that menu on every click, which would leave no click for
the popover; there the menu opens on a right-click instead (and from the popover's ⋯ button everywhere).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCursor, QGuiApplication, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSystemTrayIcon,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.icons import app_icon, tray_icon
from app.ui.widgets.voice_picker import VoiceChoice, VoicePicker

logger = logging.getLogger(__name__)

MAC = sys.platform == "darwin"
SPEAK_KEYS = "⌘↩" if MAC else "Ctrl+Enter"
GAP = 6
"""Pixels between the menu-bar icon (or the pointer) and the popover."""
REOPEN_GUARD_S = 0.3
"""A click on the icon first closes an open popup (a click outside it), then arrives as a toggle: within
this long of the popover closing, that click means "close", not "open again"."""


def popover_position(size: QSize, screen: QRect, anchor: QRect | None, cursor: QPoint) -> QPoint:
    """Where the popover's top-left goes: centred under the tray icon (above it when the tray is at the
    bottom of the screen) or under the pointer when the icon's place is unknown, kept on ``screen``."""
    if anchor is not None and anchor.isValid() and not anchor.isEmpty():
        x = anchor.center().x() - size.width() // 2
        below = anchor.center().y() < screen.center().y()
        y = anchor.bottom() + GAP if below else anchor.top() - GAP - size.height()
    else:
        x = cursor.x() - size.width() // 2
        y = cursor.y() + GAP
    x = max(screen.left(), min(x, screen.right() - size.width() + 1))
    y = max(screen.top(), min(y, screen.bottom() - size.height() + 1))
    return QPoint(x, y)


class QuickSpeakPopover(QWidget):
    """Text, a voice and Speak. ⌘↩ (Ctrl+Enter) speaks, Escape closes."""

    speakRequested = Signal(str, object)  # noqa: N815 - text, VoiceChoice | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setWindowTitle("Quick Speak")
        self.setAccessibleName("Quick Speak")
        self.closed_at = 0.0

        title = QLabel("Quick Speak", self)
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.status_label = QLabel("Speaking…", self)
        self.status_label.setForegroundRole(QPalette.ColorRole.Highlight)
        self.status_label.setAccessibleName("Status")
        self.status_label.hide()
        self.menu_button = QToolButton(self)
        self.menu_button.setText("⋯")
        self.menu_button.setAutoRaise(True)
        self.menu_button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setToolTip("More: speak the clipboard, show Timbre, quit")
        self.menu_button.setAccessibleName("More")
        self.menu_button.hide()  # until the controller hands over its menu

        self.text = QPlainTextEdit(self)
        self.text.setPlaceholderText(f"Type or paste something to hear it — {SPEAK_KEYS} speaks")
        self.text.setAccessibleName("Text to speak")
        self.text.setTabChangesFocus(True)
        lines = self.text.fontMetrics().lineSpacing()
        self.text.setFixedHeight(lines * 4 + 14)

        self.picker = VoicePicker(self)
        self.speak_button = QPushButton("Speak", self)
        self.speak_button.setDefault(True)
        self.speak_button.setToolTip(f"Speak this text ({SPEAK_KEYS})")
        self.speak_button.setAccessibleName("Speak")
        self.speak_button.setEnabled(False)

        top = QHBoxLayout()
        top.setSpacing(6)
        icon = QLabel(self)
        icon.setPixmap(app_icon().pixmap(18, 18))
        top.addWidget(icon)
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.status_label)
        top.addWidget(self.menu_button)
        bottom = QHBoxLayout()
        bottom.setSpacing(8)
        bottom.addWidget(self.picker, 1)
        bottom.addWidget(self.speak_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.text)
        layout.addLayout(bottom)
        self.setFixedWidth(380)

        self.text.textChanged.connect(self._update_button)
        self.speak_button.clicked.connect(self.speak)
        for widget in (self, self.text, self.picker, self.picker.lineEdit(), self.speak_button):
            widget.installEventFilter(self)

    def set_menu(self, menu: QMenu) -> None:
        self.menu_button.setMenu(menu)
        self.menu_button.show()

    def set_choices(self, choices: list[VoiceChoice]) -> None:
        self.picker.set_choices(choices)

    def set_busy(self, busy: bool) -> None:
        self.status_label.setVisible(busy)

    def speak(self) -> None:
        """Hand the text and voice over and close; nothing happens while the text is empty."""
        text = self.text.toPlainText().strip()
        if not text:
            return
        self.speakRequested.emit(text, self.picker.current())
        self.close()

    def prepare(self) -> None:
        """Ready for typing: the caret in the text, any earlier text selected so typing replaces it."""
        self.text.setFocus(Qt.FocusReason.PopupFocusReason)
        self.text.selectAll()

    def _update_button(self) -> None:
        self.speak_button.setEnabled(bool(self.text.toPlainText().strip()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier
            ):
                self.speak()
                return True
            completing = self.picker.completer() is not None and self.picker.completer().popup().isVisible()
            if key == Qt.Key.Key_Escape and not completing and not self.picker.view().isVisible():
                self.close()
                return True
        return super().eventFilter(watched, event)

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        # A popup has no window frame on every platform; a hairline keeps it apart from what lies below.
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()

    def hideEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.closed_at = time.monotonic()
        super().hideEvent(event)


class TrayController(QObject):
    """The menu-bar icon, its menu and the Quick Speak popover; :meth:`show` puts the icon up."""

    messageShown = Signal(str)  # noqa: N815 - every note shown from the tray, for logs and tests

    def __init__(
        self,
        voice_choices: Callable[[], list[VoiceChoice]],
        speak: Callable[[str, VoiceChoice | None], None],
        show_window: Callable[[], None],
        quit_app: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._voice_choices = voice_choices
        self._speak = speak

        self.menu = QMenu()
        self.menu.setAccessibleName("Timbre")
        self.quick_speak_action = self.menu.addAction("Quick Speak…", self.show_popover)
        self.clipboard_action = self.menu.addAction("Speak Clipboard", self.speak_clipboard)
        self._narration_at = self.menu.addSeparator()  # the narration items go here (add_narration)
        self.show_action = self.menu.addAction("Show Timbre", show_window)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("Quit Timbre", quit_app)
        self.quick_speak_action.setToolTip("Type a line and hear it, without the main window")
        self.clipboard_action.setToolTip("Speak the text on the clipboard with the Quick Speak voice")

        self.popover = QuickSpeakPopover()
        self.popover.set_menu(self.menu)
        self.popover.speakRequested.connect(self._on_speak)

        self._busy = False
        self._narrating = ""
        self.icon = QSystemTrayIcon(tray_icon(), self)
        self.icon.setToolTip("Timbre")
        self.icon.activated.connect(self._on_activated)
        if not MAC:
            self.icon.setContextMenu(self.menu)

    @staticmethod
    def available() -> bool:
        """Whether this desktop has a menu bar / system tray to put the icon in."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        """Put the icon in the menu bar (nothing where :meth:`available` is False)."""
        if self.available():
            self.icon.show()
        else:
            logger.info("No system tray here; Quick Speak stays reachable from the app")

    def hide(self) -> None:
        self.icon.hide()
        self.popover.close()

    def show_popover(self) -> None:
        self.popover.set_choices(self._voice_choices())
        self.popover.adjustSize()
        screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
        anchor = self.icon.geometry() if self.icon.isVisible() else None
        area = screen.availableGeometry() if screen is not None else QRect(0, 0, 1440, 900)
        self.popover.move(popover_position(self.popover.size(), area, anchor, QCursor.pos()))
        self.popover.show()
        self.popover.raise_()
        self.popover.activateWindow()
        self.popover.prepare()

    def toggle_popover(self) -> None:
        if self.popover.isVisible():
            self.popover.close()
        elif time.monotonic() - self.popover.closed_at > REOPEN_GUARD_S:
            self.show_popover()

    def speak_clipboard(self) -> None:
        text = QGuiApplication.clipboard().text().strip()
        if not text:
            self.notify("The clipboard has no text.")
            return
        # The Quick Speak voice doubles as the clipboard's, so one choice covers both.
        self.popover.set_choices(self._voice_choices())
        self._speak(text, self.popover.picker.current())

    def set_busy(self, busy: bool) -> None:
        self.popover.set_busy(busy)
        self._busy = busy
        self._update_tooltip()

    def add_narration(self, actions: list[QAction]) -> None:
        """Put the narration items (Narrate Agent Output, Choose Stream File…, Interrupt on New Message)
        in the menu, in their own group above Show Timbre."""
        for action in actions:
            self.menu.insertAction(self._narration_at, action)
        self.menu.insertSeparator(actions[0])

    def set_narrating(self, status: str) -> None:
        """``Narrating <file>`` while narration is on (shown in the icon's tooltip), else empty."""
        self._narrating = status
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        notes = [note for note in (self._narrating, "speaking…" if self._busy else "") if note]
        self.icon.setToolTip("Timbre — " + " · ".join(notes) if notes else "Timbre")

    def notify(self, message: str) -> None:
        """A short note from the menu bar (a notification where the tray supports them)."""
        self.messageShown.emit(message)
        if self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage("Timbre", message, app_icon(), 4000)
        else:
            logger.info("%s", message)

    def _on_speak(self, text: str, choice: VoiceChoice | None) -> None:
        self._speak(text, choice)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_popover()
        elif reason == QSystemTrayIcon.ActivationReason.Context and MAC:
            self.menu.popup(QCursor.pos())
