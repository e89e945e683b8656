"""Everything the window needs, built once by the composition root and handed down.

Each thread has its own SQLite connection: the ``*_worker`` services run only on the inference lane,
the others only on the main thread (WAL lets them read and write the same library side by side).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from app import settings as settings_mod
from app.services.catalog import catalogue
from app.services.history import HistoryService
from app.services.profiles import ProfileService
from app.services.synthesis import SynthesisService
from app.services.voices import VoiceMatcher, VoiceService

logger = logging.getLogger(__name__)


@dataclass
class AppContext:
    """The services, per thread, and the user's preferences."""

    synthesis: SynthesisService
    history: HistoryService
    worker_history: HistoryService
    profiles: ProfileService
    voices: VoiceService
    settings: settings_mod.Settings = field(default_factory=settings_mod.Settings)
    first_launch: bool = False
    _catalogue: list[dict[str, Any]] | None = field(default=None, repr=False)

    @classmethod
    def create(cls) -> AppContext:
        """Open the library (twice: one connection per thread) and read the preferences."""
        from app import paths

        first = not paths.settings_file().exists()
        prefs = settings_mod.load()
        if prefs.models_folder and not os.environ.get("TIMBRE_MODELS_DIR"):
            # Every layer finds weights through paths.models_dir(); the preference reaches it this way.
            os.environ["TIMBRE_MODELS_DIR"] = str(settings_mod.models_folder_path(prefs))
        synthesis = SynthesisService()
        history = HistoryService()  # cleans what a crash left behind, before any job can start
        profiles = ProfileService(history.library)
        return cls(
            synthesis=synthesis,
            history=history,
            worker_history=HistoryService(),
            profiles=profiles,
            voices=VoiceService(),
            settings=prefs,
            first_launch=first,
        )

    def matcher(self) -> VoiceMatcher:
        """A voice matcher for the lane (it speaks with Kokoro and reads the worker's library)."""
        return VoiceMatcher(self.voices.library, self.synthesis.registry)

    def catalogue(self, refresh: bool = False) -> list[dict[str, Any]]:
        """Engines and voices, kept (listing reads every engine's files); ``refresh`` after installs."""
        if refresh or self._catalogue is None:
            self._catalogue = catalogue(self.synthesis.registry)
        return self._catalogue

    def loaded_engines(self) -> list[tuple[str, str]]:
        """(name, what it holds and where it runs) for every engine with weights in memory."""
        from app.services.catalog import loaded_engines

        held = []
        for entry in loaded_engines(self.synthesis.registry):
            count = entry["voices"]
            voices = f"{count} voice{'s' if count != 1 else ''} · " if count else ""
            held.append((entry["name"], f"{voices}{entry['device']}"))
        return held

    def devices_in_use(self) -> str:
        """The devices the loaded engines run on, for the header ("CPU", "CUDA GPU"...)."""
        from app.services.catalog import loaded_engines

        devices = dict.fromkeys(entry["device"] for entry in loaded_engines(self.synthesis.registry))
        return " + ".join(devices) or "CPU"

    def close(self) -> None:
        libraries = {id(s.library): s.library for s in (self.history, self.worker_history, self.voices)}
        for library in libraries.values():
            library.close()
