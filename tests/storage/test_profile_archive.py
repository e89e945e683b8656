"""Profile archives: a real round trip between two libraries, and hostile or damaged archives that must
be refused with a plain message while storing nothing."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import TimbreError
from app.core.models import CancelToken, SynthesisRequest
from app.storage.library import Library
from app.storage.profile_archive import ArchiveError, export_profile, import_profile


@pytest.fixture
def spoken(piper) -> np.ndarray:
    """A real recording of a voice (Piper's Joe), as a profile's reference would be."""
    request = SynthesisRequest(text="The quick brown fox jumps over the lazy dog.", voice="joe")
    return np.concatenate([c.samples for c in piper.synthesize(request, CancelToken())])


@pytest.fixture
def source(tmp_path):
    lib = Library(tmp_path / "alice")
    yield lib
    lib.close()


@pytest.fixture
def target(tmp_path):
    lib = Library(tmp_path / "bob")
    yield lib
    lib.close()


def _make_profile(store, spoken, name="Joe"):
    profile = store.create(
        name,
        description="American male, calm",
        language="en",
        tags=["narration", "calm"],
        preferred_engine="kokoro",
        preferred_voice="am_michael:0.6,am_adam:0.4",
    )
    store.add_sample(profile.id, spoken, 22050, transcript="The quick brown fox.", quality={"snr_db": 40.0})
    store.add_sample(profile.id, spoken[: len(spoken) // 2], 22050, transcript="The quick")
    return store.get(profile.id)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_round_trip_to_another_library(source, target, spoken, tmp_path):
    original = _make_profile(source.profiles, spoken)
    archive = export_profile(source.profiles, "joe", tmp_path / "joe")
    assert archive.name == "joe.timbrevoice" and zipfile.is_zipfile(archive)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export-")] == []

    imported = import_profile(target.profiles, archive)
    for key in ("name", "description", "language", "tags", "preferred_engine", "preferred_voice"):
        assert getattr(imported, key) == getattr(original, key), key
    assert imported.created_at == original.created_at
    assert [(s.sha256, s.transcript, s.quality) for s in imported.samples] == [
        (s.sha256, s.transcript, s.quality) for s in original.samples
    ]
    for mine, theirs in zip(original.samples, imported.samples, strict=True):
        assert (target.root / theirs.file).read_bytes() == (source.root / mine.file).read_bytes()
        assert theirs.duration == pytest.approx(mine.duration)

    again = import_profile(target.profiles, archive)
    assert again.name == "Joe (2)" and again.id != imported.id
    renamed = import_profile(target.profiles, archive, name="Joe for podcasts")
    assert renamed.name == "Joe for podcasts"
    assert len(list((target.root / "samples").iterdir())) == 2  # content-addressed: stored once
    assert target.integrity_ok()


def test_export_errors_are_plain(source, spoken, tmp_path):
    _make_profile(source.profiles, spoken)
    with pytest.raises(ArchiveError, match="does not exist"):
        export_profile(source.profiles, "Joe", tmp_path / "no" / "such" / "folder" / "x.timbrevoice")
    with pytest.raises(Exception, match="no voice profile"):
        export_profile(source.profiles, "Nobody", tmp_path / "x")


def _write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def _manifest(**overrides) -> bytes:
    data = {
        "format": "timbre-voice-profile",
        "version": 1,
        "profile": {"name": "Mallory"},
        "samples": [{"sha256": "0" * 64, "transcript": ""}],
    }
    data.update(overrides)
    return json.dumps(data).encode()


def _hostile_archives(tmp_path: Path, good: Path) -> dict[str, tuple[Path, str]]:
    cases: dict[str, tuple[Path, str]] = {}
    (tmp_path / "plain.timbrevoice").write_text("just some text")
    cases["not a zip"] = (tmp_path / "plain.timbrevoice", "damaged or is not")
    cases["no manifest"] = (_write_zip(tmp_path / "a.zip", {"x.txt": b"hi"}), "no manifest")
    cases["bad json"] = (_write_zip(tmp_path / "b.zip", {"manifest.json": b"{nope"}), "damaged")
    cases["other format"] = (
        _write_zip(tmp_path / "c.zip", {"manifest.json": _manifest(format="zip-of-cats")}),
        "not a Timbre voice profile",
    )
    cases["newer version"] = (
        _write_zip(tmp_path / "d.zip", {"manifest.json": _manifest(version=99)}),
        "newer Timbre",
    )
    cases["bad checksum field"] = (
        _write_zip(
            tmp_path / "e.zip", {"manifest.json": _manifest(samples=[{"sha256": "../../etc/passwd"}])}
        ),
        "checksum",
    )
    cases["missing sample"] = (
        _write_zip(tmp_path / "f.zip", {"manifest.json": _manifest()}),
        "missing one of its samples",
    )
    # A real archive with one sample's bytes changed: the checksum catches it.
    with zipfile.ZipFile(good) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    sample_name = next(n for n in entries if n.startswith("samples/"))
    tampered = dict(entries)
    tampered[sample_name] = entries[sample_name][:-100] + bytes(100)
    cases["tampered sample"] = (_write_zip(tmp_path / "g.zip", tampered), "checksum does not match")
    # A path-traversal entry is never extracted; only names built from the manifest's checksums are read.
    evil = dict(entries)
    evil["../../evil.flac"] = b"pwned"
    evil["manifest.json"] = entries["manifest.json"].replace(b'"samples/', b'"../../')
    cases["traversal names are ignored"] = (_write_zip(tmp_path / "h.zip", evil), "")
    truncated = tmp_path / "i.timbrevoice"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases["truncated"] = (truncated, "damaged or is not")
    return cases


def test_hostile_archives_store_nothing(source, target, spoken, tmp_path):
    _make_profile(source.profiles, spoken)
    good = export_profile(source.profiles, "Joe", tmp_path / "good")
    # The target already has a profile whose audio must survive every failed import untouched.
    existing = target.profiles.create("Existing")
    target.profiles.add_sample(existing.id, spoken[:22050], 22050)
    before = _files(target.root)
    audio_before = [f for f in before if f.startswith("samples/")]
    digest_before = {f: hashlib.sha256((target.root / f).read_bytes()).hexdigest() for f in audio_before}

    for label, (path, message) in _hostile_archives(tmp_path, good).items():
        if label == "traversal names are ignored":
            imported = import_profile(target.profiles, path)
            assert len(imported.samples) == 2, label
            assert not (tmp_path.parent / "evil.flac").exists()
            target.profiles.delete(imported.id)
            target.profiles.purge_trash()
            continue
        with pytest.raises(TimbreError, match=message):
            import_profile(target.profiles, path)
        assert [p.name for p in target.profiles.list(include_deleted=True)] == ["Existing"], label
        assert _files(target.root) == before, label

    assert {
        f: hashlib.sha256((target.root / f).read_bytes()).hexdigest() for f in audio_before
    } == digest_before
    assert target.integrity_ok()


def test_failure_after_some_samples_rolls_everything_back(source, target, spoken, tmp_path):
    _make_profile(source.profiles, spoken)
    good = export_profile(source.profiles, "Joe", tmp_path / "good")
    with zipfile.ZipFile(good) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    manifest = json.loads(entries["manifest.json"])
    last = manifest["samples"][-1]["sha256"]
    entries[f"samples/{last}.flac"] = b"not flac at all"  # the first sample imports, the second fails
    broken = _write_zip(tmp_path / "broken.timbrevoice", entries)
    with pytest.raises(Exception, match="checksum|readable"):
        import_profile(target.profiles, broken)
    assert target.profiles.list(include_deleted=True) == []
    assert not any((target.root / "samples").iterdir())
    assert target.db.execute("SELECT count(*) FROM samples").fetchone()[0] == 0
