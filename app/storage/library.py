"""The library: every generation and voice profile kept in SQLite, with its audio on disk.

A generation's audio is written completely (temp file, fsync, rename) before its row is inserted, and the
row is removed again if the insert fails, so a row always points at a file that exists. A crash between
the two leaves at most an unreferenced file, which :meth:`Library.clean_orphans` removes at start-up.
Deletes are soft (``deleted_at``) so they can be undone; :meth:`Library.purge_trash` makes them final.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import paths
from app.core.errors import TimbreError, disk_error
from app.storage import db as dbmod
from app.storage.profiles import ProfileStore

logger = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac")
_NEWEST_FIRST = "ORDER BY g.created_at DESC, g.id DESC LIMIT ? OFFSET ?"
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


class NotFoundError(TimbreError):
    """No such item in the library."""


@dataclass
class Generation:
    """One saved synthesis."""

    id: int
    text: str
    engine: str
    voice: str
    duration: float
    sample_rate: int
    file: str
    """Path of the audio, relative to the data folder."""
    created_at: str
    model: str = ""
    profile_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    language: str | None = None
    timings: dict[str, Any] = field(default_factory=dict)
    favourite: bool = False
    tags: list[str] = field(default_factory=list)
    deleted_at: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> Generation:
        data = dict(row)
        for key in ("params", "timings", "tags"):
            data[key] = json.loads(data[key] or ("[]" if key == "tags" else "{}"))
        data["favourite"] = bool(data["favourite"])
        return cls(**data)


@dataclass(frozen=True)
class HistoryFilter:
    """What a history listing or search is narrowed to; every field is optional."""

    voice: str | None = None
    engine: str | None = None
    profile_id: int | None = None
    since: str | None = None
    """ISO date or datetime (inclusive)."""
    until: str | None = None
    """ISO date or datetime (inclusive: a bare date means the whole day)."""
    favourites: bool = False


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _fts_query(user_text: str) -> str | None:
    """Turn whatever a person typed into a safe FTS5 query: each word quoted, the last one a prefix.

    Operators, quotes, ``column:`` syntax and parentheses become plain words, so no input can raise.
    """
    words = _WORD.findall(user_text)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


class Library:
    """Generations on disk and in ``timbre.db`` under the data folder (``TIMBRE_HOME`` in tests)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else paths.data_dir()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TimbreError(f"Timbre cannot create its data folder {self.root}: {exc.strerror}.") from exc
        self.db = dbmod.connect(self.root / "timbre.db")
        self.read_only = not os.access(self.root, os.W_OK)
        """True when the data folder cannot be written (read-only disk): browsing works, saving does not."""
        self.profiles = ProfileStore(self.root, self.db)
        """Voice profiles and their samples, in the same database."""

    def transaction(self) -> Any:
        """A write transaction; a full or read-only disk becomes a plain error and changes nothing."""
        return dbmod.writing(self.db, self.root)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- files ---------------------------------------------------------------------------------------
    @property
    def generations_dir(self) -> Path:
        return self.root / "generations"

    def new_generation_path(self, suffix: str = ".wav") -> Path:
        """A fresh, unused path for a generation's audio: ``generations/<yyyy>/<mm>/<token><suffix>``."""
        if suffix not in AUDIO_SUFFIXES:
            raise TimbreError(f"Generations are stored as .wav or .flac, not {suffix}.")
        now = dt.datetime.now()
        folder = self.generations_dir / f"{now:%Y}" / f"{now:%m}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise disk_error(exc, folder) from exc
        return folder / f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}{suffix}"

    def absolute(self, generation: Generation) -> Path:
        return self.root / generation.file

    # --- writing -------------------------------------------------------------------------------------
    def add_generation(self, audio: Path, **fields: Any) -> Generation:
        """Record a finished generation whose complete audio is already at ``audio`` (inside the library).

        If the row cannot be written the audio is deleted, so nothing is left half-saved.
        """
        audio = Path(audio)
        if not audio.is_file():
            raise TimbreError(f"The audio {audio} does not exist, so it cannot be saved.")
        try:
            row = self._generation_row(audio, fields)
            with self.transaction():
                cursor = self.db.execute(
                    f"INSERT INTO generations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()),
                )
                new_id = int(cursor.lastrowid)
        except BaseException:
            audio.unlink(missing_ok=True)
            raise
        return self.get(new_id)

    def _generation_row(self, audio: Path, fields: dict[str, Any]) -> dict[str, Any]:
        fields = dict(fields)
        row = {
            "text": fields.pop("text"),
            "engine": fields.pop("engine"),
            "voice": fields.pop("voice"),
            "duration": float(fields.pop("duration")),
            "sample_rate": int(fields.pop("sample_rate")),
            "file": audio.resolve().relative_to(self.root.resolve()).as_posix(),
            "created_at": fields.pop("created_at", None) or _now(),
            "model": fields.pop("model", ""),
            "profile_id": fields.pop("profile_id", None),
            "params": json.dumps(fields.pop("params", {}) or {}, sort_keys=True),
            "seed": fields.pop("seed", None),
            "language": fields.pop("language", None),
            "timings": json.dumps(fields.pop("timings", {}) or {}, sort_keys=True),
            "favourite": int(bool(fields.pop("favourite", False))),
            "tags": json.dumps(list(fields.pop("tags", []) or [])),
        }
        if fields:
            raise TypeError(f"Unknown generation fields: {', '.join(sorted(fields))}")
        return row

    def set_favourite(self, generation_id: int, favourite: bool = True) -> Generation:
        self.get(generation_id)
        with self.transaction():
            self.db.execute(
                "UPDATE generations SET favourite = ? WHERE id = ?", [int(favourite), generation_id]
            )
        return self.get(generation_id)

    def delete(self, generation_id: int) -> Generation:
        """Move a generation to the trash (undo with :meth:`undo_delete`)."""
        self.get(generation_id)
        with self.transaction():
            self.db.execute("UPDATE generations SET deleted_at = ? WHERE id = ?", [_now(), generation_id])
        return self.get(generation_id, include_deleted=True)

    def undo_delete(self) -> Generation:
        """Restore the generation deleted most recently."""
        row = self.db.execute(
            "SELECT id FROM generations WHERE deleted_at IS NOT NULL "
            "ORDER BY deleted_at DESC, id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise NotFoundError("There is nothing to undo: the trash is empty.")
        with self.transaction():
            self.db.execute("UPDATE generations SET deleted_at = NULL WHERE id = ?", [row[0]])
        return self.get(row[0])

    def purge_trash(self) -> int:
        """Delete trashed generations for good (rows first, then their files). Returns how many."""
        rows = self.db.execute("SELECT id, file FROM generations WHERE deleted_at IS NOT NULL").fetchall()
        with self.transaction():
            self.db.execute("DELETE FROM generations WHERE deleted_at IS NOT NULL")
        for row in rows:
            (self.root / row["file"]).unlink(missing_ok=True)
        return len(rows)

    # --- reading -------------------------------------------------------------------------------------
    def get(self, generation_id: int, include_deleted: bool = False) -> Generation:
        row = self.db.execute("SELECT * FROM generations WHERE id = ?", [int(generation_id)]).fetchone()
        if row is None or (row["deleted_at"] is not None and not include_deleted):
            raise NotFoundError(f"There is no generation {generation_id} in the library.")
        return Generation.from_row(row)

    def count(self, filters: HistoryFilter | None = None) -> int:
        where, args = self._where(filters or HistoryFilter())
        return int(self.db.execute(f"SELECT count(*) FROM generations g WHERE {where}", args).fetchone()[0])

    def facets(self) -> tuple[list[str], list[str]]:
        """The engines and the voices that live generations use (for filter menus), sorted."""
        live = "FROM generations WHERE deleted_at IS NULL"
        engines = [r[0] for r in self.db.execute(f"SELECT DISTINCT engine {live} ORDER BY engine")]
        voices = [
            r[0] for r in self.db.execute(f"SELECT DISTINCT voice {live} ORDER BY voice COLLATE NOCASE")
        ]
        return engines, voices

    def history(
        self, filters: HistoryFilter | None = None, page: int = 1, page_size: int = 50
    ) -> list[Generation]:
        """Newest first, one page at a time."""
        where, args = self._where(filters or HistoryFilter())
        rows = self.db.execute(
            f"SELECT * FROM generations g WHERE {where} {_NEWEST_FIRST}",
            [*args, *self._page(page, page_size)],
        ).fetchall()
        return [Generation.from_row(r) for r in rows]

    def search(
        self, query: str, filters: HistoryFilter | None = None, page: int = 1, page_size: int = 50
    ) -> list[Generation]:
        """Generations whose text matches what a person typed (prefix match on the last word), newest first.

        Any input is safe: FTS5 syntax is neutralised, and text in scripts without spaces between words
        (Chinese, Japanese) is matched as a substring.
        """
        where, args = self._where(filters or HistoryFilter())
        text = (query or "").strip()
        if not text:
            return self.history(filters, page, page_size)
        limit = self._page(page, page_size)
        if _CJK.search(text):
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sql = f"SELECT * FROM generations g WHERE {where} AND g.text LIKE ? ESCAPE '\\' {_NEWEST_FIRST}"
            rows = self.db.execute(sql, [*args, pattern, *limit]).fetchall()
            return [Generation.from_row(r) for r in rows]
        fts = _fts_query(text)
        if fts is None:
            return []
        sql = (
            f"SELECT g.* FROM generations_fts f JOIN generations g ON g.id = f.rowid "
            # rowid order lets FTS5 stop after one page instead of sorting every match; ids grow with
            # time, so this is newest first (by when a generation was added).
            f"WHERE generations_fts MATCH ? AND {where} ORDER BY f.rowid DESC LIMIT ? OFFSET ?"
        )
        rows = self.db.execute(sql, [fts, *args, *limit]).fetchall()
        return [Generation.from_row(r) for r in rows]

    @staticmethod
    def _page(page: int, page_size: int) -> list[int]:
        size = max(1, min(int(page_size), 500))
        return [size, (max(1, int(page)) - 1) * size]

    @staticmethod
    def _where(f: HistoryFilter) -> tuple[str, list[Any]]:
        clauses, args = ["g.deleted_at IS NULL"], []
        if f.voice:
            clauses.append("g.voice = ?")
            args.append(f.voice)
        if f.engine:
            clauses.append("g.engine = ?")
            args.append(f.engine)
        if f.profile_id is not None:
            clauses.append("g.profile_id = ?")
            args.append(f.profile_id)
        if f.since:
            clauses.append("g.created_at >= ?")
            args.append(f.since)
        if f.until:
            clauses.append("g.created_at < ?")
            args.append(_day_after(f.until) if len(f.until) == 10 else f.until)
        if f.favourites:
            clauses.append("g.favourite = 1")
        return " AND ".join(clauses), args

    # --- start-up hygiene ------------------------------------------------------------------------------
    def clean_orphans(self) -> tuple[int, int]:
        """Remove rows whose audio vanished and audio (or temp files) no row points at (generations and
        profile samples alike).

        Returns (rows removed, files removed). Run at start-up, before any job writes. A read-only
        library is left exactly as it is.
        """
        if self.read_only:
            return 0, 0
        referenced = {row[0] for row in self.db.execute("SELECT file FROM generations")}
        missing = [r for r in referenced if not (self.root / r).is_file()]
        if missing:
            with self.transaction():
                for rel in missing:
                    self.db.execute("DELETE FROM generations WHERE file = ?", [rel])
        removed_files = 0
        if self.generations_dir.is_dir():
            for path in self.generations_dir.rglob("*"):
                if not path.is_file():
                    continue
                rel = path.relative_to(self.root).as_posix()
                if rel not in referenced:
                    path.unlink(missing_ok=True)
                    removed_files += 1
        if missing or removed_files:
            logger.warning(
                "Library clean-up: %d rows without audio, %d stray files", len(missing), removed_files
            )
        sample_rows, sample_files = self.profiles.clean_orphans()
        return len(missing) + sample_rows, removed_files + sample_files

    def integrity_ok(self) -> bool:
        return dbmod.integrity_ok(self.db)


def _day_after(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def generation_as_dict(generation: Generation) -> dict[str, Any]:
    """JSON-ready form of a generation."""
    return dataclasses.asdict(generation)
