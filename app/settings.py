"""Typed user preferences, stored as JSON with a schema version; window state is the UI's business.

Unknown keys are ignored and bad values fall back to defaults (each field has a check in ``_VALID``),
so a hand-edited or older file never stops Timbre from starting. Older files are upgraded by the
migrations in ``_MIGRATIONS``, keeping every value they hold. Saving is atomic (temporary file, then
rename).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import paths

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2

OUTPUT_FORMATS = ("wav", "flac", "mp3", "m4a")
THEMES = ("system", "light", "dark")
NARRATE_ON_NEW = ("queue", "interrupt")
"""When an agent starts a new message while narrating: finish what is being said, or cut it off."""
SPEED_RANGE = (0.5, 2.0)
LOUDNESS_RANGE = (-30.0, -5.0)
"""LUFS; quieter than -30 is inaudible next to other audio, louder than -5 distorts."""


@dataclass
class Settings:
    """Preferences a user sets once and expects to be remembered."""

    default_engine: str = ""
    """Engine for new jobs; empty means the engine that owns ``default_voice`` (or Piper)."""
    default_voice: str = ""
    """Voice for new jobs; empty means the engine's own default."""
    speed: float = 1.0
    output_format: str = "wav"
    """File format for saved audio: one of ``OUTPUT_FORMATS``."""
    output_folder: str = ""
    """Where exports go; empty means the music folder's Timbre folder (see :func:`output_folder_path`)."""
    loudness_target: float = -16.0
    """Integrated loudness of exports, in LUFS (-16 is the usual target for spoken word)."""
    normalise_exports: bool = True
    models_folder: str = ""
    """Where model weights live; empty means the default (see :func:`models_folder_path`)."""
    hotkey: str = ""
    """Global shortcut that opens Quick Speak, in Qt's portable text (``Ctrl+Alt+Space``; on macOS Qt's
    ``Ctrl`` is the Command key); only macOS offers one (see :mod:`app.ui.hotkey`)."""
    theme: str = "system"
    """``system`` follows the OS; ``light`` and ``dark`` force it."""
    play_while_generating: bool = True
    narrate_file: str = ""
    """The agent stream file "Narrate Agent Output" follows; empty until the user chooses one."""
    narrate_on_new: str = "queue"
    """One of ``NARRATE_ON_NEW``: a new agent message waits for what is being said, or interrupts it."""
    schema_version: int = SCHEMA_VERSION


def _real_in(low: float, high: float) -> Callable[[Any], bool]:
    # bool is an int, so True would otherwise pass as 1.0; NaN fails every comparison.
    def check(value: Any) -> bool:
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and low <= value <= high
        )

    return check


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


_VALID: dict[str, Callable[[Any], bool] | frozenset[str]] = {
    "default_engine": _is_str,
    "default_voice": _is_str,
    "speed": _real_in(*SPEED_RANGE),
    "output_format": frozenset(OUTPUT_FORMATS),
    "output_folder": _is_str,
    "loudness_target": _real_in(*LOUDNESS_RANGE),
    "normalise_exports": _is_bool,
    "models_folder": _is_str,
    "hotkey": _is_str,
    "theme": frozenset(THEMES),
    "play_while_generating": _is_bool,
    "narrate_file": _is_str,
    "narrate_on_new": frozenset(NARRATE_ON_NEW),
}
"""A check for every stored field: a predicate, or the set of allowed values."""


def _valid(name: str, value: Any) -> bool:
    check = _VALID[name]
    if isinstance(check, frozenset):
        return isinstance(value, str) and value in check
    return check(value)


def _from_v1(raw: dict[str, Any]) -> dict[str, Any]:
    # Version 1 had default_engine, default_voice, speed and output_format (wav/flac); all keep their
    # meaning, and everything version 2 adds starts at its default.
    return raw


# Fields added since version 2 (narrate_file, narrate_on_new) only add keys with defaults: a version 2 file
# without them loads unchanged and an older Timbre ignores them, so they need no new schema version.
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _from_v1}
"""``version -> function`` turning a file of that version into the next version's shape."""


def validated(settings: Settings) -> Settings:
    """A copy of ``settings`` with every bad value replaced by its default."""
    defaults = Settings()
    values = {}
    for name in _VALID:
        value = getattr(settings, name)
        if isinstance(getattr(defaults, name), float) and isinstance(value, int) and _valid(name, value):
            value = float(value)
        values[name] = value if _valid(name, value) else getattr(defaults, name)
    return Settings(**values)


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    version = raw.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        version = 1
    while version < SCHEMA_VERSION:
        raw = _MIGRATIONS[version](dict(raw))
        version += 1
    return raw


def load(path: Path | None = None) -> Settings:
    """Read the settings file, keeping defaults for anything missing or malformed."""
    path = path or paths.settings_file()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        logger.warning("Ignoring unreadable settings file %s: %s", path, exc)
        return Settings()
    if not isinstance(raw, dict):
        return Settings()
    raw = _migrate(raw)
    defaults = Settings()
    values = {name: raw.get(name, getattr(defaults, name)) for name in _VALID}
    for name, value in values.items():
        if not _valid(name, value):
            logger.info("Settings: ignoring bad %s %r; using %r", name, value, getattr(defaults, name))
    return validated(Settings(**values))


def save(settings: Settings, path: Path | None = None) -> None:
    """Write the settings atomically."""
    path = path or paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dataclasses.asdict(settings)
    data["schema_version"] = SCHEMA_VERSION
    fd, tmp = tempfile.mkstemp(prefix=".settings.", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def output_folder_path(settings: Settings) -> Path:
    """The folder exports go to: the user's choice, or ``Timbre`` in the platform's music folder."""
    if settings.output_folder:
        return Path(settings.output_folder).expanduser()
    import platformdirs

    return Path(platformdirs.user_music_dir()) / paths.APP_NAME


def models_folder_path(settings: Settings) -> Path:
    """The folder model weights live in: the user's choice, or the default models folder.

    ``TIMBRE_MODELS_DIR`` still wins, as it does everywhere (tests share installed weights through it).
    """
    if settings.models_folder and not os.environ.get("TIMBRE_MODELS_DIR"):
        return Path(settings.models_folder).expanduser()
    return paths.models_dir()
