"""The registry: engines created lazily, voices found across engines, plain errors."""

from __future__ import annotations

import pytest

from app.core.errors import EngineNotFoundError, VoiceNotFoundError
from app.engines.registry import Registry


def test_engines_are_created_but_not_loaded():
    registry = Registry()
    engines = registry.engines()
    assert [e.id for e in engines] == [
        "piper",
        "kokoro",
        "qwen3",
        "qwen3-clone",
        "qwen3-design",
        "xtts",
        "kokoro-torch",
    ], "no MLX engines off Apple Silicon"
    assert not any(e.loaded for e in engines)
    assert registry.get("piper") is engines[0]


def test_default_is_the_offline_piper_voice():
    engine, voice = Registry().resolve(None, None)
    assert (engine.id, voice) == ("piper", "joe")


def test_voice_picks_its_engine():
    registry = Registry()
    assert [registry.resolve(v, None)[0].id for v in ("joe", "af_heart", "bm_george")] == [
        "piper",
        "kokoro",
        "kokoro",
    ]
    engine, voice = registry.resolve("af_heart:0.7,am_michael:0.3", None)
    assert engine.id == "kokoro" and voice == "af_heart:0.7,am_michael:0.3"


def test_unknown_engine_is_named_with_a_suggestion():
    with pytest.raises(EngineNotFoundError, match="kokoro"):
        Registry().get("kokor")


def test_unknown_voice_suggests_close_matches_from_every_engine():
    with pytest.raises(VoiceNotFoundError) as info:
        Registry().resolve("af_haert", None)
    message = str(info.value)
    assert "af_heart" in message and "timbre voices" in message


def test_voice_from_the_wrong_engine_is_rejected():
    with pytest.raises(VoiceNotFoundError):
        Registry().resolve("af_heart", "piper")


def test_loading_past_the_memory_budget_unloads_the_least_recently_used():
    registry = Registry(memory_budget=1)  # any loaded engine is over a one-byte budget
    piper, kokoro = registry.get("piper"), registry.get("kokoro")
    registry.load(piper)
    assert piper.loaded and registry.footprint(piper) > 0, "what loading took is measured"
    registry.load(kokoro)
    assert kokoro.loaded and not piper.loaded
    assert registry.evictions == ["piper"]
    registry.unload_all()


def test_short_memory_unloads_and_a_roomy_machine_keeps_both():
    roomy = Registry(available_memory=lambda: 64 * 10**9)
    piper, kokoro = roomy.get("piper"), roomy.get("kokoro")
    roomy.load(piper)
    roomy.load(kokoro)
    assert piper.loaded and kokoro.loaded and roomy.evictions == []
    roomy.load(piper)  # piper is now the most recently used: kokoro goes first when memory runs short
    roomy._available_memory = lambda: 0
    other = roomy.get("qwen3")
    roomy._make_room(other)
    assert roomy.evictions == ["kokoro", "piper"]
    assert not piper.loaded and not kokoro.loaded
