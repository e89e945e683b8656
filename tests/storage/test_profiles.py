"""Voice profiles and samples on a real SQLite file and real FLAC files: names, content addressing,
rename, trash and undo, purge, and start-up cleaning."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import soundfile as sf

from app.storage.library import Library
from app.storage.profiles import ProfileNameError, ProfileNotFoundError


@pytest.fixture
def library(timbre_home):
    lib = Library()
    yield lib
    lib.close()


@pytest.fixture
def store(library):
    return library.profiles


def _voice_like(seconds: float, rate: int = 24000, pitch: float = 140.0, seed: int = 0) -> np.ndarray:
    """A harmonic tone with a syllable-rate envelope and a little noise: FLAC-able, distinct per seed."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 6))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t) ** 2
    return (0.2 * tone * envelope + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def test_create_and_find_by_name_or_id(store):
    made = store.create("  Grandma\tRose  ", description="warm, slow", language="en", tags=["family"])
    assert made.name == "Grandma Rose" and made.tags == ["family"] and made.samples == []
    assert store.get("grandma rose").id == made.id
    assert store.get(made.id).name == "Grandma Rose"
    assert store.get(str(made.id)).id == made.id
    numeric = store.create("42")
    assert store.get("42").id == numeric.id  # a name that looks like an id is still a name


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x07", "x" * 81])
def test_bad_names_are_refused_plainly(store, bad):
    with pytest.raises(ProfileNameError, match="name"):
        store.create(bad)
    assert store.list() == []


def test_names_are_unique_ignoring_case(store):
    store.create("Narrator")
    with pytest.raises(ProfileNameError, match="already a profile"):
        store.create("NARRATOR")
    other = store.create("Other")
    with pytest.raises(ProfileNameError, match="already"):
        store.rename(other.id, "narrator")
    assert store.rename("Other", "other voice").name == "other voice"
    assert store.rename("Narrator", "NARRATOR").name == "NARRATOR"  # a change of case is allowed


def test_samples_are_content_addressed_flac(store, timbre_home):
    audio = _voice_like(3.0)
    a = store.create("A")
    b = store.create("B")
    first = store.add_sample(a.id, audio, 24000, transcript="hello there", quality={"snr_db": 31.5})
    second = store.add_sample(b.id, audio, 24000)
    path = timbre_home / first.file
    assert first.file == f"samples/{first.sha256}.flac" == second.file
    assert hashlib.sha256(path.read_bytes()).hexdigest() == first.sha256
    assert first.duration == pytest.approx(3.0) and first.sample_rate == 24000
    assert first.quality == {"snr_db": 31.5} and first.transcript == "hello there"
    decoded, rate = sf.read(path, dtype="float32")
    assert rate == 24000 and np.max(np.abs(decoded - audio)) < 1e-3
    assert [p.name for p in store.list()] == ["A", "B"]
    assert store.get("A").total_seconds == pytest.approx(3.0)

    store.remove_sample(first.id)
    assert path.is_file()  # B still uses the same audio
    store.remove_sample(second.id)
    assert not path.exists()
    assert [p.name for p in (timbre_home / "samples").iterdir()] == []


def test_transcript_edits_are_kept(store):
    profile = store.create("T")
    sample = store.add_sample(profile.id, _voice_like(1.0), 24000, transcript="helo")
    assert store.set_transcript(sample.id, "hello").transcript == "hello"
    assert store.get("T").samples[0].transcript == "hello"


def test_sample_for_missing_profile_writes_nothing(store, timbre_home):
    with pytest.raises(ProfileNotFoundError):
        store.add_sample(999, _voice_like(1.0), 24000)
    assert not list((timbre_home / "samples").glob("*")) if (timbre_home / "samples").exists() else True


def test_delete_is_undoable_and_undo_avoids_name_clashes(store):
    original = store.create("Announcer", description="deep")
    store.add_sample(original.id, _voice_like(2.0), 24000)
    store.delete("announcer")
    assert store.list() == []
    with pytest.raises(ProfileNotFoundError, match="timbre profiles list"):
        store.get("Announcer")
    store.create("Announcer")  # the name is free again while the old one is in the trash
    restored = store.undo_delete()
    assert restored.id == original.id and restored.name == "Announcer (2)"
    assert restored.description == "deep" and len(restored.samples) == 1
    with pytest.raises(ProfileNotFoundError, match="no deleted profile"):
        store.undo_delete()


def test_purge_removes_only_unshared_audio(store, timbre_home):
    shared, own = _voice_like(1.0, seed=1), _voice_like(1.0, seed=2)
    keep = store.create("Keep")
    gone = store.create("Gone")
    kept_sample = store.add_sample(keep.id, shared, 24000)
    store.add_sample(gone.id, shared, 24000)
    own_sample = store.add_sample(gone.id, own, 24000)
    store.delete("Gone")
    assert (timbre_home / own_sample.file).is_file()  # trash keeps audio until purged
    assert store.purge_trash() == 1
    assert (timbre_home / kept_sample.file).is_file()
    assert not (timbre_home / own_sample.file).exists()
    assert [p.name for p in store.list(include_deleted=True)] == ["Keep"]


def test_clean_orphans_fixes_both_directions(library, store, timbre_home):
    profile = store.create("P")
    lost = store.add_sample(profile.id, _voice_like(1.0, seed=3), 24000)
    kept = store.add_sample(profile.id, _voice_like(1.0, seed=4), 24000)
    (timbre_home / lost.file).unlink()  # e.g. removed by hand
    samples = timbre_home / "samples"
    (samples / ".sample-abc.flac").write_bytes(b"half written")
    (samples / ("f" * 64 + ".flac")).write_bytes(b"no row")
    (samples / ".import-xyz").mkdir()
    (samples / ".import-xyz" / "part.flac").write_bytes(b"x")
    rows, files = library.clean_orphans()
    assert (rows, files) == (1, 2)
    assert sorted(p.name for p in samples.iterdir()) == [f"{kept.sha256}.flac"]
    assert [s.id for s in store.get("P").samples] == [kept.id]
    assert library.integrity_ok()
