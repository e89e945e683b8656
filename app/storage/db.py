"""The library database: SQLite through sqlite-utils, with WAL, foreign keys and numbered migrations.

Each migration runs in its own transaction together with the record that it ran (sqlite-utils'
``Migrations``), so a crash mid-upgrade leaves the previous schema intact and the next start retries.
``writing()`` (``Database.atomic()`` with plain errors for a full or read-only disk) groups writes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from app.core.errors import DiskError

logger = logging.getLogger(__name__)

_V1 = """
CREATE TABLE profiles (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    language TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    preferred_engine TEXT,
    preferred_voice TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE UNIQUE INDEX profiles_live_name ON profiles(name) WHERE deleted_at IS NULL;

CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    file TEXT NOT NULL,
    transcript TEXT NOT NULL DEFAULT '',
    duration REAL NOT NULL,
    sample_rate INTEGER NOT NULL,
    quality TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX samples_profile ON samples(profile_id);

CREATE TABLE generations (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    voice TEXT NOT NULL,
    profile_id INTEGER REFERENCES profiles(id) ON DELETE SET NULL,
    params TEXT NOT NULL DEFAULT '{}',
    seed INTEGER,
    language TEXT,
    duration REAL NOT NULL,
    sample_rate INTEGER NOT NULL,
    file TEXT NOT NULL,
    timings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    favourite INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]',
    deleted_at TEXT
);
CREATE INDEX generations_live_created ON generations(deleted_at, created_at DESC, id DESC);
CREATE INDEX generations_voice ON generations(voice);
CREATE INDEX generations_engine ON generations(engine);

CREATE VIRTUAL TABLE generations_fts USING fts5(
    text, content='generations', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER generations_ai AFTER INSERT ON generations BEGIN
    INSERT INTO generations_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER generations_ad AFTER DELETE ON generations BEGIN
    INSERT INTO generations_fts(generations_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER generations_au AFTER UPDATE OF text ON generations BEGIN
    INSERT INTO generations_fts(generations_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO generations_fts(rowid, text) VALUES (new.id, new.text);
END;

CREATE VIRTUAL TABLE profiles_fts USING fts5(
    name, description, content='profiles', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER profiles_ai AFTER INSERT ON profiles BEGIN
    INSERT INTO profiles_fts(rowid, name, description) VALUES (new.id, new.name, new.description);
END;
CREATE TRIGGER profiles_ad AFTER DELETE ON profiles BEGIN
    INSERT INTO profiles_fts(profiles_fts, rowid, name, description)
    VALUES ('delete', old.id, old.name, old.description);
END;
CREATE TRIGGER profiles_au AFTER UPDATE OF name, description ON profiles BEGIN
    INSERT INTO profiles_fts(profiles_fts, rowid, name, description)
    VALUES ('delete', old.id, old.name, old.description);
    INSERT INTO profiles_fts(rowid, name, description) VALUES (new.id, new.name, new.description);
END;
"""


def _statements(sql: str) -> Iterator[str]:
    """Split a script into statements (``executescript`` would commit the migration's transaction)."""
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


migrations = Migrations("timbre")
"""The schema's history. Only ever append; a migration's name is its identity."""
KNOWN_MIGRATIONS = ("0001_initial",)


@migrations(name="0001_initial")
def _initial(db: Database) -> None:
    for statement in _statements(_V1):
        db.execute(statement)


class DatabaseError(Exception):
    """The library database cannot be opened or is damaged (message in plain words)."""


def connect(path: Path | str, migration_set: Migrations | None = None) -> Database:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date.

    A database in a folder Timbre cannot write to (a read-only disk, a locked-down folder) is opened
    read-only instead, so everything saved can still be browsed, played and exported; writes then fail
    with a plain :class:`~app.core.errors.DiskError`.
    """
    steps = migration_set or migrations
    if str(path) != ":memory:":
        folder = Path(path).parent
        if Path(path).is_file() and not os.access(folder, os.W_OK):
            return _connect_read_only(Path(path))
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"Timbre cannot create its data folder {folder}: {exc.strerror}.") from exc
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        db = Database(conn)
        _check_not_newer(db, path, steps)
        steps.apply(db)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"The library at {path} cannot be opened: {exc}.") from exc
    return db


def _check_not_newer(db: Database, path: Path | str, steps: Migrations) -> None:
    applied = {m.name for m in steps.applied(db)} if "_sqlite_migrations" in db.table_names() else set()
    unknown = applied - set(KNOWN_MIGRATIONS) if steps is migrations else set()
    if unknown:
        raise DatabaseError(
            f"The library at {path} was written by a newer Timbre (it has {', '.join(sorted(unknown))})."
        )


def _connect_read_only(path: Path) -> Database:
    """Open for reading only. ``immutable`` is the fallback for a WAL database whose -shm cannot be made
    (a read-only disk); nothing can change such a file under us."""
    last: sqlite3.Error | None = None
    for query in ("mode=ro", "mode=ro&immutable=1"):
        try:
            conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?{query}", uri=True, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            last = exc
            continue
        db = Database(conn)
        _check_not_newer(db, path, migrations)
        pending = [m.name for m in migrations.pending(db)]
        if pending:
            raise DatabaseError(
                f"The library at {path} is read-only and needs an upgrade this Timbre cannot write."
            )
        logger.warning("The library at %s is read-only: browsing works, saving does not.", path)
        return db
    raise DatabaseError(f"The library at {path} cannot be opened (read-only): {last}.")


@contextlib.contextmanager
def writing(db: Database, where: Path | str) -> Iterator[Database]:
    """``db.atomic()``, with SQLite's "disk is full" and "read-only" failures told in plain words."""
    try:
        with db.atomic():
            yield db
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "full" in text:
            raise DiskError(f"The disk is full: the library at {where} was not changed.") from exc
        if "readonly" in text or "read-only" in text:
            raise DiskError(
                f"The library at {where} is read-only, so Timbre cannot save there; "
                "everything already saved is safe."
            ) from exc
        raise


def schema_version(db: Database) -> int:
    """How many migrations this database has had."""
    return len(migrations.applied(db))


def integrity_ok(db: Database) -> bool:
    """``PRAGMA integrity_check`` and the foreign keys both clean."""
    ok = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return ok and not db.execute("PRAGMA foreign_key_check").fetchall()
