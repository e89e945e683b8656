"""Where the main window was, and how its splitters and docks were arranged, kept between runs.

This lives in its own INI file beside the library (``window.ini``), never in the preferences file: it
changes every time the window moves, it is Qt's binary state, and losing it costs nothing. A damaged
file or a geometry saved on a screen that is no longer attached must never leave the window invisible,
so a restored window that lies off every screen is centred on the primary screen instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QWidget

from app import paths

logger = logging.getLogger(__name__)

_GEOMETRY = "window/geometry"
_STATE = "window/state"
_EXTRA = "extra"


def window_state_file() -> Path:
    """The INI file holding window geometry and layout (not preferences)."""
    return paths.data_dir() / "window.ini"


def _store() -> QSettings:
    store = QSettings(str(window_state_file()), QSettings.Format.IniFormat)
    store.allKeys()  # the file is parsed lazily; status() only knows after a first read
    if store.status() == QSettings.Status.FormatError:
        # QSettings never overwrites a file it could not parse, and a damaged layout is worth nothing.
        logger.info("Discarding unreadable window state %s", window_state_file())
        del store
        try:
            window_state_file().unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("Could not remove %s: %s", window_state_file(), exc)
        store = QSettings(str(window_state_file()), QSettings.Format.IniFormat)
    return store


def _bytes(value: object) -> QByteArray | None:
    if isinstance(value, QByteArray):
        return value if not value.isEmpty() else None
    if isinstance(value, bytes | bytearray) and value:
        return QByteArray(bytes(value))
    return None


def save_window_state(window: QMainWindow, extra: dict[str, QByteArray] | None = None) -> bool:
    """Remember ``window``'s geometry and dock/toolbar state, plus any ``extra`` named states (splitters).

    Returns False (after logging why) when the file could not be written; that is never worth an error.
    """
    try:
        window_state_file().parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        logger.warning("Window state not saved: %s", exc)
        return False
    store = _store()
    store.setValue(_GEOMETRY, window.saveGeometry())
    store.setValue(_STATE, window.saveState())
    for name, state in (extra or {}).items():
        store.setValue(f"{_EXTRA}/{name}", state)
    store.sync()
    if store.status() != QSettings.Status.NoError:
        logger.warning("Window state not saved to %s: %s", window_state_file(), store.status())
        return False
    return True


def saved_extra_state() -> dict[str, QByteArray]:
    """The named states saved with ``extra`` (for example a splitter's ``saveState()``)."""
    store = _store()
    store.beginGroup(_EXTRA)
    found = {}
    for name in store.childKeys():
        state = _bytes(store.value(name))
        if state is not None:
            found[name] = state
    store.endGroup()
    return found


def restore_window_state(
    window: QMainWindow, extra: dict[str, Callable[[QByteArray], object]] | None = None
) -> bool:
    """Put ``window`` back where it was; True if a saved geometry was used.

    ``extra`` maps the names given to :func:`save_window_state` to restorers (``splitter.restoreState``).
    Without a usable saved geometry, or when it lies off every screen, the window is centred instead.
    """
    store = _store()
    restored = False
    geometry = _bytes(store.value(_GEOMETRY))
    if geometry is not None:
        restored = window.restoreGeometry(geometry)
    state = _bytes(store.value(_STATE))
    if state is not None and not window.restoreState(state):
        logger.info("Ignoring a dock layout this version cannot read")
    for name, state in saved_extra_state().items():
        restorer = (extra or {}).get(name)
        if restorer is not None:
            restorer(state)
    if not restored or not is_on_screen(window.frameGeometry()):
        if restored:
            logger.info("Saved window position is off every screen; centring the window")
        centre_on_screen(window)
    return restored


def is_on_screen(rect: QRect) -> bool:
    """Whether enough of ``rect`` shows on some attached screen to grab its title bar."""
    for screen in QGuiApplication.screens():
        visible = screen.availableGeometry().intersected(rect)
        if visible.width() >= min(100, rect.width()) and visible.height() >= min(40, rect.height()):
            return True
    return False


def centre_on_screen(window: QWidget) -> None:
    """Centre ``window`` on the primary screen, shrinking it to fit when the screen is smaller."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return
    available = screen.availableGeometry()
    size = window.size().boundedTo(available.size())
    window.resize(size)
    frame = window.frameGeometry()
    frame.moveCenter(available.center())
    window.move(frame.topLeft())
