"""A full disk and a read-only data folder, for real: a tiny tmpfs is mounted, filled, and remounted
read-only. Every failure must be one plain error, and nothing already saved may be lost or damaged."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import DiskError
from app.core.models import SynthesisRequest
from app.services.history import HistoryService
from app.storage.library import Library

LONG_TEXT = " ".join(["The long report kept going, page after page, into the night."] * 12)


def _mount(point: Path, options: str) -> bool:
    if os.geteuid() != 0:
        return False
    point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A real 3 MB filesystem (tmpfs), so ENOSPC and EROFS come from the kernel, not from a mock."""
    point = tmp_path / "disk"
    if not _mount(point, "size=3m,mode=0755"):
        pytest.skip("mounting a small test filesystem needs root (CI and this machine run as root)")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _fill(folder: Path) -> Path:
    """Write a filler file until the disk refuses: the disk is then truly full."""
    filler = folder / "filler.bin"
    block = b"\0" * 65536
    with open(filler, "wb") as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(block)
                handle.flush()
    with contextlib.suppress(OSError):  # and the last few bytes too
        with open(filler, "ab") as handle:
            while True:
                handle.write(b"\0" * 512)
                handle.flush()
    return filler


def _snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and (p.parent.name == "samples" or "generations" in p.parts)
    }


def test_full_disk_is_a_plain_error_and_loses_nothing(small_disk, monkeypatch, service, piper):
    home = small_disk / "Timbre"
    monkeypatch.setenv("TIMBRE_HOME", str(home))
    history = HistoryService()
    _, kept = history.speak_and_save(service, SynthesisRequest(text="This one is safe."))
    profile = history.library.profiles.create("Safe voice")
    history.library.profiles.add_sample(profile.id, np.full(24000, 0.1, dtype=np.float32), 24000)
    before = _snapshot(home)
    filler = _fill(small_disk)

    with pytest.raises(DiskError, match="disk is full"):
        history.speak_and_save(service, SynthesisRequest(text=LONG_TEXT))
    with pytest.raises(DiskError, match="disk is full"):
        history.library.profiles.add_sample(profile.id, np.random.default_rng(0).random(96000), 24000)
    try:
        history.library.profiles.create("Another " + "voice " * 10)
    except DiskError as exc:  # a tiny insert may still fit in the WAL's free pages: both outcomes are fine
        assert "disk is full" in str(exc)

    assert _snapshot(home) == before, "nothing saved was lost or changed, and no partial file was left"
    assert [g.id for g in history.list()] == [kept.id]
    assert [s.id for s in history.library.profiles.get("Safe voice").samples] == [1]
    assert history.library.integrity_ok()
    history.library.close()

    filler.unlink()  # space again: Timbre carries on as if nothing happened
    again = HistoryService()
    _, new = again.speak_and_save(service, SynthesisRequest(text="Space again."))
    assert [g.id for g in again.list()] == [new.id, kept.id] and again.library.integrity_ok()
    again.library.close()


def test_read_only_folder_keeps_everything_browsable(small_disk, monkeypatch, service, piper, tmp_path):
    home = small_disk / "Timbre"
    monkeypatch.setenv("TIMBRE_HOME", str(home))
    history = HistoryService()
    _, kept = history.speak_and_save(service, SynthesisRequest(text="Read me later."))
    history.library.close()
    before = _snapshot(home)
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True)
    assert remount.returncode == 0, remount.stderr
    with pytest.raises(OSError) as probe:
        (small_disk / "probe").write_text("x")
    assert probe.value.errno == errno.EROFS

    history = HistoryService()  # opens, and does not try to "clean" a disk it cannot write
    assert history.library.read_only
    assert [g.text for g in history.list()] == ["Read me later."]
    assert [g.id for g in history.search("read")] == [kept.id]
    exported = history.export(kept.id, tmp_path / "copy.wav")
    assert exported.stat().st_size > 1000

    with pytest.raises(DiskError, match="read-only"):
        history.speak_and_save(service, SynthesisRequest(text="This cannot be saved."))
    with pytest.raises(DiskError, match="read-only"):
        history.favourite(kept.id)
    with pytest.raises(DiskError, match="read-only"):
        history.library.profiles.create("Nope")
    history.library.close()
    assert _snapshot(home) == before


def test_data_folder_that_cannot_be_created_is_a_plain_error(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TIMBRE_HOME", str(blocker / "Timbre"))
    with pytest.raises(Exception, match="cannot create its data folder"):
        Library()
