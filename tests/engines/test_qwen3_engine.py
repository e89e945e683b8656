"""Qwen3-TTS engines on tiny random checkpoints: the real qwen-tts code path, offline, in seconds.

The checkpoints are built once per session (tests/tiny_qwen.py, fixtures in tests/conftest.py) and
imported through the model manager, so loading goes through the same code as real downloaded weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.errors import CancelledError, EngineUnavailableError, TimbreError, VoiceNotFoundError
from app.core.models import CancelToken, Reference, SynthesisRequest
from app.engines.compute import seed_everything
from app.engines.conditioning import ConditioningCache
from app.engines.hub import Hub
from app.engines.qwen3_engine import Qwen3CloneEngine, Qwen3DesignEngine, Qwen3PresetEngine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def preset(qwen_hub: Hub) -> Qwen3PresetEngine:
    engine = Qwen3PresetEngine(hub=qwen_hub)
    engine.load()
    return engine


@pytest.fixture()
def clone(qwen_hub: Hub, tmp_path: Path) -> Qwen3CloneEngine:
    return Qwen3CloneEngine(hub=qwen_hub, cache=ConditioningCache(tmp_path / "prompts"))


@pytest.fixture(scope="session")
def reference() -> Reference:
    """Four seconds of a voice-like signal (a gliding harmonic tone with noise) at 16 kHz."""
    rate = 16000
    t = np.arange(4 * rate) / rate
    pitch = 120 + 30 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.2
    noise = np.random.default_rng(0).normal(0, 0.01, len(t))
    return Reference((voice + noise).astype(np.float32), rate, "Hello world. The quick brown fox.")


def speak(tts, /, **fields) -> list[np.ndarray]:
    fields.setdefault("max_seconds", 2.0)
    return [piece.samples for piece in tts.synthesize(SynthesisRequest(**fields), CancelToken())]


def assert_same_audio(streamed: np.ndarray, offline: np.ndarray) -> None:
    """The stream joins into the offline audio: same length, every sample within 1% of the peak.

    Not bit for bit: each piece is decoded with 72 frames of left context (the decoder's attention
    window) where the offline call saw the whole utterance, and different shapes round differently.
    """
    peak = float(np.abs(offline).max())  # the tiny random codec speaks very quietly, hence relative
    assert peak > 0 and len(streamed) == len(offline)
    worst = float(np.abs(streamed - offline).max()) / peak
    assert worst < 0.01, f"streamed audio strays {worst:.2%} of the peak from the offline audio"
    # with the whole history as context (the first frames) it is the same up to float rounding
    np.testing.assert_allclose(streamed[: 72 * 1920], offline[: 72 * 1920], rtol=0, atol=1e-5 * peak)


def test_unavailable_until_the_weights_are_installed(tmp_path: Path, qwen_hub: Hub):
    missing = Qwen3PresetEngine(hub=Hub(tmp_path / "empty"))
    state = missing.availability()
    assert not state.ok and "timbre models download qwen3-tts-0.6b-customvoice" in state.reason
    with pytest.raises(EngineUnavailableError, match="timbre models download"):
        missing.load()
    assert Qwen3PresetEngine(hub=qwen_hub).availability().ok


def test_preset_speaker_streams_float32_pieces_at_24khz(qwen_runaway: Qwen3PresetEngine):
    pieces = list(
        qwen_runaway.synthesize(
            SynthesisRequest(text="Hello world.", voice="Ryan", language="en", seed=1, max_seconds=3.0),
            CancelToken(),
        )
    )
    assert len(pieces) >= 2, "a few seconds of audio should arrive as several pieces"
    assert all(p.sample_rate == 24000 and p.samples.dtype == np.float32 for p in pieces)
    assert all(np.isfinite(p.samples).all() for p in pieces)
    assert np.abs(np.concatenate([p.samples for p in pieces])).max() > 0
    assert len(pieces[0].samples) == 4 * 1920, "the first piece is four codec frames, for fast first audio"
    # ceil(3.0 s x 12.5) generation steps; qwen-tts does not decode the last step's frame (nor do we)
    assert sum(len(p.samples) for p in pieces) == (38 - 1) * 1920


def test_streamed_audio_equals_the_offline_call(preset: Qwen3PresetEngine):
    request = SynthesisRequest(text="The quick brown fox.", voice="ryan", seed=7, max_seconds=3.0)
    streamed = np.concatenate(speak(preset, **request.__dict__))
    seed_everything(7)
    offline, rate = preset._model.generate_custom_voice(
        text=request.text,
        speaker="ryan",
        language="Auto",
        instruct="",
        **preset._generation_kwargs(request),
    )
    assert rate == 24000
    assert len(streamed) == len(offline[0])
    assert_same_audio(streamed, offline[0])


def test_same_seed_same_audio_other_seed_other_audio(preset: Qwen3PresetEngine):
    a = np.concatenate(speak(preset, text="Hello world.", seed=3))
    b = np.concatenate(speak(preset, text="Hello world.", seed=3))
    c = np.concatenate(speak(preset, text="Hello world.", seed=4))
    np.testing.assert_array_equal(a, b)
    assert len(a) != len(c) or not np.array_equal(a, c)


def test_style_instruction_changes_the_1_7b_voice(qwen_hub: Hub):
    large = Qwen3PresetEngine(size="1.7b", hub=qwen_hub)
    assert large.capabilities.style_instructions
    plain = np.concatenate(speak(large, text="Hello world.", seed=5))
    styled = np.concatenate(speak(large, text="Hello world.", seed=5, instruct="Whisper, very sad."))
    assert len(plain) != len(styled) or not np.array_equal(plain, styled)


def test_the_0_6b_model_refuses_a_style_it_would_ignore(preset: Qwen3PresetEngine):
    assert not preset.capabilities.style_instructions
    with pytest.raises(TimbreError, match="Style instructions need the 1.7B"):
        speak(preset, text="Hello world.", instruct="Very happy.")


def test_sampling_parameters_reach_the_model(preset: Qwen3PresetEngine):
    greedy_a = np.concatenate(speak(preset, text="Hello world.", seed=5, top_k=1, temperature=0.1))
    greedy_b = np.concatenate(speak(preset, text="Hello world.", seed=99, top_k=1, temperature=0.1))
    np.testing.assert_array_equal(greedy_a, greedy_b)  # top-k 1 leaves nothing to chance


def test_max_seconds_bounds_the_audio(qwen_runaway: Qwen3PresetEngine):
    audio = np.concatenate(speak(qwen_runaway, text="Hello world. " * 8, seed=2, max_seconds=1.0))
    assert len(audio) == (13 - 1) * 1920  # ceil(1.0 s x 12.5) steps, the last one not decoded


def test_cancel_stops_generation_and_restores_the_model(qwen_runaway: Qwen3PresetEngine):
    import time

    cancel = CancelToken()
    forward = qwen_runaway._model.model.talker.forward
    pieces = []
    started = time.perf_counter()
    with pytest.raises(CancelledError):
        for piece in qwen_runaway.synthesize(
            SynthesisRequest(text="Hello.", seed=1, max_seconds=60.0), cancel
        ):
            pieces.append(piece)
            cancel.cancel()
    assert len(pieces) == 1
    assert time.perf_counter() - started < 20, "60 s of generation was not run to the end"
    assert qwen_runaway._model.model.talker.forward == forward


def test_unknown_speaker_and_language_are_plain_errors(preset: Qwen3PresetEngine):
    with pytest.raises(VoiceNotFoundError, match="ryan"):
        speak(preset, text="Hi.", voice="rian")
    with pytest.raises(TimbreError, match="does not speak 'tlh'"):
        speak(preset, text="Hi.", language="tlh")
    assert sorted(v.id for v in preset.voices()) == ["dylan", "ryan"]  # what this checkpoint has


def test_clone_builds_the_prompt_once_and_caches_it_on_disk(clone: Qwen3CloneEngine, reference: Reference):
    calls = []
    clone.load()
    original = clone._model.create_voice_clone_prompt
    clone._model.create_voice_clone_prompt = lambda *a, **k: calls.append(1) or original(*a, **k)
    first = speak(clone, text="The quick brown fox.", references=(reference,), seed=11)
    second = speak(clone, text="The quick brown fox.", references=(reference,), seed=11)
    assert len(calls) == 1
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(second))
    files = list((clone.cache.folder / "qwen3-clone").glob("*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as cached:
        assert bool(cached["icl"]) and cached["ref_code"].shape[0] == 50  # 4 s at 12.5 frames a second


def test_clone_streaming_equals_offline_with_the_reference_as_context(clone, reference: Reference):
    from app.engines.qwen3_prompt import to_prompt_items

    request = SynthesisRequest(text="Hello world.", references=(reference,), seed=21, max_seconds=2.0)
    streamed = np.concatenate(speak(clone, **request.__dict__))
    items = to_prompt_items(clone.clone_prompt(request), "cpu")
    seed_everything(21)
    offline, _ = clone._model.generate_voice_clone(
        text=request.text, language="Auto", voice_clone_prompt=items, **clone._generation_kwargs(request)
    )
    assert len(streamed) == len(offline[0])
    assert_same_audio(streamed, offline[0])


def test_clone_without_transcript_uses_the_speaker_embedding(clone: Qwen3CloneEngine, reference: Reference):
    silent_text = Reference(reference.samples, reference.sample_rate, "")
    request = SynthesisRequest(text="Hi.", references=(silent_text,))
    prompt = clone.clone_prompt(request)
    assert not bool(prompt["icl"]) and prompt["spk"].ndim == 1
    assert len(np.concatenate(speak(clone, text="Hi.", references=(silent_text,), seed=1))) > 0


def test_clone_refuses_missing_or_short_references(clone: Qwen3CloneEngine, reference: Reference):
    with pytest.raises(TimbreError, match="needs a recording"):
        speak(clone, text="Hi.")
    short = Reference(reference.samples[:16000], 16000, "Hello.")
    with pytest.raises(TimbreError, match=r"1\.0 s long; Qwen3-TTS needs at least 3 s"):
        speak(clone, text="Hi.", references=(short,))


def test_voice_design_needs_a_description(qwen_hub: Hub):
    design = Qwen3DesignEngine(hub=qwen_hub)
    with pytest.raises(TimbreError, match="Describe the voice"):
        speak(design, text="Hi there.")
    audio = speak(design, text="Hi there.", instruct="A calm, deep male voice.", seed=1, max_seconds=1.0)
    assert sum(map(len, audio)) > 0 and design.capabilities.voice_design


def test_wrong_checkpoint_kind_is_refused(tmp_path: Path, tiny_qwen_checkpoints: dict[str, Path]):
    hub = Hub(tmp_path / "models")
    hub.import_folder("qwen3-tts-0.6b-customvoice", tiny_qwen_checkpoints["qwen3-tts-0.6b-base"])
    engine = Qwen3PresetEngine(hub=hub)
    with pytest.raises(EngineUnavailableError, match="'base' model, not 'custom_voice'"):
        engine.load()
    assert not engine.loaded


def test_a_long_stream_past_the_context_window_still_equals_the_offline_call(qwen_runaway):
    request = SynthesisRequest(text="Hello world, again and again.", voice="ryan", seed=13, max_seconds=12.0)
    streamed = np.concatenate(speak(qwen_runaway, **request.__dict__))
    seed_everything(13)
    offline, _ = qwen_runaway._model.generate_custom_voice(
        text=request.text,
        speaker="ryan",
        language="Auto",
        instruct="",
        **qwen_runaway._generation_kwargs(request),
    )
    assert len(streamed) == 149 * 1920  # 150 steps: twice the 72-frame context window
    assert_same_audio(streamed, offline[0])
