"""``timbre narrate`` as a real subprocess: what it says, --tee, --out judged by listening, Ctrl+C, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.services.test_narrate import EXPECTED
from tests.speech import transcribe, word_error_rate

ROOT = Path(__file__).resolve().parents[1]
STREAMS = ROOT / "tests" / "data" / "agent_streams"


def narrate(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "app", "narrate", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env=os.environ.copy(),
        timeout=300,
    )


def shown(stderr: bytes) -> list[str]:
    """The sentences narrate showed as it spoke them."""
    return [line[2:] for line in stderr.decode().splitlines() if line.startswith("» ")]


@pytest.mark.slow
def test_narrate_says_the_replies_and_records_what_was_heard(tmp_path: Path) -> None:
    out = tmp_path / "narration.wav"
    proc = narrate("--no-play", "--out", str(out), stdin=(STREAMS / "claude_partial.jsonl").read_bytes())
    assert proc.returncode == 0, proc.stderr.decode()
    assert shown(proc.stderr) == EXPECTED
    assert "Done: 11 sentences spoken" in proc.stderr.decode() and proc.stdout == b""
    heard = transcribe(str(out))
    # Listening by proxy: Whisper hears the sentences ("text dot PY" it writes "text.py", one word short).
    assert word_error_rate(" ".join(EXPECTED), heard) < 0.3, heard
    assert "thinking" not in heard.lower() and "parse_lines" not in heard


def test_tee_passes_the_stream_through_byte_for_byte(tmp_path: Path) -> None:
    data = (STREAMS / "claude_whole.jsonl").read_bytes()
    proc = narrate("--tee", "--no-play", "--out", str(tmp_path / "n.wav"), "-q", stdin=data)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == data and proc.stderr == b""


def test_ctrl_c_stops_at_once_with_130(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "narrate", "--no-play", "--out", str(tmp_path / "n.wav")],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdin is not None and proc.stderr is not None
    content = [{"type": "text", "text": "Hello there."}]
    message = {"type": "assistant", "message": {"id": "m1", "content": content}}
    proc.stdin.write((json.dumps(message) + "\n").encode())
    proc.stdin.flush()  # and keep standard input open, as a running agent does
    deadline = time.monotonic() + 60
    seen = b""
    while b"Hello there." not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    assert b"Hello there." in seen
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=10)
    finally:
        proc.kill()
    rest = proc.stderr.read().decode()
    assert code == 130, rest
    assert "Stopped: 1 sentence spoken" in rest and "Traceback" not in rest
    assert (tmp_path / "n.wav").exists()  # what was heard before the stop is kept


def test_plain_errors_before_reading() -> None:
    proc = narrate("--voice", "nobody", stdin=b"")
    assert proc.returncode == 1 and b"There is no voice called 'nobody'" in proc.stderr
    proc = narrate("--no-play", stdin=b"")
    assert proc.returncode == 1 and b"add --out FILE.wav" in proc.stderr
    proc = narrate("--translate-to", "klingon", stdin=b"")
    assert proc.returncode == 1 and b"timbre: " in proc.stderr and b"Traceback" not in proc.stderr
