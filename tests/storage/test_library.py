"""The library on a real SQLite file: atomic saves, hostile searches, filters, paging, trash and undo."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import soundfile as sf

from app.storage.library import HistoryFilter, Library, NotFoundError


@pytest.fixture
def library(timbre_home):
    lib = Library()
    yield lib
    lib.close()


def _save(library, text, *, voice="joe", engine="piper", created_at=None, **fields):
    path = library.new_generation_path()
    sf.write(path, np.zeros(2205, dtype=np.float32), 22050)
    return library.add_generation(
        path,
        text=text,
        engine=engine,
        voice=voice,
        duration=0.1,
        sample_rate=22050,
        created_at=created_at,
        **fields,
    )


def test_save_writes_row_pointing_at_existing_audio(library, timbre_home):
    gen = _save(library, "Hello world", params={"speed": 1.2}, seed=7, language="en-us", tags=["demo"])
    assert gen.id == 1 and gen.params == {"speed": 1.2} and gen.seed == 7 and gen.tags == ["demo"]
    assert library.absolute(gen).is_file()
    assert gen.file.startswith("generations/") and (timbre_home / "timbre.db").is_file()
    assert library.get(gen.id) == gen


def test_failed_insert_removes_the_audio(library):
    for bad in ({"text": None}, {"text": "x", "bogus": 1}):
        path = library.new_generation_path()
        sf.write(path, np.zeros(10, dtype=np.float32), 22050)
        with pytest.raises((TypeError, sqlite3.IntegrityError)):
            library.add_generation(path, engine="piper", voice="joe", duration=1, sample_rate=1, **bad)
        assert not path.exists()
    assert library.count() == 0


def test_history_is_newest_first_and_paged(library):
    for i in range(7):
        _save(library, f"item {i}", created_at=f"2026-11-0{i + 1}T10:00:00")
    page1 = library.history(page=1, page_size=3)
    page3 = library.history(page=3, page_size=3)
    assert [g.text for g in page1] == ["item 6", "item 5", "item 4"]
    assert [g.text for g in page3] == ["item 0"]
    assert library.history(page=4, page_size=3) == []
    assert library.count() == 7


def test_filters(library):
    _save(library, "one", voice="joe", created_at="2026-11-01T09:00:00")
    two = _save(library, "two", voice="af_heart", engine="kokoro", created_at="2026-11-02T09:00:00")
    _save(library, "three", voice="af_heart", engine="kokoro", created_at="2026-11-03T09:00:00")
    library.set_favourite(two.id)
    texts = lambda f: [g.text for g in library.history(f)]  # noqa: E731
    assert texts(HistoryFilter(engine="kokoro")) == ["three", "two"]
    assert texts(HistoryFilter(voice="joe")) == ["one"]
    assert texts(HistoryFilter(favourites=True)) == ["two"]
    assert texts(HistoryFilter(since="2026-11-02", until="2026-11-02")) == ["two"]
    assert texts(HistoryFilter(until="2026-11-01")) == ["one"]


def test_search_prefix_matches_as_you_type(library):
    _save(library, "The lighthouse keeper woke before dawn")
    _save(library, "A light breakfast")
    _save(library, "Nothing related")
    assert [g.text for g in library.search("lig")] == [
        "A light breakfast",
        "The lighthouse keeper woke before dawn",
    ]
    assert [g.text for g in library.search("keeper daw")] == ["The lighthouse keeper woke before dawn"]
    assert library.search("zebra") == []


HOSTILE = [
    '"',
    '"unbalanced',
    "*",
    "light*",
    "AND",
    "light OR",
    "NEAR(light dawn",
    "((((",
    "text:light",
    "-light",
    "^light",
    "'; DROP TABLE generations; --",
    "🎉",
    "light 🎉",
    "\x00",
    "",
    "   ",
    "a" * 5000,
    "%_\\",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_whatever_a_person_types_never_raises(library, query):
    _save(library, "The light is on")
    results = library.search(query)
    assert isinstance(results, list)
    assert library.count() == 1, "the table survives"


def test_operators_are_read_as_words(library):
    _save(library, "cats AND dogs")
    _save(library, "cats only")
    assert [g.text for g in library.search("AND dogs")] == ["cats AND dogs"]


def test_cjk_search_matches_substrings(library):
    _save(library, "今日は晴れです。明日は雨です。")
    _save(library, "你好，世界")
    assert [g.text for g in library.search("明日")] == ["今日は晴れです。明日は雨です。"]
    assert [g.text for g in library.search("世界")] == ["你好，世界"]
    assert library.search("%") == []


def test_search_combines_with_filters_and_paging(library):
    for i in range(5):
        _save(library, f"weather report {i}", voice="joe" if i % 2 else "af_heart", engine="piper")
    assert len(library.search("weather", HistoryFilter(voice="joe"))) == 2
    assert len(library.search("weather", page=2, page_size=2)) == 2


def test_delete_is_undoable_and_purge_is_final(library):
    first, second = _save(library, "first"), _save(library, "second")
    library.delete(first.id)
    library.delete(second.id)
    assert library.count() == 0 and library.search("first") == []
    with pytest.raises(NotFoundError):
        library.get(first.id)
    assert library.undo_delete().text == "second"
    assert library.undo_delete().text == "first"
    with pytest.raises(NotFoundError, match="nothing to undo"):
        library.undo_delete()
    library.delete(first.id)
    assert library.purge_trash() == 1
    assert not library.absolute(first).exists()
    with pytest.raises(NotFoundError):
        library.get(first.id, include_deleted=True)


def test_missing_ids_are_plain_errors(library):
    for call in (library.get, library.delete, library.set_favourite):
        with pytest.raises(NotFoundError, match="no generation 42"):
            call(42)


def test_clean_orphans_fixes_both_directions(library):
    kept = _save(library, "kept")
    lost = _save(library, "lost file")
    library.absolute(lost).unlink()
    stray = library.new_generation_path()
    stray.write_bytes(b"RIFF")
    temp = stray.with_name("." + stray.name + ".abc.part")
    temp.write_bytes(b"partial")
    assert library.clean_orphans() == (1, 2)
    assert [g.text for g in library.history()] == ["kept"]
    assert library.absolute(kept).is_file() and not stray.exists() and not temp.exists()
    assert library.integrity_ok()
