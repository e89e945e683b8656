"""Where Timbre keeps its files: one place to ask, with environment overrides for tests.

macOS: ~/Library/Application Support/Timbre (data), ~/Library/Caches/Timbre, ~/Library/Logs/Timbre.
Linux: the XDG data, cache and state folders. ``TIMBRE_HOME`` moves all of them under one folder;
``TIMBRE_MODELS_DIR`` moves only the model weights (so tests can share installed weights while
keeping everything else in a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "Timbre"


def _home_override() -> Path | None:
    value = os.environ.get("TIMBRE_HOME")
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """The folder for the library, samples and generations."""
    home = _home_override()
    if home is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Throw-away files (speaker-conditioning cache, assembled model files can be rebuilt)."""
    home = _home_override()
    if home is not None:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def logs_dir() -> Path:
    """Log files."""
    home = _home_override()
    if home is not None:
        return home / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def models_dir() -> Path:
    """Model weights and voices; ``TIMBRE_MODELS_DIR`` wins over everything else."""
    value = os.environ.get("TIMBRE_MODELS_DIR")
    if value:
        return Path(value).expanduser()
    return data_dir() / "models"


def settings_file() -> Path:
    """The preferences file (window state is kept elsewhere, by the UI)."""
    return data_dir() / "settings.json"
