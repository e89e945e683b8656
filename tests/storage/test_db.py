"""The database file: migrations from empty and from an older schema, pragmas, refusal of newer schemas."""

from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils.migrations import Migrations

from app.storage import db as dbmod


def test_empty_file_is_migrated_with_wal_and_foreign_keys(tmp_path):
    database = dbmod.connect(tmp_path / "t.db")
    assert dbmod.schema_version(database) == len(dbmod.KNOWN_MIGRATIONS)
    assert {"profiles", "samples", "generations", "generations_fts", "profiles_fts"} <= set(
        database.table_names()
    )
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert dbmod.integrity_ok(database)


def test_reopening_applies_nothing_twice(tmp_path):
    dbmod.connect(tmp_path / "t.db").close()
    again = dbmod.connect(tmp_path / "t.db")
    names = [m.name for m in dbmod.migrations.applied(again)]
    assert names == list(dbmod.KNOWN_MIGRATIONS)


def test_an_older_schema_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "t.db"
    first = dbmod.connect(path)
    first.execute(
        "INSERT INTO generations (text, engine, voice, duration, sample_rate, file, created_at) "
        "VALUES ('old row', 'piper', 'joe', 1.0, 22050, 'generations/a.wav', '2026-01-01')"
    )
    first.close()

    later = Migrations("timbre")
    later(name="0001_initial")(dbmod._initial)

    @later(name="0002_add_rating")
    def _rating(database) -> None:
        database.execute("ALTER TABLE generations ADD COLUMN rating INTEGER NOT NULL DEFAULT 0")

    upgraded = dbmod.connect(path, later)
    assert [m.name for m in later.applied(upgraded)] == ["0001_initial", "0002_add_rating"]
    assert upgraded.execute("SELECT text, rating FROM generations").fetchall()[0][:] == ("old row", 0)


def test_a_failing_migration_leaves_the_previous_schema(tmp_path):
    path = tmp_path / "t.db"
    dbmod.connect(path).close()
    broken = Migrations("timbre")
    broken(name="0001_initial")(dbmod._initial)

    @broken(name="0002_broken")
    def _broken(database) -> None:
        database.execute("ALTER TABLE generations ADD COLUMN half INTEGER")
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        dbmod.connect(path, broken)
    plain = sqlite3.connect(path)
    columns = [row[1] for row in plain.execute("PRAGMA table_info(generations)")]
    assert "half" not in columns


def test_a_newer_schema_is_refused_in_plain_words(tmp_path):
    path = tmp_path / "t.db"
    future = Migrations("timbre")
    future(name="0001_initial")(dbmod._initial)
    future(name="0099_from_the_future")(lambda database: None)
    dbmod.connect(path, future).close()
    with pytest.raises(dbmod.DatabaseError, match="newer Timbre"):
        dbmod.connect(path)


def test_a_file_that_is_not_a_database_is_a_plain_error(tmp_path):
    path = tmp_path / "t.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(dbmod.DatabaseError, match="cannot be opened"):
        dbmod.connect(path)
