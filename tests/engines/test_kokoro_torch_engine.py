"""Kokoro-82M on PyTorch: the real ``kokoro``/``misaki`` code on random-weight checkpoints, offline.

The tiny model has the real vocabulary, the real decoder widths and a fixed duration of
``tiny_kokoro.FRAMES_PER_PHONEME`` frames per symbol, so the audio length tells exactly how many phonemes
the reader produced: ``(symbols + 2 boundary tokens) * frames * 600`` samples.
"""

from __future__ import annotations

import importlib.util
import logging
import socket
import sys
import time

import numpy as np
import pytest
import tiny_kokoro

from app.core.errors import CancelledError, EngineUnavailableError, TimbreError, VoiceNotFoundError
from app.core.models import CancelToken, SynthesisRequest
from app.engines import kokoro_assets
from app.engines.hub import Hub
from app.engines.kokoro_torch_engine import KokoroTorchEngine, english_reader, split_phonemes

logger = logging.getLogger(__name__)

VOICES_PT = {"af_heart": 1, "am_michael": 2, "ef_dora": 3, "jf_alpha": 4}
"""Voices shipped in the model folder as ``voices/<id>.pt`` (seed of their random table)."""
VOICES_NPZ = {"bf_emma": 5, "af_heart": 6}
"""Voices in the installed npz table; af_heart is in both, and the model folder's copy must win."""


@pytest.fixture(scope="module")
def network_attempts():
    """No network for this module: Hugging Face offline, and every way out records the attempt and fails."""
    import kokoro.model
    import kokoro.pipeline
    import spacy.cli

    attempts: list[str] = []

    def refuse(what: str):
        def blocked(*args, **kwargs):
            attempts.append(what)
            raise OSError(f"test: {what} attempted network access")

        return blocked

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        mp.setattr(socket.socket, "connect", refuse("socket.connect"))
        mp.setattr(socket, "create_connection", refuse("socket.create_connection"))
        mp.setattr(kokoro.model, "hf_hub_download", refuse("kokoro.model.hf_hub_download"))
        mp.setattr(kokoro.pipeline, "hf_hub_download", refuse("kokoro.pipeline.hf_hub_download"))
        mp.setattr(spacy.cli, "download", refuse("spacy.cli.download"))
        yield attempts


@pytest.fixture(scope="module")
def voices_npz(tmp_path_factory):
    path = tmp_path_factory.mktemp("kokoro-voices") / "voices.npz"
    np.savez(path, **{name: tiny_kokoro.random_voice(seed) for name, seed in VOICES_NPZ.items()})
    return path


@pytest.fixture(autouse=True)
def installed_voices(monkeypatch, voices_npz):
    """The npz voice table is ours, not whatever `timbre setup` installed on this machine."""
    monkeypatch.setattr(kokoro_assets, "voices_file", lambda: voices_npz)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, network_attempts):
    voices = {name: tiny_kokoro.random_voice(seed) for name, seed in VOICES_PT.items()}
    return tiny_kokoro.build(tmp_path_factory.mktemp("kokoro-tiny"), tiny_kokoro.tiny_config(), voices)


@pytest.fixture(scope="module")
def hub(tmp_path_factory, tiny_dir):
    hub = Hub(tmp_path_factory.mktemp("models"))
    hub.import_folder("kokoro-82m", tiny_dir)
    return hub


@pytest.fixture(scope="module")
def engine(hub, voices_npz):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kokoro_assets, "voices_file", lambda: voices_npz)
        engine = KokoroTorchEngine(hub=hub)
        start = time.perf_counter()
        engine.load()
        logger.info("tiny Kokoro loaded in %.2f s", time.perf_counter() - start)
    yield engine
    engine.unload()


def _speak(engine, text, **kwargs) -> np.ndarray:
    pieces = list(engine.synthesize(SynthesisRequest(text=text, **kwargs), CancelToken()))
    assert pieces and {p.sample_rate for p in pieces} == {24000}
    assert all(p.samples.dtype == np.float32 and p.samples.ndim == 1 for p in pieces)
    audio = np.concatenate([p.samples for p in pieces])
    assert np.all(np.isfinite(audio)) and np.abs(audio).max() > 0
    return audio


def _expected_samples(engine, phonemes: str, speed: float = 1.0) -> int:
    symbols = sum(1 for s in phonemes if s in engine._model.vocab) + 2
    return symbols * round(tiny_kokoro.FRAMES_PER_PHONEME / speed) * tiny_kokoro.SAMPLES_PER_FRAME


