"""`timbre history play|export|regenerate` and `timbre profiles ...`, run in process on a real library."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
import soundfile as sf

from app.cli import main
from app.core.loudness import measure_lufs
from app.storage.library import Library


def _one_line_error(capsys, needle: str) -> None:
    err = capsys.readouterr().err
    assert err.startswith("timbre: ") and err.count("\n") == 1 and needle in err, err


def test_history_export_regenerate_and_play(timbre_home, tmp_path, capsys):
    assert main(["speak", "Export me in every format.", "--no-play", "--voice", "af_heart"]) == 0
    capsys.readouterr()
    for name in ("take.wav", "take.flac", "take.mp3", "take.m4a"):
        assert main(["history", "export", "1", "--out", str(tmp_path / name)]) == 0
        assert capsys.readouterr().out.strip() == str(tmp_path / name)
    with av.open(str(tmp_path / "take.m4a")) as container:
        assert container.streams.audio[0].codec_context.name == "aac"

    assert main(["history", "export", "1", "--out", str(tmp_path / "loud.mp3"), "--loudness"]) == 0
    assert "-16 LUFS" in capsys.readouterr().err
    with av.open(str(tmp_path / "loud.mp3")) as container:
        rate = container.streams.audio[0].rate
        decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    assert measure_lufs(decoded.astype(np.float32), rate) == pytest.approx(-16.0, abs=1.0)

    assert main(["history", "export", "1", "--out", str(tmp_path / "x.ogg")]) == 1
    _one_line_error(capsys, ".mp3")
    assert main(["history", "export", "7", "--out", str(tmp_path / "y.wav")]) == 1
    _one_line_error(capsys, "no generation 7")

    assert main(["history", "regenerate", "1"]) == 0
    assert capsys.readouterr().out.strip() == "2"
    assert main(["history", "show", "2", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["params"]["regenerated_from"] == 1 and shown["voice"] == "af_heart"
    first, _ = sf.read(tmp_path / "take.wav")
    assert abs(sf.info(shown["path"]).duration - len(first) / 24000) < 0.01

    from app.services.playback import SoundDeviceOutput

    try:
        SoundDeviceOutput.check_available()
    except Exception:  # noqa: BLE001 - no speakers here: the command must say so in one line
        assert main(["history", "play", "1"]) == 1
        _one_line_error(capsys, "audio")
    else:  # pragma: no cover - only on machines with an output device
        assert main(["history", "play", "1"]) == 0


def test_profiles_commands_round_trip_between_two_homes(timbre_home, tmp_path, monkeypatch, capsys):
    assert main(["profiles", "list"]) == 0
    assert "No voice profiles yet" in capsys.readouterr().err
    rate = 22050
    t = np.arange(rate * 2) / rate
    with Library() as library:
        profile = library.profiles.create("Studio Voice", language="en", preferred_voice="af_heart")
        library.profiles.add_sample(profile.id, (0.3 * np.sin(2 * np.pi * 150 * t)).astype("float32"), rate)

    assert main(["profiles", "list"]) == 0
    assert "Studio Voice" in capsys.readouterr().out
    assert main(["profiles", "rename", "studio voice", "Podcast"]) == 0
    assert main(["profiles", "show", "Podcast", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == "Podcast" and len(shown["samples"]) == 1 and shown["total_seconds"] == 2.0

    archive = tmp_path / "podcast.timbrevoice"
    assert main(["profiles", "export", "Podcast", "--out", str(archive)]) == 0
    assert capsys.readouterr().out.strip() == str(archive)
    assert main(["profiles", "delete", "Podcast"]) == 0
    assert "undo" in capsys.readouterr().err
    assert main(["profiles", "show", "Podcast"]) == 1
    _one_line_error(capsys, "no voice profile")
    assert main(["profiles", "undo"]) == 0
    assert 'Restored "Podcast"' in capsys.readouterr().err

    monkeypatch.setenv("TIMBRE_HOME", str(tmp_path / "another-mac"))
    assert main(["profiles", "import", str(archive)]) == 0
    assert capsys.readouterr().out.strip() == "Podcast"
    assert main(["profiles", "import", str(archive), "--name", "Copy"]) == 0
    assert capsys.readouterr().out.strip() == "Copy"
    assert main(["profiles", "list", "--json"]) == 0
    names = [p["name"] for p in json.loads(capsys.readouterr().out)]
    assert names == ["Copy", "Podcast"]
    (tmp_path / "junk.timbrevoice").write_bytes(b"PK\x03\x04 not really")
    assert main(["profiles", "import", str(tmp_path / "junk.timbrevoice")]) == 1
    _one_line_error(capsys, "damaged")
