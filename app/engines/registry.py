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


def _qwen3() -> Engine:
    from app.engines.qwen3_engine import Qwen3PresetEngine

    return Qwen3PresetEngine(size=_qwen_size())


def _qwen3_clone() -> Engine:
    from app.engines.qwen3_engine import Qwen3CloneEngine

    return Qwen3CloneEngine(size=_qwen_size())


def _qwen3_design() -> Engine:
    from app.engines.qwen3_engine import Qwen3DesignEngine

    return Qwen3DesignEngine()


def _xtts() -> Engine:
    from app.engines.xtts_engine import XttsEngine

    return XttsEngine()


def _kokoro_torch() -> Engine:
    from app.engines.kokoro_torch_engine import KokoroTorchEngine

    return KokoroTorchEngine()


def _mlx(class_name: str, module: str = "app.engines.mlx_engine") -> Callable[[], Engine]:
    def make() -> Engine:
        import importlib

        engine_class = getattr(importlib.import_module(module), class_name)
        return (
            engine_class(size=_qwen_size())
            if "Qwen3" in class_name and "Design" not in class_name
            else engine_class()
        )

    return make


def _qwen_size() -> str:
    """0.6B unless the user chose 1.7B (``TIMBRE_QWEN_SIZE``): 0.6B is the one fast enough off a GPU."""
    import os

    return "1.7b" if os.environ.get("TIMBRE_QWEN_SIZE", "").lower() in ("1.7b", "1.7") else "0.6b"


DEFAULT_FACTORIES: dict[str, Callable[[], Engine]] = {
    "piper": _piper,
    "kokoro": _kokoro,
    "qwen3": _qwen3,
    "qwen3-clone": _qwen3_clone,
    "qwen3-design": _qwen3_design,
    "xtts": _xtts,
    "kokoro-torch": _kokoro_torch,
}
MLX_FACTORIES: dict[str, Callable[[], Engine]] = {
    "qwen3-mlx": _mlx("MlxQwen3Engine"),
    "qwen3-clone-mlx": _mlx("MlxQwen3CloneEngine"),
    "qwen3-design-mlx": _mlx("MlxQwen3DesignEngine"),
    "kokoro-mlx": _mlx("MlxKokoroEngine", "app.engines.mlx_kokoro_engine"),
}
"""The MLX engines: listed only where MLX can run (Apple Silicon), so nobody else sees four greyed-out
engines they can never use."""


def default_factories() -> dict[str, Callable[[], Engine]]:
    """Every engine for this machine: on Apple Silicon the MLX ones come first, as the fast path."""
    import os

    from app.engines.compute import is_apple_silicon

    if is_apple_silicon() or os.environ.get("TIMBRE_MLX_ANY_PLATFORM", "").strip() == "1":
        return {**MLX_FACTORIES, **DEFAULT_FACTORIES}
    return dict(DEFAULT_FACTORIES)


"""Engine id -> factory, in the order engines are searched for a voice (the default engine first)."""

DEFAULT_ENGINE = "piper"


RESERVE_BYTES = 1_500_000_000
"""Memory left free for the app, the OS and the audio after an engine loads."""


def _available_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def _process_memory() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


class Registry:
    """Owns the engine instances; an engine's heavy weights load only when it first synthesizes.

    Loading goes through :meth:`load`, which is memory-aware: before a heavy engine loads, the least
    recently used loaded engines are unloaded until its expected footprint fits in the memory that is
    free (less a reserve) and within ``memory_budget`` when one is set. An engine's footprint is its
    catalogue estimate until it has been loaded once, then what loading it actually took.
    """

    def __init__(
        self,
        factories: dict[str, Callable[[], Engine]] | None = None,
        memory_budget: int | None = None,
        available_memory: Callable[[], int] = _available_memory,
    ) -> None:
        self._factories = dict(factories or default_factories())
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        self.memory_budget = memory_budget
        self._available_memory = available_memory
        self._footprints: dict[str, int] = {}
        self._last_used: dict[str, float] = {}
        self.evictions: list[str] = []
        """Engine ids unloaded to make room, oldest first (shown in logs and tests)."""

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
        """The first engine that has the voice and can run now; else the first that has it (whose error
        then says what to install)."""
        suggestions: list[str] = []
        found: list[tuple[Engine, str]] = []
        for engine in self.engines():
            try:
                found.append((engine, engine.resolve_voice(voice)))
            except VoiceNotFoundError as exc:
                suggestions.extend(exc.suggestions)
        for engine, resolved in found:
            if engine.availability().ok:
                return engine, resolved
        if found:
            return found[0]
        raise VoiceNotFoundError(voice, difflib.get_close_matches(voice, suggestions, n=3, cutoff=0.0)[:3])

    def footprint(self, engine: Engine) -> int:
        """Bytes the engine takes when loaded: measured once it has loaded, else its estimate."""
        return self._footprints.get(engine.id, engine.memory_bytes)

    def loaded_engines(self) -> list[Engine]:
        """Loaded engines, least recently used first."""
        with self._lock:
            engines = [e for e in self._engines.values() if e.loaded]
        return sorted(engines, key=lambda e: self._last_used.get(e.id, 0.0))

    def load(self, engine: Engine) -> None:
        """Load ``engine`` (if it is not), first unloading least recently used engines to make room."""
        import time

        self._last_used[engine.id] = time.monotonic()
        if engine.loaded:
            return
        self._make_room(engine)
        before = _process_memory()
        engine.load()
        grown = _process_memory() - before
        if grown > 0:
            self._footprints[engine.id] = grown
        logger.info("%s took %.0f MB", engine.id, grown / 1e6)

    def _make_room(self, engine: Engine) -> None:
        need = self.footprint(engine)
        for victim in self.loaded_engines():
            if victim is engine:
                continue
            loaded_total = sum(self.footprint(e) for e in self.loaded_engines())
            over_budget = self.memory_budget is not None and loaded_total + need > self.memory_budget
            short = self._available_memory() < need + RESERVE_BYTES
            if not (over_budget or short):
                break
            logger.info(
                "Unloading %s to make room for %s (%s)",
                victim.id,
                engine.id,
                "over the memory budget" if over_budget else "memory is short",
            )
            victim.unload()
            self.evictions.append(victim.id)

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
