"""Voice profiles and their reference samples, in the library database and under ``samples/``.

A sample's audio is stored once, content-addressed (``samples/<sha256>.flac``, the hash of the file's
bytes), written completely before any row points at it. Profile deletes are soft, like generations, so
they can be undone; a sample file is removed only when no row refers to it any more.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from app.core.errors import TimbreError, audio_write_error, disk_error

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 80


class ProfileNotFoundError(TimbreError):
    """No profile of that name or id."""


class ProfileNameError(TimbreError):
    """A profile name that is empty, too long, or already taken."""


@dataclass
class Sample:
    """One reference recording of a profile's voice."""

    id: int
    profile_id: int
    sha256: str
    file: str
    """Path relative to the data folder: ``samples/<sha256>.flac``."""
    transcript: str
    duration: float
    sample_rate: int
    quality: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""

    @classmethod
    def from_row(cls, row: Any) -> Sample:
        data = dict(row)
        data["quality"] = json.loads(data["quality"] or "{}")
        return cls(**data)


@dataclass
class Profile:
    """A named voice: its description, preferences and reference samples."""

    id: int
    name: str
    description: str
    language: str | None
    tags: list[str]
    preferred_engine: str | None
    preferred_voice: str | None
    created_at: str
    updated_at: str
    deleted_at: str | None = None
    samples: list[Sample] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return float(sum(s.duration for s in self.samples))

    @classmethod
    def from_row(cls, row: Any, samples: list[Sample]) -> Profile:
        data = dict(row)
        data["tags"] = json.loads(data["tags"] or "[]")
        return cls(**data, samples=samples)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def clean_name(name: str) -> str:
    """A profile name as stored: NFC, single spaces, no control characters; or a plain error."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = "".join(
        " " if ch.isspace() else ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    text = " ".join(text.split())
    if not text:
        raise ProfileNameError("A profile needs a name.")
    if len(text) > MAX_NAME_CHARS:
        raise ProfileNameError(f"A profile name can be at most {MAX_NAME_CHARS} characters.")
    return text


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ProfileStore:
    """Profiles and samples of one library (``root`` is the data folder, ``db`` its open database)."""

    def __init__(self, root: Path, db: Database) -> None:
        self.root = root
        self.db = db

    def transaction(self) -> Any:
        """A write transaction; a full or read-only disk becomes a plain error and changes nothing."""
        from app.storage.db import writing

        return writing(self.db, self.root)

    @property
    def samples_dir(self) -> Path:
        return self.root / "samples"

    # --- profiles ------------------------------------------------------------------------------------
    def create(
        self,
        name: str,
        description: str = "",
        language: str | None = None,
        tags: list[str] | tuple[str, ...] = (),
        preferred_engine: str | None = None,
        preferred_voice: str | None = None,
        created_at: str | None = None,
    ) -> Profile:
        name = clean_name(name)
        self._require_free(name)
        now = _now()
        with self.transaction():
            cursor = self.db.execute(
                "INSERT INTO profiles (name, description, language, tags, preferred_engine, preferred_voice,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    name,
                    description or "",
                    language,
                    json.dumps(list(tags)),
                    preferred_engine,
                    preferred_voice,
                    created_at or now,
                    now,
                ],
            )
        return self.get(int(cursor.lastrowid))

    def _require_free(self, name: str, except_id: int | None = None) -> None:
        row = self.db.execute(
            "SELECT id FROM profiles WHERE name = ? AND deleted_at IS NULL AND id IS NOT ?", [name, except_id]
        ).fetchone()
        if row is not None:
            raise ProfileNameError(f'There is already a profile called "{name}".')

    def free_name(self, name: str) -> str:
        """``name``, or ``name (2)``, ``name (3)``… whichever no live profile uses yet."""
        base = clean_name(name)
        candidate, n = base, 1
        while self.db.execute(
            "SELECT 1 FROM profiles WHERE name = ? AND deleted_at IS NULL", [candidate]
        ).fetchone():
            n += 1
            suffix = f" ({n})"
            candidate = base[: MAX_NAME_CHARS - len(suffix)] + suffix
        return candidate

    def get(self, key: int | str, include_deleted: bool = False) -> Profile:
        """A profile by id or by name (names ignore case)."""
        row = None if isinstance(key, int) else self._named(str(key))
        if row is None and (isinstance(key, int) or str(key).strip().isdigit()):
            row = self.db.execute("SELECT * FROM profiles WHERE id = ?", [int(key)]).fetchone()
        if row is None or (row["deleted_at"] is not None and not include_deleted):
            raise ProfileNotFoundError(f'There is no voice profile "{key}". See: timbre profiles list')
        return Profile.from_row(row, self.samples(row["id"]))

    def _named(self, name: str) -> Any:
        try:
            name = clean_name(name)
        except ProfileNameError:
            return None
        return self.db.execute(
            "SELECT * FROM profiles WHERE name = ? AND deleted_at IS NULL", [name]
        ).fetchone()

    def list(self, include_deleted: bool = False) -> list[Profile]:
        where = "" if include_deleted else "WHERE deleted_at IS NULL"
        rows = self.db.execute(f"SELECT * FROM profiles {where} ORDER BY name COLLATE NOCASE").fetchall()
        return [Profile.from_row(r, self.samples(r["id"])) for r in rows]

    def rename(self, key: int | str, new_name: str) -> Profile:
        profile = self.get(key)
        name = clean_name(new_name)
        self._require_free(name, except_id=profile.id)
        with self.transaction():
            self.db.execute(
                "UPDATE profiles SET name = ?, updated_at = ? WHERE id = ?", [name, _now(), profile.id]
            )
        return self.get(profile.id)

    def update(self, key: int | str, **changes: Any) -> Profile:
        """Change description, language, tags or the preferred engine/voice."""
        allowed = {"description", "language", "tags", "preferred_engine", "preferred_voice"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"Unknown profile fields: {', '.join(sorted(unknown))}")
        profile = self.get(key)
        if "tags" in changes:
            changes["tags"] = json.dumps(list(changes["tags"] or []))
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            with self.transaction():
                self.db.execute(
                    f"UPDATE profiles SET {sets}, updated_at = ? WHERE id = ?",
                    [*changes.values(), _now(), profile.id],
                )
        return self.get(profile.id)

    def delete(self, key: int | str) -> Profile:
        """Move a profile (with its samples) to the trash; :meth:`undo_delete` brings it back."""
        profile = self.get(key)
        with self.transaction():
            self.db.execute("UPDATE profiles SET deleted_at = ? WHERE id = ?", [_now(), profile.id])
        return self.get(profile.id, include_deleted=True)

    def undo_delete(self) -> Profile:
        """Restore the profile deleted most recently (renamed "X (2)" if its name was taken meanwhile)."""
        row = self.db.execute(
            "SELECT id, name FROM profiles WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC, id DESC"
        ).fetchone()
        if row is None:
            raise ProfileNotFoundError("There is no deleted profile to restore.")
        name = self.free_name(row["name"])
        with self.transaction():
            self.db.execute("UPDATE profiles SET deleted_at = NULL, name = ? WHERE id = ?", [name, row["id"]])
        return self.get(row["id"])

    def purge_trash(self) -> int:
        """Delete trashed profiles for good, and sample files nothing refers to any more."""
        ids = [r[0] for r in self.db.execute("SELECT id FROM profiles WHERE deleted_at IS NOT NULL")]
        with self.transaction():
            self.db.execute("DELETE FROM profiles WHERE deleted_at IS NOT NULL")
        self.clean_orphans()
        return len(ids)

    # --- samples -------------------------------------------------------------------------------------
    def samples(self, profile_id: int) -> list[Sample]:
        rows = self.db.execute("SELECT * FROM samples WHERE profile_id = ? ORDER BY id", [profile_id])
        return [Sample.from_row(r) for r in rows.fetchall()]

    def add_sample(
        self,
        profile_id: int,
        audio: np.ndarray,
        sample_rate: int,
        transcript: str = "",
        quality: dict[str, Any] | None = None,
    ) -> Sample:
        """Store ``audio`` (mono float) as a content-addressed FLAC and record it for the profile."""
        import numpy as np
        import soundfile as sf

        self.get(profile_id)
        with self._temp_sample() as tmp:
            samples = np.asarray(audio, dtype=np.float32)
            try:
                sf.write(tmp, samples, int(sample_rate), format="FLAC", subtype="PCM_16")
            except (OSError, RuntimeError) as exc:
                raise audio_write_error(exc, self.samples_dir) from exc
            return self._adopt(profile_id, tmp, transcript, quality)

    def add_sample_file(
        self,
        profile_id: int,
        flac: Path,
        transcript: str = "",
        quality: dict[str, Any] | None = None,
        expected_sha256: str | None = None,
    ) -> Sample:
        """Copy an existing FLAC sample in (used by archive import), checking its hash if one is given."""
        self.get(profile_id)
        with self._temp_sample() as tmp:
            shutil.copyfile(flac, tmp)
            if expected_sha256 and file_sha256(tmp) != expected_sha256:
                raise TimbreError("One of the samples is damaged (its checksum does not match).")
            return self._adopt(profile_id, tmp, transcript, quality)

    @contextlib.contextmanager
    def _temp_sample(self) -> Iterator[Path]:
        """A temp FLAC path in ``samples/``: removed afterwards (it was renamed away if adopted), and any
        OSError meanwhile told in plain words."""
        try:
            self.samples_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".sample-", suffix=".flac", dir=self.samples_dir)
            os.close(fd)
        except OSError as exc:
            raise disk_error(exc, self.samples_dir) from exc
        tmp = Path(tmp_name)
        try:
            yield tmp
        except OSError as exc:
            raise disk_error(exc, self.samples_dir) from exc
        finally:
            tmp.unlink(missing_ok=True)

    def _adopt(self, profile_id: int, tmp: Path, transcript: str, quality: dict[str, Any] | None) -> Sample:
        """Move a complete temp FLAC to its content address, then insert the row (file first, always)."""
        import soundfile as sf

        try:
            info = sf.info(str(tmp))
        except RuntimeError as exc:
            raise TimbreError("The sample is not readable audio.") from exc
        sha = file_sha256(tmp)
        final = self.samples_dir / f"{sha}.flac"
        existed = final.exists()
        if not existed:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        rel = final.relative_to(self.root).as_posix()
        try:
            with self.transaction():
                cursor = self.db.execute(
                    "INSERT INTO samples (profile_id, sha256, file, transcript, duration, sample_rate,"
                    " quality, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        profile_id,
                        sha,
                        rel,
                        transcript or "",
                        float(info.frames) / info.samplerate,
                        int(info.samplerate),
                        json.dumps(quality or {}, sort_keys=True),
                        _now(),
                    ],
                )
                self.db.execute("UPDATE profiles SET updated_at = ? WHERE id = ?", [_now(), profile_id])
        except BaseException:
            if not existed and not self._referenced(rel):
                final.unlink(missing_ok=True)
            raise
        return self.sample(int(cursor.lastrowid))

    def sample(self, sample_id: int) -> Sample:
        row = self.db.execute("SELECT * FROM samples WHERE id = ?", [sample_id]).fetchone()
        if row is None:
            raise ProfileNotFoundError(f"There is no sample {sample_id}.")
        return Sample.from_row(row)

    def set_transcript(self, sample_id: int, transcript: str) -> Sample:
        sample = self.sample(sample_id)
        with self.transaction():
            self.db.execute("UPDATE samples SET transcript = ? WHERE id = ?", [transcript, sample.id])
            self.db.execute("UPDATE profiles SET updated_at = ? WHERE id = ?", [_now(), sample.profile_id])
        return self.sample(sample.id)

    def remove_sample(self, sample_id: int) -> None:
        sample = self.sample(sample_id)
        with self.transaction():
            self.db.execute("DELETE FROM samples WHERE id = ?", [sample.id])
        if not self._referenced(sample.file):
            (self.root / sample.file).unlink(missing_ok=True)

    def absolute(self, sample: Sample) -> Path:
        return self.root / sample.file

    def forget_unreferenced(self, files: list[str]) -> None:
        """After a rolled-back transaction: delete those sample files (relative paths) no row refers to."""
        for rel in files:
            if not self._referenced(rel):
                (self.root / rel).unlink(missing_ok=True)

    def _referenced(self, rel: str) -> bool:
        return self.db.execute("SELECT 1 FROM samples WHERE file = ? LIMIT 1", [rel]).fetchone() is not None

    # --- start-up hygiene ------------------------------------------------------------------------------
    def clean_orphans(self) -> tuple[int, int]:
        """Drop sample rows whose file vanished and files (or temp files) no row refers to."""
        referenced = {r[0] for r in self.db.execute("SELECT DISTINCT file FROM samples")}
        missing = [rel for rel in referenced if not (self.root / rel).is_file()]
        if missing:
            with self.transaction():
                for rel in missing:
                    self.db.execute("DELETE FROM samples WHERE file = ?", [rel])
        removed = 0
        if self.samples_dir.is_dir():
            for path in self.samples_dir.iterdir():
                if path.is_dir() and path.name.startswith(".import-"):
                    shutil.rmtree(path, ignore_errors=True)  # left by an import that was killed
                elif path.is_file() and path.relative_to(self.root).as_posix() not in referenced:
                    path.unlink(missing_ok=True)
                    removed += 1
        if missing or removed:
            logger.warning("Sample clean-up: %d rows without audio, %d stray files", len(missing), removed)
        return len(missing), removed
