"""Typed user preferences, stored as JSON with a schema version; window state is the UI's business.

Unknown keys are ignored and bad values fall back to defaults, so a hand-edited or older file never
stops Timbre from starting. Saving is atomic (temporary file, then rename).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app import paths

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1


@dataclass
class Settings:
    """Preferences a user sets once and expects to be remembered."""

    default_engine: str = ""
    """Engine for new jobs; empty means the engine that owns ``default_voice`` (or Piper)."""
    default_voice: str = ""
    """Voice for new jobs; empty means the engine's own default."""
    speed: float = 1.0
    output_format: str = "wav"
    """File format for saved audio: ``wav`` or ``flac``."""
    schema_version: int = SCHEMA_VERSION


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
    defaults = Settings()
    values = {}
    for field in dataclasses.fields(Settings):
        value = raw.get(field.name, getattr(defaults, field.name))
        expected = type(getattr(defaults, field.name))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        values[field.name] = value if isinstance(value, expected) else getattr(defaults, field.name)
    values["schema_version"] = SCHEMA_VERSION
    return Settings(**values)


def save(settings: Settings, path: Path | None = None) -> None:
    """Write the settings atomically."""
    path = path or paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings.", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(dataclasses.asdict(settings), handle, indent=2)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
