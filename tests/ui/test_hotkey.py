"""The global shortcut: Qt key text to Carbon codes (everywhere), and a plain answer where there is none."""

from __future__ import annotations

import sys

import pytest

from app.ui.hotkey import CMD, CONTROL, OPTION, SHIFT, GlobalHotkey, HotkeyError, carbon_hotkey


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ctrl+Alt+Space", (0x31, CMD | OPTION)),
        ("Meta+Shift+K", (0x28, CONTROL | SHIFT)),
        ("Ctrl+Shift+A", (0x00, CMD | SHIFT)),
        ("Alt+F5", (0x60, OPTION)),
        ("Ctrl+9", (0x19, CMD)),
    ],
)
def test_qt_key_text_becomes_carbon_codes(text, expected):
    assert carbon_hotkey(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty"), ("K", "at least one"), ("Ctrl+Hyper+K", "not a modifier"), ("Ctrl+Ä", "cannot be used")],
)
def test_impossible_shortcuts_are_refused_in_words(text, reason):
    with pytest.raises(HotkeyError, match=reason):
        carbon_hotkey(text)


@pytest.mark.skipif(sys.platform == "darwin", reason="the refusal is for systems without global shortcuts")
def test_elsewhere_registering_says_why_and_off_is_always_fine(qtbot):
    hotkey = GlobalHotkey()
    assert hotkey.register("Ctrl+Alt+Space") == (False, "Global shortcuts are available on macOS only.")
    assert hotkey.register("") == (True, "")
    assert hotkey.sequence == ""
