"""The registry: engines created lazily, voices found across engines, plain errors."""

from __future__ import annotations

import pytest

from app.core.errors import EngineNotFoundError, VoiceNotFoundError
from app.engines.registry import Registry


def test_engines_are_created_but_not_loaded():
    registry = Registry()
    engines = registry.engines()
    assert [e.id for e in engines] == ["piper", "kokoro"]
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
