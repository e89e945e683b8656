"""Kokoro-82M on MLX (mlx-audio) with a tiny random checkpoint: mlx-audio's loader and Kokoro model.

The voices are the tiny checkpoint's Spanish ``ef_tiny`` and ``em_tiny`` (Spanish is read by espeak-ng,
which needs no download). The vocoder keeps Kokoro's full width, so every utterance here is one word.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.errors import CancelledError, EngineUnavailableError, VoiceNotFoundError
from app.core.models import CancelToken, SynthesisRequest
from app.engines.hub import Hub
from app.engines.mlx_kokoro_engine import MlxKokoroEngine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kokoro_mlx(mlx_hub: Hub) -> MlxKokoroEngine:
    engine = MlxKokoroEngine(hub=mlx_hub)
    engine.load()
    return engine


@pytest.fixture(scope="module")
def first(kokoro_mlx: MlxKokoroEngine) -> np.ndarray:
    return speak(kokoro_mlx, text="a", voice="ef_tiny", seed=7)


def speak(engine: MlxKokoroEngine, **fields) -> np.ndarray:
    pieces = list(engine.synthesize(SynthesisRequest(**fields), CancelToken()))
    assert pieces and {p.sample_rate for p in pieces} == {24000}
    return np.concatenate([p.samples for p in pieces])


def test_speaks_float32_audio_and_the_seed_fixes_it(kokoro_mlx: MlxKokoroEngine, first: np.ndarray):
    assert kokoro_mlx.device == "mlx"
    assert first.dtype == np.float32 and np.isfinite(first).all()
    assert len(first) > 0 and len(first) % 600 == 0, "whole vocoder frames (25 ms)"
    assert 0 < np.abs(first).max() <= 1.0
    assert np.array_equal(speak(kokoro_mlx, text="a", voice="ef_tiny", seed=7), first)


def test_speed_shortens_the_audio(kokoro_mlx: MlxKokoroEngine, first: np.ndarray):
    fast = speak(kokoro_mlx, text="a", voice="ef_tiny", seed=7, speed=2.0)
    assert len(fast) < len(first)


def test_blends_mix_the_style_tables(kokoro_mlx: MlxKokoroEngine):
    blend = "ef_tiny:0.25,em_tiny:0.75"
    assert kokoro_mlx.resolve_voice(blend) == blend
    mixed = np.asarray(kokoro_mlx.style_for(blend))
    parts = [np.asarray(kokoro_mlx.style_for(v)) for v in ("ef_tiny", "em_tiny")]
    np.testing.assert_allclose(mixed, 0.25 * parts[0] + 0.75 * parts[1], rtol=1e-6, atol=1e-7)
    assert kokoro_mlx.language_for("em_tiny", None) == "es"


def test_english_is_read_by_misaki_offline(kokoro_mlx: MlxKokoroEngine):
    """The MLX environment carries spaCy's English model from the package index, so English gets
    misaki's reader (Kokoro's own), not the espeak-ng fallback, with nothing downloaded."""
    reader = kokoro_mlx.reader("en-us")
    assert reader.name == "misaki"
    assert reader.read("Hello world.").strip()


def test_voices_errors_and_cancel(kokoro_mlx: MlxKokoroEngine):
    assert {"ef_tiny", "em_tiny"} <= {v.id for v in kokoro_mlx.voices() if v.available}
    with pytest.raises(VoiceNotFoundError) as info:
        kokoro_mlx.resolve_voice("ef_tinny")
    assert "ef_tiny" in info.value.suggestions
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(CancelledError):
        list(kokoro_mlx.synthesize(SynthesisRequest(text="a", voice="ef_tiny"), cancel))
    caps = kokoro_mlx.capabilities
    assert caps.voice_blending and caps.seeded and caps.devices == ("mlx",) and "es" in caps.languages


def test_unavailable_without_weights(tmp_path: Path):
    engine = MlxKokoroEngine(hub=Hub(tmp_path / "empty"))
    state = engine.availability()
    assert not state.ok and "timbre models download kokoro-82m-mlx" in state.reason
    with pytest.raises(EngineUnavailableError, match="timbre models download"):
        engine.load()
