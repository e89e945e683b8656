"""Light and dark appearance: follow the system, or force one, on macOS and Linux alike.

macOS's native style follows the system appearance by itself, and Qt 6.8+ can force it with
``QStyleHints.setColorScheme``. Linux styles rarely follow a dark desktop, so there Timbre uses Fusion
with a palette of its own. Widgets should draw with ``palette()`` roles so both palettes read well.
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

logger = logging.getLogger(__name__)

THEMES = ("system", "light", "dark")
ACCENT_LIGHT = QColor("#007aff")
"""macOS's system blue; it reads on both palettes (a lighter variant is used on dark)."""
ACCENT_DARK = QColor("#0a84ff")

_THEME_PROPERTY = "timbreTheme"
_CONNECTED_PROPERTY = "timbreThemeConnected"
_applying = False


def _is_mac() -> bool:
    return sys.platform == "darwin"


def _fill(
    palette: QPalette, colours: dict[QPalette.ColorRole, str], disabled: dict[QPalette.ColorRole, str]
) -> QPalette:
    for role, colour in colours.items():
        palette.setColor(QPalette.ColorGroup.All, role, QColor(colour))
    for role, colour in disabled.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


def dark_palette() -> QPalette:
    """A dark palette in the spirit of macOS dark mode, for Fusion."""
    role = QPalette.ColorRole
    return _fill(
        QPalette(),
        {
            role.Window: "#262628",
            role.WindowText: "#e8e8ea",
            role.Base: "#1c1c1e",
            role.AlternateBase: "#2a2a2d",
            role.ToolTipBase: "#3a3a3c",
            role.ToolTipText: "#f2f2f4",
            role.PlaceholderText: "#8e8e93",
            role.Text: "#e8e8ea",
            role.Button: "#333336",
            role.ButtonText: "#e8e8ea",
            role.BrightText: "#ff453a",
            role.Light: "#4a4a4e",
            role.Midlight: "#3c3c40",
            role.Mid: "#2c2c2f",
            role.Dark: "#161618",
            role.Shadow: "#000000",
            role.Highlight: ACCENT_DARK.name(),
            role.HighlightedText: "#ffffff",
            role.Link: "#4aa8ff",
            role.LinkVisited: "#bf8cff",
            role.Accent: ACCENT_DARK.name(),
        },
        {
            role.WindowText: "#6e6e73",
            role.Text: "#6e6e73",
            role.ButtonText: "#6e6e73",
            role.Highlight: "#3a3a3c",
            role.HighlightedText: "#8e8e93",
        },
    )


def light_palette() -> QPalette:
    """A light palette matching the dark one's roles, for Fusion."""
    role = QPalette.ColorRole
    return _fill(
        QPalette(),
        {
            role.Window: "#ececec",
            role.WindowText: "#1d1d1f",
            role.Base: "#ffffff",
            role.AlternateBase: "#f5f5f7",
            role.ToolTipBase: "#ffffe8",
            role.ToolTipText: "#1d1d1f",
            role.PlaceholderText: "#8e8e93",
            role.Text: "#1d1d1f",
            role.Button: "#f6f6f6",
            role.ButtonText: "#1d1d1f",
            role.BrightText: "#d70015",
            role.Light: "#ffffff",
            role.Midlight: "#f4f4f4",
            role.Mid: "#bdbdbd",
            role.Dark: "#9a9a9a",
            role.Shadow: "#6e6e6e",
            role.Highlight: ACCENT_LIGHT.name(),
            role.HighlightedText: "#ffffff",
            role.Link: "#0060df",
            role.LinkVisited: "#8e44ad",
            role.Accent: ACCENT_LIGHT.name(),
        },
        {
            role.WindowText: "#a1a1a6",
            role.Text: "#a1a1a6",
            role.ButtonText: "#a1a1a6",
            role.Highlight: "#d1d1d6",
            role.HighlightedText: "#6e6e73",
        },
    )


def is_dark(app: QGuiApplication) -> bool:
    """Whether the application currently draws light text on a dark window."""
    palette = app.palette()
    window = palette.color(QPalette.ColorRole.Window).lightness()
    text = palette.color(QPalette.ColorRole.WindowText).lightness()
    return text > window


def current_theme(app: QApplication) -> str:
    """The theme last given to :func:`apply_theme` (``system`` when none was)."""
    value = app.property(_THEME_PROPERTY)
    return value if value in THEMES else "system"


def system_is_dark(app: QGuiApplication) -> bool:
    """Whether the OS asks for dark mode (Unknown counts as light)."""
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str) -> None:
    """Make ``app`` light, dark, or follow the system (``theme`` is one of ``THEMES``)."""
    global _applying
    if theme not in THEMES:
        logger.warning("Unknown theme %r; following the system", theme)
        theme = "system"
    app.setProperty(_THEME_PROPERTY, theme)
    _follow_system_changes(app)
    hints = app.styleHints()
    _applying = True
    try:
        # Qt 6.8+: tell the platform (on macOS this flips the native appearance, title bars included).
        if theme == "system":
            hints.unsetColorScheme()
            dark = system_is_dark(app)
        else:
            dark = theme == "dark"
            hints.setColorScheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
        if _is_mac():
            # An empty palette means "the system's" again; only step in if the native one did not follow.
            app.setPalette(QPalette())
            if is_dark(app) != dark:
                app.setPalette(dark_palette() if dark else light_palette())
        else:
            if app.style().name().lower() != "fusion":
                app.setStyle("Fusion")
            app.setPalette(dark_palette() if dark else light_palette())
    finally:
        _applying = False
    logger.debug("Theme %s applied (dark: %s)", theme, dark)


def _follow_system_changes(app: QApplication) -> None:
    if app.property(_CONNECTED_PROPERTY):
        return
    app.setProperty(_CONNECTED_PROPERTY, True)

    def on_scheme_changed(_scheme: Qt.ColorScheme) -> None:
        # Our own setColorScheme calls emit this too; only a change from the OS needs re-applying.
        if not _applying and app.property(_THEME_PROPERTY) == "system":
            apply_theme(app, "system")

    app.styleHints().colorSchemeChanged.connect(on_scheme_changed)
