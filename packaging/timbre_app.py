"""The entry point of Timbre.app: py2app runs this file when the app is opened.

Opened from the Finder or the Dock (no arguments) it is ``timbre gui``: the window, and the menu-bar icon.
Options go to ``gui``: ``Timbre.app/Contents/MacOS/Timbre --smoke`` is ``timbre gui --smoke``. A first
argument that is not an option is a command, run as on the command line
(``Timbre.app/Contents/MacOS/Timbre voices``), and so are ``--version`` and ``--help``: that is how the
build checks the bundle and the CI checks the engines inside it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

TOP_LEVEL_OPTIONS = frozenset({"-h", "--help", "--version"})
"""Options of ``timbre`` itself rather than of ``timbre gui``."""


def timbre_args(argv: Sequence[str]) -> list[str]:
    """The ``timbre`` arguments for the app's own ``argv[1:]``.

    The Finder used to add a ``-psn_…`` process serial number argument (and old macOS versions still
    do): it means nothing to Timbre and is dropped.
    """
    args = [arg for arg in argv if not arg.startswith("-psn_")]
    if args and (not args[0].startswith("-") or args[0] in TOP_LEVEL_OPTIONS):
        return args
    return ["gui", *args]


def main() -> int:
    from app.cli import main as timbre

    return timbre(timbre_args(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