def test_unavailable_until_the_weights_are_installed(tmp_path, tiny_dir, monkeypatch):
    hub = Hub(tmp_path / "models")
    engine = KokoroTorchEngine(hub=hub)
    state = engine.availability()
    assert not state.ok and "timbre models download kokoro-82m" in state.reason
    assert not any(v.available for v in engine.voices())
    assert engine.memory_bytes == hub.spec("kokoro-82m").memory_bytes > 0
    with pytest.raises(EngineUnavailableError, match="timbre models download kokoro-82m"):
        engine.load()

    hub.import_folder("kokoro-82m", tiny_dir)
    assert engine.availability().ok
    voices = {v.id: v for v in engine.voices()}
    assert len(voices) == 54
    assert {v for v, info in voices.items() if info.available} == set(VOICES_PT) | set(VOICES_NPZ)
    assert voices["bm_george"].note  # says why it cannot speak
    assert voices["ef_dora"].language == "es" and voices["am_michael"].gender == "male"

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "kokoro" else real_find_spec(name, *a)
    )
    assert "pip install 'timbre[kokoro-torch]'" in engine.availability().reason


def test_loads_the_checkpoint_from_disk(engine, tiny_dir):
    import torch

    assert engine.loaded and engine.device == "cpu"
    saved = torch.load(tiny_dir / tiny_kokoro.MODEL_FILE, weights_only=True)
    for part, key in (
        ("predictor", "duration_proj.linear_layer.bias"),
        ("decoder", "generator.conv_post.bias"),
    ):
        loaded = dict(getattr(engine._model, part).named_parameters())[key]
        assert torch.equal(loaded, saved[part][f"module.{key}"])


def test_voice_tables_come_from_the_model_folder_then_the_npz(engine, tiny_dir):
    np.testing.assert_array_equal(
        engine._voice_table("af_heart"), tiny_kokoro.random_voice(VOICES_PT["af_heart"])
    )
    np.testing.assert_array_equal(
        engine._voice_table("bf_emma"), tiny_kokoro.random_voice(VOICES_NPZ["bf_emma"])
    )
    with pytest.raises(VoiceNotFoundError):
        engine._voice_table("zf_xiaobei")


def test_english_is_read_by_misaki_offline(engine, network_attempts):
    short, long = "Hi.", "Hello there, how are you?"
    reader = engine.reader("en-us")
    assert reader.name == "misaki"
    assert "ɜɹ" in reader.read("Hello world.")  # misaki's rhotic vowel; espeak-ng would give "ɜː"
    short_audio = _speak(engine, short, voice="af_heart")
    long_audio = _speak(engine, long, voice="af_heart")
    assert len(short_audio) == _expected_samples(engine, reader.read(short))
    assert len(long_audio) == _expected_samples(engine, reader.read(long)) > 3 * len(short_audio)
    assert network_attempts == []


def test_english_falls_back_to_espeak_without_the_spacy_model(monkeypatch, caplog):
    import spacy

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(spacy.util, "is_package", lambda name: False)
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name.startswith("en_core_web_sm") else real_find_spec(name, *a),
    )
    with caplog.at_level(logging.WARNING):
        reader = english_reader(british=False)
    assert reader.name == "espeak-ng"
    assert "spaCy's English model is not installed" in caplog.text
    assert reader.read("Hello world.").startswith("h")


def test_spanish_is_read_by_espeak(engine):
    text = "Hola, mañana."
    reader = engine.reader("es")
    assert reader.name == "espeak-ng"
    phonemes = reader.read(text)
    assert "ɲ" in phonemes and "ˈ" in phonemes  # mañana's palatal nasal, stress marks
    assert len(_speak(engine, text, voice="ef_dora")) == _expected_samples(engine, phonemes)
    assert engine.language_for("ef_dora", None, text) == "es"


def test_japanese_text_is_read_with_pyopenjtalk(engine):
    text = "今日は晴れ。"
    assert engine.language_for("jf_alpha", None, text) == "ja"
    assert engine.language_for("jf_alpha", None, "Hello from Tokyo.") == "en-us"
    reader = engine.reader("ja")
    assert reader.name == "pyopenjtalk" and reader.read(text).startswith("kʲoː")
    assert len(_speak(engine, text, voice="jf_alpha")) == _expected_samples(engine, reader.read(text))


def test_chinese_text_without_the_chinese_reader_is_a_plain_error(engine, monkeypatch):
    monkeypatch.setitem(sys.modules, "misaki.zh", None)  # as if misaki[zh] were not installed
    request = SynthesisRequest(text="你好。", voice="af_heart", language="zh")
    with pytest.raises(EngineUnavailableError, match=r"misaki\[zh\]"):
        list(engine.synthesize(request, CancelToken()))


def test_unknown_language_and_voice_are_plain_errors(engine):
    with pytest.raises(TimbreError, match="Kokoro does not speak 'de'"):
        list(
            engine.synthesize(SynthesisRequest(text="Hallo.", voice="af_heart", language="de"), CancelToken())
        )
    with pytest.raises(VoiceNotFoundError) as info:
        engine.resolve_voice("af_heart:0.5,am_michal:0.5")
    assert "am_michael" in info.value.suggestions


