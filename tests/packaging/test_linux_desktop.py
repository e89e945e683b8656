"""The Linux launcher: packaging/linux/install_desktop.py (``make desktop``) writes a Desktop Entry whose
``Exec`` starts this environment's ``timbre gui`` (whatever characters its path holds) and installs
the icon into the user's hicolor theme."""

from __future__ import annotations

import configparser
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "install_desktop", ROOT / "packaging" / "linux" / "install_desktop.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


install_desktop = _load()


def read_entry(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # keys are case-sensitive
    parser.read_string(text)
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def _unescape_string(value: str) -> str:
    escapes = {"\\": "\\", "s": " ", "n": "\n", "t": "\t", "r": "\r"}
    out, chars = [], iter(value)
    for ch in chars:
        out.append(escapes[next(chars)] if ch == "\\" else ch)
    return "".join(out)


def exec_argv(value: str) -> list[str]:
    """An ``Exec`` value back to argv, by the spec: first the string escapes, then the arguments, split on
    spaces, where double quotes group and, inside them, a backslash escapes ``"``, `` ` ``, ``$`` or
    ``\\``; ``%%`` is a literal percent."""
    args: list[str] = []
    current: list[str] | None = None
    quoted = False
    chars = iter(_unescape_string(value))
    for ch in chars:
        if quoted:
            if ch == "\\":
                escaped = next(chars)
                assert escaped in '"`$\\', f"{escaped!r} may not be escaped in a quoted argument"
                current.append(escaped)  # type: ignore[union-attr]
            elif ch == '"':
                quoted = False
            else:
                current.append(ch)  # type: ignore[union-attr]
        elif ch == " ":
            if current is not None:
                args.append("".join(current))
                current = None
        else:
            current = current if current is not None else []
            if ch == '"':
                quoted = True
            else:
                assert ch not in '"`$\\', f"{ch!r} must be quoted"
                current.append(ch)
    assert not quoted, "unterminated quote"
    if current is not None:
        args.append("".join(current))
    return [arg.replace("%%", "%") for arg in args]


def test_the_template_has_the_keys_a_menu_needs() -> None:
    entry = read_entry((ROOT / "packaging" / "linux" / "timbre.desktop").read_text())
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Timbre"
    assert entry["Icon"] == "timbre"
    assert entry["Exec"] == "@TIMBRE@ gui"
    assert entry["TryExec"] == "@TIMBRE_PATH@"
    assert entry["Terminal"] == "false"
    assert entry["StartupWMClass"] == "Timbre"  # Qt's WM_CLASS is the application name the app sets
    assert entry["Categories"].endswith(";") and "AudioVideo" in entry["Categories"].split(";")


@pytest.mark.parametrize(
    "path",
    [
        "/home/ana/timbre/.venv/bin/timbre",
        "/home/ana/My Projects/timbre/.venv/bin/timbre",
        '/tmp/odd "quoted" $HOME `cmd` back\\slash 100%/bin/timbre',
    ],
)
def test_exec_runs_exactly_that_timbre_with_gui(path: str) -> None:
    entry = read_entry(install_desktop.desktop_entry(Path(path)))
    assert exec_argv(entry["Exec"]) == [path, "gui"]
    assert _unescape_string(entry["TryExec"]) == path


def test_a_relative_path_is_refused() -> None:
    with pytest.raises(ValueError, match="absolute"):
        install_desktop.desktop_entry(Path(".venv/bin/timbre"))


def test_install_writes_the_launcher_and_the_icon_under_the_data_home(tmp_path: Path) -> None:
    timbre = tmp_path / "venv" / "bin" / "timbre"
    home = tmp_path / "share"
    written = install_desktop.install(timbre, home)
    entry_path, icon_path = written
    assert entry_path == home / "applications" / "timbre.desktop"
    assert icon_path == home / "icons" / "hicolor" / "256x256" / "apps" / "timbre.png"
    assert exec_argv(read_entry(entry_path.read_text())["Exec"]) == [str(timbre), "gui"]
    data = icon_path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(data[16:20], "big") == 256


def test_the_script_uses_the_timbre_beside_its_python_and_says_where_it_wrote(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "linux" / "install_desktop.py"),
            "--data-home",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    timbre = Path(sys.executable).absolute().with_name("timbre")
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "applications" / "timbre.desktop") in result.stderr
    assert exec_argv(read_entry((tmp_path / "applications" / "timbre.desktop").read_text())["Exec"]) == [
        str(timbre),
        "gui",
    ]


def test_the_script_says_what_to_do_when_timbre_is_not_installed(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "linux" / "install_desktop.py"),
            "--timbre",
            str(tmp_path / "nowhere" / "timbre"),
            "--data-home",
            str(tmp_path / "share"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "make run" in result.stderr
    assert not (tmp_path / "share").exists()
