"""The engine registry: knows every engine, creates each on first use, and finds the engine for a voice."""

from __future__ import annotations

import difflib
import logging
import threading
from collections.abc import Callable

from app.core.errors import EngineNotFoundError, EngineUnavailableError, VoiceNotFoundError
from app.engines.base import Engine

logger = logging.getLogger(__name__)


def _piper() -> Engine:
    from app.engines.piper_engine import PiperEngine

    return PiperEngine()


def _kokoro() -> Engine:
    from app.engines.kokoro_onnx_engine import KokoroOnnxEngine

    return KokoroOnnxEngine()


DEFAULT_FACTORIES: dict[str, Callable[[], Engine]] = {"piper": _piper, "kokoro": _kokoro}
"""Engine id -> factory, in the order engines are searched for a voice (the default engine first)."""

DEFAULT_ENGINE = "piper"


class Registry:
    """Owns the engine instances; an engine's heavy weights load only when it first synthesizes."""

    def __init__(self, factories: dict[str, Callable[[], Engine]] | None = None) -> None:
        self._factories = dict(factories or DEFAULT_FACTORIES)
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    @property
    def engine_ids(self) -> list[str]:
        return list(self._factories)

    def get(self, engine_id: str) -> Engine:
        """The engine with this id (created, not loaded), or a clear error naming the known ones."""
        key = engine_id.strip().lower()
        with self._lock:
            if key not in self._engines:
                factory = self._factories.get(key)
                if factory is None:
                    known = ", ".join(self._factories)
                    close = difflib.get_close_matches(key, list(self._factories), n=1)
                    hint = f" Did you mean {close[0]}?" if close else ""
                    raise EngineNotFoundError(
                        f"There is no engine called '{engine_id}'.{hint} Engines: {known}."
                    )
                self._engines[key] = factory()
            return self._engines[key]

    def engines(self) -> list[Engine]:
        return [self.get(engine_id) for engine_id in self._factories]

    def resolve(self, voice: str | None, engine_id: str | None) -> tuple[Engine, str]:
        """Pick the engine and voice: an explicit engine wins, else the first engine owning the voice."""
        if engine_id:
            engine = self.get(engine_id)
            resolved = engine.resolve_voice(voice)
        elif not voice:
            engine = self.get(DEFAULT_ENGINE)
            resolved = engine.default_voice
        else:
            engine, resolved = self._find_voice(voice)
        state = engine.availability()
        if not state.ok:
            raise EngineUnavailableError(f"{engine.name} cannot run here: {state.reason}")
        return engine, resolved

    def _find_voice(self, voice: str) -> tuple[Engine, str]:
        suggestions: list[str] = []
        for engine in self.engines():
            try:
                return engine, engine.resolve_voice(voice)
            except VoiceNotFoundError as exc:
                suggestions.extend(exc.suggestions)
        raise VoiceNotFoundError(voice, difflib.get_close_matches(voice, suggestions, n=3, cutoff=0.0)[:3])

    def unload_all(self) -> None:
        """Free every loaded engine."""
        with self._lock:
            engines = list(self._engines.values())
        for engine in engines:
            engine.unload()


_default: Registry | None = None
_default_lock = threading.Lock()


def default_registry() -> Registry:
    """The process-wide registry: one set of engines, loaded once, shared by every caller."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Registry()
        return _default
