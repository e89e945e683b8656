"""The `timbre` command line, in process and as a real subprocess, judged by listening (Whisper)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from speech import transcribe, word_error_rate, words_per_second_ok

from app.cli import main

ROOT = Path(__file__).resolve().parents[1]
# Plain words only: Whisper tiny.en cannot know a brand name, and homophones ("aloud", "allowed") would
# measure the listener rather than the voice.
SPOKEN = (
    "This program reads your text to you on your own computer. "
    "The weather was cold, so we stayed inside and read books. "
    "Please bring the green umbrella when you come home tonight."
)


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
        timeout=300,
    )


@pytest.mark.parametrize("voice", ["joe", "af_heart"])
def test_speak_is_understood_by_a_listener(tmp_path, voice):
    out = tmp_path / "speech.wav"
    proc = run_cli("speak", SPOKEN, "--voice", voice, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Spoke " in proc.stderr and str(out) in proc.stderr
    heard = transcribe(str(out))
    wer = word_error_rate(SPOKEN, heard)
    assert wer <= 0.10, f"WER {wer:.0%}: heard {heard!r}"


def test_speak_reads_stdin_and_writes_flac(tmp_path):
    out = tmp_path / "stdin.flac"
    proc = run_cli("speak", "-", "--out", str(out), "--quiet", stdin="Reading from standard input works.")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    audio, rate = sf.read(out)
    assert rate == 22050 and words_per_second_ok("Reading from standard input works", len(audio) / rate)


def test_errors_are_one_line_and_nonzero(tmp_path, timbre_home, capsys):
    out = tmp_path / "out"
    out.mkdir()
    cases = [
        (["speak", "   ", "--out", str(out / "a.wav")], "nothing to say"),
        (["speak", "hi", "--voice", "af_haert", "--out", str(out / "b.wav")], "af_heart"),
        (["speak", "hi", "--engine", "kokor", "--out", str(out / "c.wav")], "kokoro"),
        (["speak", "hi", "--out", str(out / "missing" / "d.wav")], "does not exist"),
        (["speak", "hi", "--out", "/proc/e.wav"], "/proc"),
        (["speak", "hi", "--out", str(out / "f.mp3")], ".wav or .flac"),
        (["speak", "hi", "--no-play", "--no-save"], "Nothing to do"),
        (["speak", "hi", "--speed", "5", "--out", str(out / "g.wav")], "speeds from"),
    ]
    for argv, needle in cases:
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 1, (argv, err)
        assert err.startswith("timbre: ") and err.count("\n") == 1, err
        assert needle in err, (needle, err)
    assert list(out.iterdir()) == [], "no error may leave a file behind"
    generations = timbre_home / "generations"
    assert not generations.exists() or not [p for p in generations.rglob("*") if p.is_file()]
    assert main(["history", "list", "--json"]) == 0 and json.loads(capsys.readouterr().out) == []


def test_progress_on_stderr_for_long_text(tmp_path, capsys):
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    assert main(["speak", text, "--out", str(tmp_path / "long.wav")]) == 0
    err = capsys.readouterr().err
    assert "Speaking… 100%" in err and err.count("Speaking…") >= 3


def test_voices_json_lists_engines_and_offline_state(capsys):
    assert main(["voices", "--json"]) == 0
    engines = {e["id"]: e for e in json.loads(capsys.readouterr().out)}
    assert {"piper", "kokoro", "qwen3", "qwen3-clone", "qwen3-design", "xtts", "kokoro-torch"} <= set(engines)
    for optional in ("qwen3", "qwen3-clone", "xtts", "kokoro-torch"):  # weights not downloaded here
        state = engines[optional]
        assert not state["available"] and "timbre models download" in state["reason"]
        assert state["models"], "the model-manager entries it needs are named"
    assert engines["piper"]["available"] and engines["piper"]["default_voice"] == "joe"
    kokoro_voices = {v["id"]: v for v in engines["kokoro"]["voices"]}
    assert len(kokoro_voices) >= 54 and kokoro_voices["af_heart"]["available"]
    assert "ja" in engines["kokoro"]["capabilities"]["languages"]
    assert engines["kokoro"]["capabilities"]["voice_blending"] is True


def test_voices_text_output(capsys):
    assert main(["voices"]) == 0
    out = capsys.readouterr().out
    assert "Piper [piper], ready offline" in out and "joe" in out and "am_michael" in out


def test_gui_smoke_shows_the_window_and_quits(timbre_home):
    proc = run_cli("gui", "--smoke")
    assert proc.returncode == 0, proc.stderr
    assert "the window was on screen" in proc.stdout


def test_console_script_and_version():
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("timbre ")


def test_history_round_trip(timbre_home, capsys):
    assert main(["speak", "The lighthouse keeper woke early.", "--no-play"]) == 0
    assert main(["speak", "Bread and butter.", "--no-play", "--voice", "af_heart"]) == 0
    assert "Saved in history as #2" in capsys.readouterr().err
    assert main(["history", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["#2", "#1"] and "kokoro/af_heart" in lines[0]
    assert main(["history", "search", "lightho", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [g["id"] for g in found] == [1] and Path(found[0]["path"]).is_file()
    assert main(["history", "favourite", "1"]) == 0
    assert main(["history", "list", "--favourites", "--json"]) == 0
    capsys.readouterr()
    assert main(["history", "delete", "1"]) == 0
    assert main(["history", "search", "lighthouse"]) == 0
    assert "Nothing found" in capsys.readouterr().err
    assert main(["history", "undo"]) == 0
    assert main(["history", "show", "1"]) == 0
    assert "The lighthouse keeper woke early." in capsys.readouterr().out
    assert main(["history", "show", "99"]) == 1
    assert capsys.readouterr().err == "timbre: There is no generation 99 in the library.\n"
    for query in ['"', "NEAR(", "text:*", "'; drop table generations; --"]:
        assert main(["history", "search", query]) == 0
