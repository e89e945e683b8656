"""XTTS v2 through the real coqui-tts code, on a tiny random-weight checkpoint imported like a download.

The GPT is tiny (random weights, so the "speech" is noise-like), but the vocoder and speaker encoder
are real-size and every call goes through the engine's real loading, conditioning and streaming path.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np
import pytest
from tiny_xtts import SPEAKERS, build_tiny_xtts

from app.core.errors import CancelledError, EngineUnavailableError, TimbreError, VoiceNotFoundError
from app.core.models import CancelToken, Reference, SynthesisRequest
from app.engines.compute import choose_device
from app.engines.conditioning import ConditioningCache, conditioning_key
from app.engines.hub import Hub
from app.engines.xtts_engine import MODEL_ID, XttsEngine

RATE = 24000
TEXT = "hello world, the quick brown fox."


@pytest.fixture(scope="session")
def xtts_hub(tmp_path_factory):
    built = build_tiny_xtts(tmp_path_factory.mktemp("xtts-build"))
    hub = Hub(tmp_path_factory.mktemp("models"))
    hub.import_folder(MODEL_ID, built)
    return hub


@pytest.fixture(scope="session")
def prompts(tmp_path_factory):
    return tmp_path_factory.mktemp("prompts")


@pytest.fixture(scope="session")
def xtts(xtts_hub, prompts):
    # Short pieces so that the tiny model's half-second utterances stream in several of them.
    engine = XttsEngine(
        hub=xtts_hub, cache=ConditioningCache(prompts), first_chunk_seconds=0.05, chunk_seconds=0.1
    )
    engine.load()
    return engine


@pytest.fixture(scope="session")
def recording(piper):
    """A real recording to clone: Piper's voice saying a sentence (about four seconds at 22.05 kHz)."""
    text = "The quick brown fox jumps over the lazy dog, and then it runs far away into the forest."
    pieces = list(piper.synthesize(SynthesisRequest(text=text), CancelToken()))
    return Reference(np.concatenate([p.samples for p in pieces]), pieces[0].sample_rate)


def _pieces(engine, **kwargs):
    pieces = list(engine.synthesize(SynthesisRequest(text=kwargs.pop("text", TEXT), **kwargs), CancelToken()))
    assert pieces, "XTTS yielded nothing"
    for piece in pieces:
        assert piece.sample_rate == RATE
        assert piece.samples.dtype == np.float32 and piece.samples.ndim == 1
        assert np.all(np.isfinite(piece.samples))
    return pieces


def _audio(engine, **kwargs):
    return np.concatenate([p.samples for p in _pieces(engine, **kwargs)])


def test_unavailable_until_the_model_is_installed(tmp_path):
    engine = XttsEngine(hub=Hub(tmp_path / "models"))
    state = engine.availability()
    assert not state.ok
    assert "timbre models download xtts-v2" in state.reason
    assert engine.voices() == []
    caps = engine.capabilities  # answered without any weights
    assert caps.sample_rate == RATE and len(caps.languages) == 17 and "zh-cn" in caps.languages
    assert caps.clone_from_reference and caps.preset_voices and caps.streaming and caps.seeded
    assert caps.max_length and not caps.uses_transcript and caps.min_reference_seconds >= 3
    assert caps.sampling == ("temperature", "top_p", "top_k", "repetition_penalty")
    assert caps.devices == ("cuda", "cpu")
    with pytest.raises(EngineUnavailableError, match="timbre models download xtts-v2"):
        engine.load()
    assert not engine.loaded


@pytest.mark.slow
def test_available_after_import_with_the_studio_speakers(xtts_hub):
    engine = XttsEngine(hub=xtts_hub)
    assert engine.availability().ok
    voices = engine.voices()  # read from speakers_xtts.pth without loading the model
    assert not engine.loaded
    assert [v.id for v in voices] == list(SPEAKERS)
    assert all(v.engine == "xtts" and v.available for v in voices)
    assert engine.resolve_voice(None) == "Claribel Dervla"
    assert engine.resolve_voice("daisy_studious") == "Daisy Studious"
    assert engine.resolve_voice("ANDREW CHIPPER") == "Andrew Chipper"
    with pytest.raises(VoiceNotFoundError) as info:
        engine.resolve_voice("Daisy Studius")
    assert info.value.suggestions == ["Daisy Studious"]


