"""Preferences: defaults, round trip, and tolerance of damaged files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

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


def _write(text: str) -> None:
    file = paths.settings_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")


def test_every_field_round_trips(timbre_home):
    prefs = settings.Settings(
        default_engine="kokoro",
        default_voice="af_heart",
        speed=0.75,
        output_format="m4a",
        output_folder=str(timbre_home / "exports"),
        loudness_target=-23.0,
        normalise_exports=False,
        models_folder=str(timbre_home / "weights"),
        hotkey="Ctrl+Alt+Space",
        theme="dark",
        play_while_generating=False,
        narrate_file=str(timbre_home / "agent.jsonl"),
        narrate_on_new="interrupt",
    )
    settings.save(prefs)
    assert settings.load() == prefs
    raw = json.loads(paths.settings_file().read_text())
    assert raw["schema_version"] == settings.SCHEMA_VERSION == 2
    assert raw["loudness_target"] == -23.0 and raw["hotkey"] == "Ctrl+Alt+Space"


def test_every_output_format_and_theme_is_kept(timbre_home):
    for fmt in ("wav", "flac", "mp3", "m4a"):
        settings.save(settings.Settings(output_format=fmt))
        assert settings.load().output_format == fmt
    for theme in ("system", "light", "dark"):
        settings.save(settings.Settings(theme=theme))
        assert settings.load().theme == theme


BAD_VALUES = {
    "default_engine": [3, None, ["kokoro"]],
    "default_voice": [5, False],
    "speed": [True, "fast", 0.1, 3, float("nan"), None],
    "output_format": ["ogg", "WAV", 1, None],
    "output_folder": [7, ["a"], True],
    "loudness_target": [True, False, -40, 0, -4.9, "loud", None, float("inf")],
    "normalise_exports": [1, 0, "yes", None],
    "models_folder": [1.5, {"a": 1}],
    "hotkey": [42, None],
    "theme": ["blue", "Dark", 0, None],
    "play_while_generating": [1, "true", None],
    "narrate_file": [3, None, ["run.jsonl"]],
    "narrate_on_new": ["Interrupt", "cut", 1, None],
}


def test_bad_values_fall_back_to_defaults(timbre_home):
    defaults = settings.Settings()
    assert set(BAD_VALUES) == {f.name for f in dataclasses.fields(settings.Settings)} - {"schema_version"}
    for name, values in BAD_VALUES.items():
        # A good value beside the bad one: one bad field must not reset the others.
        good_name, good_value = ("theme", "dark") if name != "theme" else ("hotkey", "Meta+K")
        for value in values:
            _write(json.dumps({"schema_version": 2, good_name: good_value, name: value}))
            loaded = settings.load()
            assert getattr(loaded, name) == getattr(defaults, name), (name, value)
            assert getattr(loaded, good_name) == good_value, (name, value)


def test_bool_is_not_taken_for_a_number_and_ints_become_floats(timbre_home):
    _write('{"speed": true, "loudness_target": -20, "normalise_exports": 1}')
    loaded = settings.load()
    assert loaded.speed == 1.0 and isinstance(loaded.speed, float)
    assert loaded.loudness_target == -20.0 and isinstance(loaded.loudness_target, float)
    assert loaded.normalise_exports is True


def test_range_edges_are_valid(timbre_home):
    for speed, target in ((0.5, -30.0), (2.0, -5.0)):
        settings.save(settings.Settings(speed=speed, loudness_target=target))
        loaded = settings.load()
        assert (loaded.speed, loaded.loudness_target) == (speed, target)


def test_version_1_file_upgrades_keeping_its_values(timbre_home):
    _write(
        json.dumps(
            {
                "default_engine": "piper",
                "default_voice": "joe",
                "speed": 1.3,
                "output_format": "flac",
                "schema_version": 1,
            }
        )
    )
    loaded = settings.load()
    assert loaded == settings.Settings(
        default_engine="piper", default_voice="joe", speed=1.3, output_format="flac"
    )
    assert loaded.schema_version == 2
    settings.save(loaded)
    assert json.loads(paths.settings_file().read_text())["schema_version"] == 2


def test_file_without_version_is_read_as_version_1(timbre_home):
    _write('{"default_voice": "af_bella", "speed": 0.8}')
    loaded = settings.load()
    assert (loaded.default_voice, loaded.speed, loaded.theme) == ("af_bella", 0.8, "system")


def test_unknown_keys_are_ignored_and_not_written_back(timbre_home):
    _write('{"schema_version": 2, "theme": "light", "window_geometry": "abc", "future_option": [1]}')
    loaded = settings.load()
    assert loaded == settings.Settings(theme="light")
    settings.save(loaded)
    raw = json.loads(paths.settings_file().read_text())
    assert "window_geometry" not in raw and "future_option" not in raw


def test_validated_repairs_values_set_in_code():
    fixed = settings.validated(settings.Settings(speed=9.0, theme="neon", output_format="ogg", hotkey="F5"))
    assert (fixed.speed, fixed.theme, fixed.output_format, fixed.hotkey) == (1.0, "system", "wav", "F5")


def test_output_folder_defaults_to_the_music_folder(timbre_home, monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_music_dir", lambda: str(tmp_path / "Music"))
    assert settings.output_folder_path(settings.Settings()) == tmp_path / "Music" / "Timbre"
    chosen = settings.Settings(output_folder="~/Exports")
    assert settings.output_folder_path(chosen) == Path("~/Exports").expanduser()


def test_models_folder_defaults_to_the_models_dir(timbre_home, monkeypatch, tmp_path):
    monkeypatch.delenv("TIMBRE_MODELS_DIR")
    assert settings.models_folder_path(settings.Settings()) == paths.models_dir()
    chosen = settings.Settings(models_folder=str(tmp_path / "weights"))
    assert settings.models_folder_path(chosen) == tmp_path / "weights"
