"""Give a ``make run`` checkout a menu launcher on Linux (``make desktop``).

Writes ``timbre.desktop`` into ``$XDG_DATA_HOME/applications`` (``~/.local/share/applications``) with
``Exec`` pointing at this environment's ``timbre``, and the 256-pixel icon into the user's ``hicolor``
icon theme, where every freedesktop menu (GNOME, KDE, Xfce...) looks; the menus watch those folders, so
no cache needs rebuilding (a user-level ``icon-theme.cache`` would go stale and hide later icons). Run it
with the environment's Python: ``.venv/bin/python packaging/linux/install_desktop.py``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "timbre.desktop"
ICON = HERE / "timbre.png"
ICON_SIZE = 256


def _string_escape(value: str) -> str:
    """The Desktop Entry escapes for a value of type string."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def exec_argument(argument: str) -> str:
    """One ``Exec`` argument, quoted as the Desktop Entry spec asks: inside double quotes, ``"``, `` ` ``,
    ``$`` and ``\\`` take a backslash; then the value's own string escapes apply (so one backslash in
    a path is written as four), and ``%`` is doubled because it starts a field code."""
    quoted = "".join("\\" + ch if ch in '"`$\\' else ch for ch in argument)
    return _string_escape(f'"{quoted}"').replace("%", "%%")


def desktop_entry(timbre: Path, template: str | None = None) -> str:
    """The launcher's text for the ``timbre`` executable at ``timbre`` (an absolute path)."""
    if not timbre.is_absolute():
        raise ValueError(f"the launcher needs an absolute path, not {timbre}")
    text = TEMPLATE.read_text(encoding="utf-8") if template is None else template
    return text.replace("@TIMBRE_PATH@", _string_escape(str(timbre))).replace(
        "@TIMBRE@", exec_argument(str(timbre))
    )


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME")
    return Path(value) if value else Path.home() / ".local" / "share"


def install(timbre: Path, home: Path) -> list[Path]:
    """Write the launcher and its icon under ``home`` (an XDG data folder); returns the two paths."""
    entry = home / "applications" / "timbre.desktop"
    icon = home / "icons" / "hicolor" / f"{ICON_SIZE}x{ICON_SIZE}" / "apps" / "timbre.png"
    entry.parent.mkdir(parents=True, exist_ok=True)
    icon.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(desktop_entry(timbre), encoding="utf-8")
    shutil.copyfile(ICON, icon)
    return [entry, icon]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install Timbre's menu launcher for this checkout.")
    parser.add_argument(
        "--timbre",
        type=Path,
        default=Path(sys.executable).absolute().with_name("timbre"),
        help="the timbre command to launch (default: the one beside this Python)",
    )
    parser.add_argument(
        "--data-home", type=Path, default=None, help="default: $XDG_DATA_HOME or ~/.local/share"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    timbre = args.timbre.absolute()
    if not timbre.is_file():
        logger.error("No timbre command at %s: run make run first (it installs Timbre into .venv).", timbre)
        return 1
    home = args.data_home or data_home()
    for path in install(timbre, home):
        logger.info("wrote %s", path)
    logger.info("Timbre is in your applications menu; it starts %s gui.", timbre)
    return 0


if __name__ == "__main__":
    sys.exit(main())
