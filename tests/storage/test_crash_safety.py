"""SIGKILL in the middle of a stream of saves never corrupts the library or leaves half a generation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.storage.library import Library

ROOT = Path(__file__).resolve().parents[2]

# The child saves generations exactly as speak-and-save does (streamed into a temp file beside the
# final name, renamed, then recorded), as fast as it can, until it is killed.
CHILD = """
import sys, numpy as np
from app.services.sinks import FileSink
from app.storage.library import Library
library = Library()
tone = (0.3 * np.sin(np.linspace(0, 400 * np.pi, 22050))).astype(np.float32)
print("ready", flush=True)
i = 0
while True:
    path = library.new_generation_path()
    sink = FileSink(path)
    sink.open(22050)
    for _ in range(4):
        sink.write(tone)
    sink.close()
    library.add_generation(path, text=f"saved number {i}", engine="piper", voice="joe",
                           duration=4.0, sample_rate=22050)
    i += 1
"""


@pytest.mark.parametrize("delay", [0.3, 0.9, 1.7])
def test_sigkill_during_saves_leaves_a_consistent_library(timbre_home, delay):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(10)

    library = Library()
    library.clean_orphans()
    assert library.integrity_ok()
    rows, page = [], 1
    while batch := library.history(page=page, page_size=500):
        rows, page = rows + batch, page + 1
    assert rows, "the child saved nothing before it was killed; the test proves nothing"
    for generation in rows:
        assert library.absolute(generation).is_file()
    on_disk = {
        p.relative_to(timbre_home).as_posix() for p in (timbre_home / "generations").rglob("*") if p.is_file()
    }
    assert on_disk == {g.file for g in rows}
    texts = [g.text for g in rows]
    assert len(set(texts)) == len(texts)
    library.close()