def test_text_without_phonemes_yields_nothing(engine):
    assert list(engine.synthesize(SynthesisRequest(text="\u3000", voice="af_heart"), CancelToken())) == []


@pytest.fixture(scope="module")
def say_hi(engine):
    """``Hi.`` (3 phonemes, 0.25 s) once per voice, seed and speed: the tests below share the runs."""
    memo: dict[tuple, np.ndarray] = {}

    def say(voice: str, seed: int | None, speed: float = 1.0) -> np.ndarray:
        key = (voice, seed, speed)
        if key not in memo:
            memo[key] = _speak(engine, "Hi.", voice=voice, seed=seed, speed=speed)
        return memo[key]

    return say


def test_same_seed_same_audio_other_seed_other_audio(engine, say_hi):
    first = say_hi("af_heart", 7)
    again = _speak(engine, "Hi.", voice="af_heart", seed=7)
    other = say_hi("af_heart", 8)
    np.testing.assert_array_equal(first, again)
    assert len(other) == len(first) and not np.allclose(other, first, atol=1e-3)


def test_a_blend_differs_from_each_of_its_voices(engine, say_hi):
    blend = "af_heart:0.5,am_michael:0.5"
    style = engine.style_for(blend)
    expected = 0.5 * engine.style_for("af_heart") + 0.5 * engine.style_for("am_michael")
    np.testing.assert_allclose(style.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    for voice in ("af_heart", "am_michael"):
        assert len(say_hi(blend, 7)) == len(say_hi(voice, 7))
        assert np.abs(say_hi(blend, 7) - say_hi(voice, 7)).mean() > 1e-3


def test_speed_two_is_half_as_long(say_hi):
    assert len(say_hi("af_heart", 7, speed=2.0)) / len(say_hi("af_heart", 7)) == pytest.approx(0.5, abs=0.05)


def test_long_phoneme_strings_are_split_at_sentence_ends_under_the_limit(engine):
    sentence = "The committee reviewed the proposal carefully, and everyone agreed on the plan. "
    phonemes = engine.reader("en-us").read(sentence * 25)
    assert len(phonemes) > 3 * 510
    pieces = split_phonemes(phonemes)
    assert len(pieces) >= 4 and all(len(p) <= 510 for p in pieces)
    assert all(p.endswith(".") for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(phonemes.split())  # nothing lost
    unbroken = "a" * 1200  # no break anywhere: hard cuts, nothing lost
    assert [len(p) for p in split_phonemes(unbroken)] == [510, 510, 180]


def test_cancel_stops_between_pieces(engine, monkeypatch):
    calls = []
    forward = engine._model.forward
    monkeypatch.setattr(engine._model, "forward", lambda *a, **k: calls.append(1) or forward(*a, **k))
    monkeypatch.setattr(engine, "max_phonemes", 16)
    text = "Hello there. How are you? Fine, thanks."
    assert len(split_phonemes(engine.reader("en-us").read(text), 16)) >= 3
    token = CancelToken()
    pieces = engine.synthesize(SynthesisRequest(text=text, voice="af_heart"), token)
    first = next(pieces)
    assert first.samples.size > 0
    token.cancel()
    with pytest.raises(CancelledError):
        next(pieces)
    assert len(calls) == 1

    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        list(engine.synthesize(SynthesisRequest(text=text, voice="af_heart"), token))
    assert len(calls) == 1


@pytest.mark.slow
def test_full_size_model_memory_comes_back_after_unload(tmp_path_factory, network_attempts):
    """The real config (82M parameters): RSS grows by hundreds of MB on load and falls back on unload."""
    import psutil

    from app.engines.compute import free_accelerator_memory

    folder = tiny_kokoro.build(tmp_path_factory.mktemp("kokoro-full"), tiny_kokoro.real_config())
    hub = Hub(tmp_path_factory.mktemp("models-full"))
    hub.import_folder("kokoro-82m", folder)
    engine = KokoroTorchEngine(hub=hub)
    process = psutil.Process()
    free_accelerator_memory()  # the builder's copy of the model must not count

    before = process.memory_info().rss
    start = time.perf_counter()
    engine.load()
    load_seconds = time.perf_counter() - start
    loaded = process.memory_info().rss
    assert sum(p.numel() for p in engine._model.parameters()) > 80_000_000

    engine.unload()
    after = process.memory_info().rss

    growth, residual = loaded - before, after - before
    logger.info(
        "full-size Kokoro: load %.1f s, RSS %+.0f MB on load, %+.0f MB after unload",
        load_seconds,
        growth / 1e6,
        residual / 1e6,
    )
    assert growth > 300e6, f"loading 82M float32 parameters grew RSS by only {growth / 1e6:.0f} MB"
    assert residual < 0.25 * growth, f"{residual / 1e6:.0f} MB of {growth / 1e6:.0f} MB stayed after unload"
    assert engine._model is None and not engine.loaded and network_attempts == []
