"""The composition root: make the QApplication, the services, the window and the menu-bar icon, and run.

Only Qt and the library are touched at start-up; every engine loads on its first job, so the window is
up in about a second.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from app import __version__
from app.ui.context import AppContext
from app.ui.gc_guard import MainThreadCollector
from app.ui.main_window import MainWindow

logger = logging.getLogger(__name__)


@dataclass
class Running:
    """What :func:`build` made, kept together so nothing is garbage-collected while Qt uses it."""

    app: QApplication
    context: AppContext
    window: MainWindow
    tray: object | None
    narration: object | None = None


def _qapp(argv: Sequence[str]) -> QApplication:
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    QCoreApplication.setOrganizationName("Timbre")
    QCoreApplication.setApplicationName("Timbre")
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication(list(argv))
    app.setApplicationDisplayName("Timbre")
    app.setDesktopFileName("timbre")  # Wayland matches the window to the launcher (packaging/linux)
    return app


def build(argv: Sequence[str] = (), with_tray: bool = True) -> Running:
    """Everything the app needs, shown or not; the caller runs the event loop."""
    from app.ui.icons import app_icon
    from app.ui.theme import apply_theme
    from app.ui.window_state import restore_window_state

    app = _qapp(argv or sys.argv[:1])
    collector = MainThreadCollector(parent=app)
    collector.start()
    context = AppContext.create()
    apply_theme(app, context.settings.theme)
    app.setWindowIcon(app_icon())
    window = MainWindow(context)
    restore_window_state(window)
    from app.ui.narration import NarrationController

    narration = NarrationController(context, window.lane, dialog_parent=window, parent=window)
    tray = None
    if with_tray:
        from app.ui.tray import TrayController

        tray = TrayController(
            voice_choices=lambda: window.choices,
            speak=window.speak,
            show_window=lambda: _show(window),
            quit_app=app.quit,
            parent=window,
        )
        window.generation.busyChanged.connect(tray.set_busy)
        _global_shortcut(window, tray, context)
        if tray.available():
            tray.show()
            window.keep_running_in_menu_bar = True
            app.setQuitOnLastWindowClosed(False)
    wire_narration(window, tray, narration)
    window.quitRequested.connect(app.quit)
    app.aboutToQuit.connect(lambda: _shutdown(window, context, narration))
    return Running(app, context, window, tray, narration)


def wire_narration(window: MainWindow, tray: Any, narration: Any) -> None:
    """The narration toggle in the Speech menu and the tray menu; its tooltip on the tray icon; its errors
    in a message box while the window is up, else as a note from the menu bar."""
    window.add_narration(narration)
    if tray is not None:
        tray.add_narration(narration.actions)
        narration.runningChanged.connect(lambda _on: tray.set_narrating(narration.status))

    def show_error(message: str) -> None:
        if window.isVisible() or tray is None or not tray.icon.isVisible():
            window.show_error(message)
        else:
            tray.notify(message)
        window.statusBar().showMessage(message, 10_000)

    narration.errorRaised.connect(show_error)


def _global_shortcut(window: MainWindow, tray: Any, context: AppContext) -> None:
    """The preference's system-wide shortcut opens Quick Speak; re-registered when settings change."""
    from app.ui.hotkey import GlobalHotkey

    hotkey = GlobalHotkey(window)
    hotkey.activated.connect(tray.show_popover)

    def apply(settings: Any) -> None:
        ok, why = hotkey.register(settings.hotkey)
        if not ok:
            window.statusBar().showMessage(f"The global shortcut {settings.hotkey} is off: {why}", 10_000)

    apply(context.settings)
    window.settingsApplied.connect(apply)


def _show(window: MainWindow) -> None:
    window.show()
    window.raise_()
    window.activateWindow()


def _shutdown(window: MainWindow, context: AppContext, narration: Any = None) -> None:
    from app.ui.window_state import save_window_state

    if window.isVisible():
        save_window_state(window)
    if narration is not None:
        narration.shutdown()  # first: its lane jobs stop before the lane is drained; waits 2 s at most
    window.shutdown()
    context.close()


def run(argv: Sequence[str] = ()) -> int:
    """Start Timbre's window and run until the user quits."""
    running = build(argv)
    running.window.show()
    return running.app.exec()


def process_age() -> float:
    """Seconds since this process started (from the OS, so it includes the interpreter's start-up)."""
    import time

    import psutil

    return time.time() - psutil.Process().create_time()


def smoke_test(argv: Sequence[str] = ()) -> float:
    """Show the window, wait until it is really on screen, then quit; returns seconds since start-up."""
    from PySide6.QtCore import QTimer

    running = build(argv, with_tray=False)
    window = running.window
    shown: list[float] = []

    def check() -> None:
        handle = window.windowHandle()
        if handle is not None and handle.isExposed():
            shown.append(process_age())
            window.keep_running_in_menu_bar = False
            window.close()
            running.app.quit()
        else:
            QTimer.singleShot(5, check)

    window.show()
    QTimer.singleShot(0, check)
    running.app.exec()
    return shown[0] if shown else float("nan")