@pytest.mark.slow
def test_errors_are_plain_and_come_before_loading(xtts_hub, monkeypatch):
    from app.engines.xtts_support import require_language_reader, xtts_language

    engine = XttsEngine(hub=xtts_hub)
    with pytest.raises(TimbreError, match=r"does not speak 'xx'.*English \(en\).*Hindi \(hi\)"):
        list(engine.synthesize(SynthesisRequest(text="Hello.", language="xx"), CancelToken()))
    with pytest.raises(VoiceNotFoundError, match="Did you mean Claribel Dervla"):
        list(engine.synthesize(SynthesisRequest(text="Hello.", voice="Claribel Derv"), CancelToken()))
    assert not engine.loaded
    assert [xtts_language(c) for c in ("en-us", "EN_gb", "zh", "zh-CN", "cmn", "pt-br", "fr-fr")] == [
        "en", "en", "zh-cn", "zh-cn", "zh-cn", "pt", "fr",
    ]  # fmt: skip
    assert xtts_language(None, "今日はいい天気です") == "ja"
    assert xtts_language(None, "Привет") == "ru"
    assert xtts_language(None, "Hello") == "en"
    monkeypatch.setitem(sys.modules, "cutlet", None)  # as if coqui-tts[ja] were not installed
    with pytest.raises(EngineUnavailableError, match=r"coqui-tts\[ja\]"):
        require_language_reader("ja")
    with pytest.raises(EngineUnavailableError, match="Metal"):
        XttsEngine(hub=xtts_hub, device="mps").load()


@pytest.mark.slow
def test_clone_streams_pieces_and_caches_the_voice(xtts, recording, prompts, monkeypatch):
    model = xtts._model
    calls = {"embedding": 0, "latents": 0}
    for name, method in (("embedding", "get_speaker_embedding"), ("latents", "get_gpt_cond_latents")):
        original = getattr(model, method)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(model, method, counted)

    first = _pieces(xtts, references=(recording,), seed=3, max_seconds=0.4)
    assert len(first) >= 2, "a 0.4 s utterance should stream in several pieces"
    assert 0.2 < sum(p.duration for p in first) <= 0.4
    assert calls == {"embedding": 1, "latents": 1}
    key = conditioning_key("xtts", MODEL_ID, [recording.content_hash()], [])
    assert (prompts / "xtts" / f"{key}.npz").is_file()
    with np.load(prompts / "xtts" / f"{key}.npz", allow_pickle=False) as npz:
        assert npz["speaker_embedding"].shape == (1, 512, 1)
        assert npz["gpt_cond_latent"].shape[:2] == (1, 32)

    # Same recording (a new transcript does not matter to XTTS): nothing recomputed, same audio.
    again = Reference(recording.samples, recording.sample_rate, transcript="what it says")
    second = _pieces(xtts, references=(again,), seed=3, max_seconds=0.4)
    assert calls == {"embedding": 1, "latents": 1}
    np.testing.assert_array_equal(
        np.concatenate([p.samples for p in first]), np.concatenate([p.samples for p in second])
    )
    assert ConditioningCache(prompts).is_cached("xtts", key)  # on disk for the next run


@pytest.mark.slow
def test_too_short_a_recording_is_refused_before_loading(xtts_hub, recording):
    engine = XttsEngine(hub=xtts_hub)
    short = Reference(recording.samples[: recording.sample_rate * 2], recording.sample_rate)
    with pytest.raises(TimbreError, match="at least 3 s"):
        list(engine.synthesize(SynthesisRequest(text="Hello.", references=(short,)), CancelToken()))
    assert not engine.loaded


