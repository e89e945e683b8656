"""Test set-up: every test gets its own empty Timbre home; installed model weights are shared read-only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Resolve the real models folder *before* TIMBRE_HOME points elsewhere, so tests use the voices that
# `timbre setup` installed (make test runs it) while everything else lives in a temporary folder.
if not os.environ.get("TIMBRE_MODELS_DIR"):
    from app import paths as _paths

    os.environ["TIMBRE_MODELS_DIR"] = str(_paths.models_dir())
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def timbre_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder for each test."""
    home = tmp_path / "timbre-home"
    monkeypatch.setenv("TIMBRE_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def registry():
    """One registry for the whole run: real engines load once (seconds each), then stay loaded."""
    from app.engines.registry import default_registry

    return default_registry()


@pytest.fixture(scope="session")
def piper(registry):
    engine = registry.get("piper")
    engine.load()
    return engine


@pytest.fixture(scope="session")
def kokoro(registry):
    engine = registry.get("kokoro")
    engine.load()
    return engine


@pytest.fixture
def service(registry):
    from app.services.synthesis import SynthesisService

    return SynthesisService(registry)


# Tiny random Qwen3-TTS checkpoints (tests/tiny_qwen.py), built on first use and shared by the engine,
# guard, registry and service tests; imported through the model manager like downloaded weights.
QWEN_KINDS = {
    "qwen3-tts-0.6b-customvoice": "custom_voice",
    "qwen3-tts-0.6b-base": "base",
    "qwen3-tts-1.7b-voicedesign": "voice_design",
    "qwen3-tts-1.7b-customvoice": "custom_voice",
}


@pytest.fixture(scope="session")
def tiny_qwen_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import tiny_qwen

    root = tmp_path_factory.mktemp("tiny-qwen3")
    return {
        model_id: tiny_qwen.build(root / model_id, kind, size="1b7" if "1.7b" in model_id else "0b6")
        for model_id, kind in QWEN_KINDS.items()
    }


@pytest.fixture(scope="session")
def qwen_hub(tiny_qwen_checkpoints: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from app.engines.hub import Hub

    hub = Hub(tmp_path_factory.mktemp("models"))
    for model_id, folder in tiny_qwen_checkpoints.items():
        hub.import_folder(model_id, folder)
    return hub


@pytest.fixture(scope="session")
def qwen_runaway(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - engines import lazily
    """Presets on a checkpoint that can never sample its stop code: it always runs to the length bound
    (a forced runaway, and a stream whose length the test knows)."""
    from app.engines.hub import Hub
    from app.engines.qwen3_engine import Qwen3PresetEngine

    root = tmp_path_factory.mktemp("never-stop")
    hub = Hub(root / "models")
    import tiny_qwen

    hub.import_folder(
        "qwen3-tts-0.6b-customvoice", tiny_qwen.build(root / "cv", "custom_voice", never_stop=True)
    )
    engine = Qwen3PresetEngine(hub=hub)
    engine.load()
    return engine
