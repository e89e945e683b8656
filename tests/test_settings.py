"""Preferences: defaults, round trip, and tolerance of damaged files."""

from __future__ import annotations

from app import paths, settings


def test_defaults_when_no_file(timbre_home):
    assert settings.load() == settings.Settings()
    assert not paths.settings_file().exists()


def test_round_trip_is_atomic_and_under_timbre_home(timbre_home):
    prefs = settings.Settings(default_voice="af_heart", speed=1.2, output_format="flac")
    settings.save(prefs)
    assert paths.settings_file().parent == timbre_home
    assert settings.load() == prefs
    assert [p.name for p in timbre_home.iterdir()] == ["settings.json"]


def test_damaged_or_odd_files_fall_back_to_defaults(timbre_home):
    file = paths.settings_file()
    file.parent.mkdir(parents=True)
    for content in ("{not json", "[1, 2]", '"text"', ""):
        file.write_text(content)
        assert settings.load() == settings.Settings()
    file.write_text('{"default_voice": 5, "speed": 2, "unknown": true, "output_format": "flac"}')
    loaded = settings.load()
    assert loaded.default_voice == "" and loaded.speed == 2.0 and loaded.output_format == "flac"