@pytest.mark.slow
def test_same_seed_same_audio_other_seed_other_audio(xtts):
    a = _audio(xtts, voice="Daisy Studious", seed=11, max_seconds=0.15)
    b = _audio(xtts, voice="Daisy Studious", seed=11, max_seconds=0.15)
    c = _audio(xtts, voice="Daisy Studious", seed=12, max_seconds=0.15)
    np.testing.assert_array_equal(a, b)
    assert len(a) != len(c) or not np.allclose(a, c, atol=1e-4)


@pytest.mark.slow
def test_max_seconds_bounds_the_audio(xtts):
    for speed, max_seconds in ((1.0, 0.3), (2.0, 0.2)):
        seconds = (
            len(_audio(xtts, voice="Andrew Chipper", seed=5, speed=speed, max_seconds=max_seconds)) / RATE
        )
        token = 1024 / 22050 / speed
        assert max_seconds - 2 * token < seconds <= max_seconds, (speed, max_seconds, seconds)


@pytest.mark.slow
def test_stream_equals_offline_inference(xtts):
    """The streamed pieces join into what XTTS's offline ``inference`` makes for the seed, to float
    rounding (the GPT's cached hidden states against inference's recomputed ones)."""
    import torch

    from app.engines.compute import seed_everything

    settings = dict(text=TEXT, voice="Claribel Dervla", seed=7, speed=1.25, temperature=0.9, top_k=30)
    streamed = _pieces(xtts, **settings)  # no max_seconds: the tiny model's own bound, 13 tokens
    assert len(streamed) >= 2
    request = SynthesisRequest(**settings)
    latent, embedding = xtts.conditioning(request)
    seed_everything(7)
    with torch.inference_mode():
        offline = xtts._model.inference(TEXT, "en", latent, embedding, speed=1.25, **xtts.sampling(request))
    expected = offline["wav"]
    audio = np.concatenate([p.samples for p in streamed])
    assert len(audio) == len(expected)
    peak = float(np.abs(expected).max())
    assert peak > 0
    assert float(np.abs(audio - expected).max()) <= 1e-4 * peak


@pytest.mark.slow
def test_cancel_stops_the_gpt_early(xtts, monkeypatch):
    gpt = xtts._model.gpt
    sampled = []
    original = gpt.get_generator

    def counting(*args, **kwargs):
        inner = original(*args, **kwargs)

        def tokens():
            try:
                for item in inner:
                    sampled.append(item[0])
                    yield item
            finally:
                inner.close()

        return tokens()

    monkeypatch.setattr(gpt, "get_generator", counting)
    cancel = CancelToken()
    produced = []
    with pytest.raises(CancelledError):
        for piece in xtts.synthesize(SynthesisRequest(text=TEXT, voice="Daisy Studious", seed=2), cancel):
            produced.append(piece)
            cancel.cancel()
    assert len(produced) == 1
    assert 0 < len(sampled) < gpt.max_gen_mel_tokens, "the GPT ran on after the cancel"
    # The engine is left usable: the closed generator released the GPT.
    assert len(_audio(xtts, voice="Daisy Studious", seed=2, max_seconds=0.1)) > 0


@pytest.mark.slow
def test_loading_leaves_the_weights_as_installed_and_unload_drops_the_model(xtts_hub):
    engine = XttsEngine(hub=xtts_hub)
    engine.load()
    assert engine.loaded and engine.device == choose_device(("cuda", "cpu")).device
    # coqui-tts would save the official (config-pickling) model.pth again without its config.
    report = xtts_hub.verify(MODEL_ID)
    assert report.ok, report
    model = weakref.ref(engine._model)
    engine.unload()
    assert not engine.loaded and engine._model is None
    assert model() is None, "something still holds the XTTS model after unload"
    assert [v.id for v in engine.voices()] == list(SPEAKERS)  # read again from the file
