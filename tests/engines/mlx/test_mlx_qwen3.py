"""Qwen3-TTS on MLX (mlx-audio) with tiny random checkpoints: mlx-audio's real loader and generation.

The checkpoints never sample their stop code (see build_tiny.py), so every generation runs to the length
bound and the tests know how long the audio is: ``floor(max_seconds x 12.5)`` frames of 1920 samples.
MLX's CPU build convolves slowly, so each generation here is a handful of frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.errors import CancelledError, EngineUnavailableError, TimbreError, VoiceNotFoundError
from app.core.models import CancelToken, Reference, SynthesisRequest
from app.engines.conditioning import ConditioningCache
from app.engines.hub import Hub
from app.engines.mlx_engine import MlxQwen3CloneEngine, MlxQwen3DesignEngine, MlxQwen3Engine
from app.engines.mlx_support import seed_mlx

pytestmark = pytest.mark.slow

FRAME = 1920
TEXT = "Hello world."


@pytest.fixture(scope="module")
def preset(mlx_hub: Hub) -> MlxQwen3Engine:
    engine = MlxQwen3Engine(size="1.7b", hub=mlx_hub)
    engine.chunk_frames = 2  # several pieces from a few frames
    engine.load()
    return engine


@pytest.fixture(scope="module")
def seven(preset: MlxQwen3Engine) -> list[np.ndarray]:
    """Five frames of Ryan with seed 7: the reference run several tests compare against."""
    return speak(preset, text=TEXT, voice="Ryan", seed=7, max_seconds=0.4)


@pytest.fixture(scope="module")
def reference() -> Reference:
    """Four seconds of a voice-like signal (a gliding harmonic tone with noise) at 16 kHz."""
    rate = 16000
    t = np.arange(4 * rate) / rate
    pitch = 120 + 30 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.2
    noise = np.random.default_rng(0).normal(0, 0.01, len(t))
    return Reference((voice + noise).astype(np.float32), rate, "Hello world. The quick brown fox.")


def speak(engine, /, **fields) -> list[np.ndarray]:
    return [piece.samples for piece in engine.synthesize(SynthesisRequest(**fields), CancelToken())]


def test_preset_streams_float32_pieces_within_max_seconds(preset: MlxQwen3Engine, seven: list[np.ndarray]):
    assert preset.device == "mlx"
    assert len(seven) == 3, "five frames in pieces of two arrive as three pieces"
    assert [len(p) for p in seven] == [2 * FRAME, 2 * FRAME, FRAME]
    assert all(p.dtype == np.float32 and np.isfinite(p).all() for p in seven)
    audio = np.concatenate(seven)
    assert 0 < np.abs(audio).max() <= 1.0
    assert len(audio) <= 0.4 * 24000, "max_seconds is never exceeded"
    shorter = speak(preset, text=TEXT, voice="ryan", seed=7, max_seconds=0.2)
    assert sum(len(p) for p in shorter) == 2 * FRAME, "floor(0.2 s x 12.5) = 2 frames"


def test_same_seed_same_audio_other_seed_differs(preset: MlxQwen3Engine, seven: list[np.ndarray]):
    again = np.concatenate(speak(preset, text=TEXT, voice="ryan", seed=7, max_seconds=0.4))
    assert np.array_equal(again, np.concatenate(seven))
    # Two frames are enough to tell seeds apart: the first piece of seed 7 is seven[0].
    other = np.concatenate(speak(preset, text=TEXT, voice="ryan", seed=8, max_seconds=0.16))
    assert other.shape == seven[0].shape and not np.allclose(other, seven[0])


def test_streamed_pieces_join_into_the_offline_result(preset: MlxQwen3Engine, seven: list[np.ndarray]):
    """mlx-audio's non-streaming path decodes all frames at once; the stream decodes them piece by piece
    with the decoder's state. Same samples up to float rounding (not bit-identical: the convolutions see
    the same numbers in different batches)."""
    request = SynthesisRequest(text=TEXT, voice="ryan", seed=7, max_seconds=0.4)
    kwargs = preset._generation_kwargs(request) | {"stream": False}
    seed_mlx(7)
    offline = [np.asarray(r.audio) for r in preset._model.generate(text=TEXT, voice="ryan", **kwargs)]
    assert len(offline) == 1
    streamed = np.concatenate(seven)
    assert offline[0].shape == streamed.shape
    np.testing.assert_allclose(streamed, offline[0], rtol=0, atol=1e-6 * max(1e-3, np.abs(streamed).max()))


def test_style_instruction_changes_the_audio(preset: MlxQwen3Engine, seven: list[np.ndarray]):
    assert preset.capabilities.style_instructions
    happy = np.concatenate(
        speak(preset, text=TEXT, voice="ryan", seed=7, max_seconds=0.4, instruct="Very happy.")
    )
    assert happy.shape == np.concatenate(seven).shape
    assert not np.allclose(happy, np.concatenate(seven))


def test_cancel_stops_before_the_next_piece(preset: MlxQwen3Engine):
    cancel = CancelToken()
    produced = []
    with pytest.raises(CancelledError):
        for piece in preset.synthesize(SynthesisRequest(text=TEXT, seed=1, max_seconds=0.4), cancel):
            produced.append(piece)
            cancel.cancel()
    assert len(produced) == 1


def test_voices_languages_and_errors(preset: MlxQwen3Engine):
    assert {v.id for v in preset.voices()} == {"ryan", "dylan"}, "the loaded checkpoint's own speakers"
    assert preset.resolve_voice(None) == "ryan" and preset.resolve_voice("Dylan") == "dylan"
    with pytest.raises(VoiceNotFoundError) as info:
        preset.resolve_voice("ryann")
    assert "ryan" in info.value.suggestions
    with pytest.raises(TimbreError, match="does not speak 'xx'"):
        list(preset.synthesize(SynthesisRequest(text=TEXT, language="xx"), CancelToken()))
    caps = preset.capabilities
    assert caps.streaming and caps.seeded and caps.max_length and caps.devices == ("mlx",)
    assert set(caps.sampling) == {"temperature", "top_p", "top_k", "repetition_penalty"}
    assert not MlxQwen3Engine(size="0.6b").capabilities.style_instructions, "mlx-audio drops it on 0.6B"


def test_availability_says_what_is_missing(tmp_path: Path, mlx_hub: Hub, monkeypatch: pytest.MonkeyPatch):
    assert MlxQwen3Engine(size="1.7b", hub=mlx_hub).availability().ok
    missing = MlxQwen3Engine(hub=Hub(tmp_path / "empty"))
    state = missing.availability()
    assert not state.ok and "timbre models download qwen3-tts-0.6b-customvoice-mlx" in state.reason
    with pytest.raises(EngineUnavailableError, match="timbre models download"):
        missing.load()
    with pytest.raises(EngineUnavailableError, match="cannot run on CPU"):
        MlxQwen3Engine(size="1.7b", hub=mlx_hub, device="cpu").load()
    monkeypatch.delenv("TIMBRE_MLX_ANY_PLATFORM")
    monkeypatch.setattr("app.engines.mlx_support.is_apple_silicon", lambda: False)
    state = MlxQwen3Engine(size="1.7b", hub=mlx_hub).availability()
    assert not state.ok and "Apple Silicon" in state.reason


def test_clone_in_context_is_cached_and_reused_after_a_reload(
    mlx_hub: Hub, reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    request = SynthesisRequest(text=TEXT, references=(reference,), seed=3, max_seconds=0.32)
    engines = [
        MlxQwen3CloneEngine(hub=mlx_hub, cache=ConditioningCache(tmp_path / "prompts")) for _ in range(2)
    ]
    outputs, encodes = [], []
    for engine in engines:  # the second is a fresh process's view: same cache folder, empty memory
        engine.load()
        calls = []
        encode = engine._model.speech_tokenizer.encode
        monkeypatch.setattr(
            engine._model.speech_tokenizer, "encode", lambda x, f=encode, c=calls: c.append(1) or f(x)
        )
        outputs.append(speak(engine, **request.__dict__))
        encodes.append(len(calls))
        engine.unload()
    assert encodes == [1, 0], "the reference is encoded once, then its codes come from the cache"
    assert [len(p) for p in outputs[0]] == [4 * FRAME]
    assert np.array_equal(np.concatenate(outputs[0]), np.concatenate(outputs[1]))
    assert len(list((tmp_path / "prompts" / "qwen3-clone-mlx").glob("*.npz"))) == 1


def test_clone_from_the_speaker_embedding_alone(mlx_hub: Hub, reference: Reference, tmp_path: Path):
    engine = MlxQwen3CloneEngine(hub=mlx_hub, cache=ConditioningCache(tmp_path / "prompts"))
    untranscribed = Reference(reference.samples, reference.sample_rate, "")
    audio = np.concatenate(speak(engine, text=TEXT, references=(untranscribed,), seed=3, max_seconds=0.24))
    assert len(audio) == 3 * FRAME and np.abs(audio).max() > 0
    prompt = engine.clone_prompt(SynthesisRequest(text=TEXT, references=(untranscribed,)))
    assert prompt["ref_codes"].size == 0, "no transcript: nothing to encode, no in-context clone"
    assert len(prompt["audio"]) == 4 * 24000, "the reference is resampled to the codec's 24 kHz"
    engine.unload()


def test_clone_refuses_missing_or_short_references(mlx_hub: Hub, reference: Reference, tmp_path: Path):
    engine = MlxQwen3CloneEngine(hub=mlx_hub, cache=ConditioningCache(tmp_path / "prompts"))
    with pytest.raises(TimbreError, match="needs a recording"):
        list(engine.synthesize(SynthesisRequest(text=TEXT), CancelToken()))
    short = Reference(reference.samples[:16000], reference.sample_rate, "Hello.")
    with pytest.raises(TimbreError, match="at least 3 s"):
        list(engine.synthesize(SynthesisRequest(text=TEXT, references=(short,)), CancelToken()))
    assert not engine.loaded, "bad input is refused before the model loads"
    caps = engine.capabilities
    assert caps.clone_from_reference and caps.uses_transcript and not caps.preset_voices


def test_voice_design_needs_a_description_and_follows_it(mlx_hub: Hub):
    engine = MlxQwen3DesignEngine(hub=mlx_hub)
    with pytest.raises(TimbreError, match="Describe the voice"):
        list(engine.synthesize(SynthesisRequest(text=TEXT), CancelToken()))
    calm = np.concatenate(speak(engine, text=TEXT, instruct="A calm voice.", seed=5, max_seconds=0.24))
    assert len(calm) == 3 * FRAME and np.abs(calm).max() > 0
    assert engine.capabilities.voice_design
    engine.unload()
