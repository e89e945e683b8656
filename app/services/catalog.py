"""What can speak here: every engine with its capabilities and voices, and whether each works offline now."""

from __future__ import annotations

import dataclasses
from typing import Any

from app.engines.registry import Registry, default_registry


def catalogue(registry: Registry | None = None) -> list[dict[str, Any]]:
    """One dict per engine (JSON-ready): id, name, availability, capabilities and voices."""
    registry = registry if registry is not None else default_registry()
    result = []
    for engine in registry.engines():
        state = engine.availability()
        caps = dataclasses.asdict(engine.capabilities)
        result.append(
            {
                "id": engine.id,
                "name": engine.name,
                "available": state.ok,
                "reason": state.reason,
                "default_voice": engine.default_voice,
                "capabilities": caps,
                "voices": [dataclasses.asdict(v) for v in engine.voices()],
                "warning": engine.slow_warning() if state.ok else "",
                # where its weights come from (the model manager); empty for the offline engines
                "models": list(engine.model_ids),
            }
        )
    return result


def loaded_engines(registry: Registry | None = None) -> list[dict[str, Any]]:
    """Engines with weights in memory: id, name, voice count and the device they run on, in words."""
    from app.engines.compute import DEVICE_NAMES

    registry = registry if registry is not None else default_registry()
    return [
        {
            "id": engine.id,
            "name": engine.name,
            "voices": len(engine.voices()),
            "device": DEVICE_NAMES.get(engine.device, engine.device),
        }
        for engine in registry.loaded_engines()
    ]
