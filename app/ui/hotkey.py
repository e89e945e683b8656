"""A global shortcut (macOS): a key combination that opens Quick Speak while another app is in front.

macOS delivers system-wide hot keys through Carbon's ``RegisterEventHotKey``, which needs no
accessibility permission; it is reached with ctypes, so nothing is added to the dependencies. Other
systems have no such API that works everywhere (Wayland has none at all), so there :meth:`register`
says why it cannot, in plain words. The translation from Qt's key text to Carbon's codes is plain
Python and is tested everywhere.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

logger = logging.getLogger(__name__)

# Carbon modifier bits (Events.h) and virtual key codes (kVK_* in HIToolbox/Events.h, US layout).
CMD, SHIFT, OPTION, CONTROL = 1 << 8, 1 << 9, 1 << 11, 1 << 12
MODIFIERS = {"ctrl": CMD, "meta": CONTROL, "alt": OPTION, "shift": SHIFT}
"""Qt's portable names on macOS: ``Ctrl`` is the Command key and ``Meta`` the Control key."""
_LETTERS = "ASDFHGZXCV_BQWERYT"
KEYS: dict[str, int] = {ch: code for code, ch in enumerate(_LETTERS) if ch != "_"}
KEYS.update({"O": 0x1F, "U": 0x20, "I": 0x22, "P": 0x23, "L": 0x25, "J": 0x26, "K": 0x28, "N": 0x2D})
KEYS.update({"M": 0x2E, "1": 0x12, "2": 0x13, "3": 0x14, "4": 0x15, "6": 0x16, "5": 0x17, "9": 0x19})
KEYS.update({"7": 0x1A, "8": 0x1C, "0": 0x1D, "SPACE": 0x31, "RETURN": 0x24, "TAB": 0x30, "ESC": 0x35})
KEYS.update({"F1": 0x7A, "F2": 0x78, "F3": 0x63, "F4": 0x76, "F5": 0x60, "F6": 0x61, "F7": 0x62})
KEYS.update({"F8": 0x64, "F9": 0x65, "F10": 0x6D, "F11": 0x67, "F12": 0x6F})
_SIGNATURE = int.from_bytes(b"Tmbr", "big")
_KEYBOARD_CLASS = int.from_bytes(b"keyb", "big")
_HOT_KEY_PRESSED = 5  # kEventHotKeyPressed


class HotkeyError(ValueError):
    """A key combination that cannot be a global shortcut; the message says why."""


def carbon_hotkey(portable: str) -> tuple[int, int]:
    """(virtual key code, modifier mask) for Qt portable text such as ``Ctrl+Alt+Space``."""
    parts = [p.strip() for p in portable.split("+")] if portable.strip() else []
    if portable.endswith("++"):  # "Ctrl++": the plus key itself is not on every layout's base level
        raise HotkeyError("The + key cannot be part of a global shortcut; choose another key.")
    if not parts:
        raise HotkeyError("The shortcut is empty.")
    *mods, key = parts
    mask = 0
    for mod in mods:
        bit = MODIFIERS.get(mod.lower())
        if bit is None:
            raise HotkeyError(f"{mod} is not a modifier key.")
        mask |= bit
    if not mask:
        raise HotkeyError(
            "A global shortcut needs at least one of ⌘, ⌥, ⌃ or ⇧, or it would take over a key."
        )
    code = KEYS.get(key.upper())
    if code is None:
        raise HotkeyError(
            f"{key} cannot be used in a global shortcut; use a letter, a digit, F1–F12 or Space."
        )
    return code, mask


class _EventHotKeyID(ctypes.Structure):
    _fields_ = [("signature", ctypes.c_uint32), ("id", ctypes.c_uint32)]


class _EventTypeSpec(ctypes.Structure):
    _fields_ = [("eventClass", ctypes.c_uint32), ("eventKind", ctypes.c_uint32)]


_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class GlobalHotkey(QObject):
    """One system-wide shortcut; ``activated`` fires on the main thread when it is pressed."""

    activated = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sequence = ""
        self._carbon: Any = None
        self._ref = ctypes.c_void_p()
        self._handler_ref = ctypes.c_void_p()
        self._callback: Any = None  # kept: Carbon holds only a raw pointer to it

    @staticmethod
    def supported() -> tuple[bool, str]:
        if sys.platform != "darwin":
            return False, "Global shortcuts are available on macOS only."
        return True, ""

    def register(self, portable: str) -> tuple[bool, str]:
        """Make ``portable`` the shortcut (empty turns it off); returns (done, why not)."""
        self.unregister()
        if not portable.strip():
            return True, ""
        ok, why = self.supported()
        if not ok:
            return False, why
        try:
            code, mask = carbon_hotkey(portable)
        except HotkeyError as exc:
            return False, str(exc)
        carbon = self._load()
        status = carbon.RegisterEventHotKey(
            code,
            mask,
            _EventHotKeyID(_SIGNATURE, 1),
            carbon.GetApplicationEventTarget(),
            0,
            ctypes.byref(self._ref),
        )
        if status != 0:
            return False, f"{portable} is already taken by another app (error {status}); choose another."
        self.sequence = portable
        logger.info("Global shortcut %s registered", portable)
        return True, ""

    def unregister(self) -> None:
        if self._carbon is not None and self._ref.value:
            self._carbon.UnregisterEventHotKey(self._ref)
            self._ref = ctypes.c_void_p()
        self.sequence = ""

    def _load(self) -> Any:
        if self._carbon is None:
            carbon = ctypes.cdll.LoadLibrary("/System/Library/Frameworks/Carbon.framework/Carbon")
            carbon.GetApplicationEventTarget.restype = ctypes.c_void_p
            carbon.RegisterEventHotKey.argtypes = [
                ctypes.c_uint32,
                ctypes.c_uint32,
                _EventHotKeyID,
                ctypes.c_void_p,
                ctypes.c_uint32,
                ctypes.POINTER(ctypes.c_void_p),
            ]
            carbon.UnregisterEventHotKey.argtypes = [ctypes.c_void_p]
            carbon.InstallEventHandler.argtypes = [
                ctypes.c_void_p,
                _HANDLER,
                ctypes.c_uint32,
                ctypes.POINTER(_EventTypeSpec),
                ctypes.c_void_p,
                ctypes.POINTER(ctypes.c_void_p),
            ]
            self._callback = _HANDLER(self._pressed)
            spec = _EventTypeSpec(_KEYBOARD_CLASS, _HOT_KEY_PRESSED)
            carbon.InstallEventHandler(
                carbon.GetApplicationEventTarget(),
                self._callback,
                1,
                ctypes.byref(spec),
                None,
                ctypes.byref(self._handler_ref),
            )
            self._carbon = carbon
        return self._carbon

    def _pressed(self, _call: Any, _event: Any, _data: Any) -> int:
        # Carbon calls this from the main run loop, which is Qt's: emitting here is on the GUI thread.
        self.activated.emit()
        return 0
