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
