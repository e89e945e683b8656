"""`timbre speak` with the cloning engines: a profile cloned by Qwen3-TTS, presets with a seed, design.

The tiny Qwen3 checkpoints are imported into a temporary models folder, and the CLI runs its real path
(registry, guard, history) against them, exactly as it would against downloaded weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app import cli
from app.engines import registry as registry_mod
from app.engines.hub import Hub

pytestmark = pytest.mark.slow


@pytest.fixture()
def qwen_models(tiny_qwen_checkpoints, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hub:
    hub = Hub(tmp_path / "models")
    for model_id in ("qwen3-tts-0.6b-base", "qwen3-tts-0.6b-customvoice", "qwen3-tts-1.7b-voicedesign"):
        hub.import_folder(model_id, tiny_qwen_checkpoints[model_id])
    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(hub.folder))
    monkeypatch.setattr(registry_mod, "_default", registry_mod.Registry())
    yield hub
    registry_mod._default.unload_all()


def make_profile(name: str, seconds: float, transcript: str) -> None:
    from app.storage.library import Library

    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    voice = (0.2 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    library = Library()
    profile = library.profiles.create(name)
    library.profiles.add_sample(profile.id, voice, rate, transcript=transcript)


def test_a_profile_is_cloned_by_the_installed_cloning_engine(qwen_models, tmp_path: Path, capsys):
    from app.services.history import HistoryService

    make_profile("Ada", 4.0, "Hello world. The quick brown fox.")
    out = tmp_path / "ada.wav"
    code = cli.main(["speak", "Hello world.", "--profile", "Ada", "--out", str(out), "--seed", "4"])
    assert code == 0
    audio, rate = sf.read(out, dtype="float32")
    assert rate == 24000 and len(audio) > 0
    err = capsys.readouterr().err
    assert "with qwen3-clone/clone" in err
    [generation] = HistoryService().list()
    assert generation.engine == "qwen3-clone" and generation.profile_id is not None
    assert len(generation.params["cloned_from"]) == 1


def test_a_short_recording_is_refused_in_plain_words(qwen_models, tmp_path: Path, capsys):
    make_profile("Bo", 1.5, "Hi.")
    code = cli.main(["speak", "Hello.", "--profile", "Bo", "--out", str(tmp_path / "bo.wav")])
    assert code == 1
    assert "needs at least 3 s of speech" in capsys.readouterr().err
    assert not (tmp_path / "bo.wav").exists()


def test_preset_voice_with_a_seed_is_reproducible_and_design_needs_a_description(
    qwen_models, tmp_path, capsys
):
    paths = [tmp_path / "a.wav", tmp_path / "b.wav"]
    for path in paths:
        args = ["speak", "Hello.", "--engine", "qwen3", "--voice", "Ryan", "--seed", "9", "--out", str(path)]
        assert cli.main([*args, "--no-save"]) == 0
    a, b = (sf.read(p, dtype="float32")[0] for p in paths)
    np.testing.assert_array_equal(a, b)
    code = cli.main(["speak", "Hello.", "--engine", "qwen3-design", "--out", str(tmp_path / "d.wav")])
    assert code == 1 and "Describe the voice" in capsys.readouterr().err
    design = ["speak", "Hi.", "--engine", "qwen3-design", "--instruct", "A warm low voice.", "--out"]
    assert cli.main([*design, str(tmp_path / "d.wav"), "--seed", "1"]) == 0


def test_asking_for_a_device_that_is_not_here_is_an_error_not_a_fallback(
    qwen_models, tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TIMBRE_DEVICE", "auto")  # the CLI sets it from --device; restored after the test
    code = cli.main(
        ["speak", "Hello.", "--engine", "qwen3", "--device", "cuda", "--out", str(tmp_path / "x.wav")]
    )
    assert code == 1
    assert "CUDA GPU was asked for, but this computer does not have one" in capsys.readouterr().err
