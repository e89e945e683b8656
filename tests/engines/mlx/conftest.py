"""Fixtures for the MLX engine tests, which run in their own environment: ``make test-mlx``.

mlx-audio needs ``transformers>=5.14`` and qwen-tts pins 4.57.3, so MLX lives in ``.venv-mlx``. The tiny
checkpoints are built by ``build_tiny.py`` with the *main* environment's torch, qwen-tts and kokoro
(``TIMBRE_TINY_BUILDER_PYTHON``, default ``.venv/bin/python``), once per machine: the result is kept in
the temporary folder under a name that changes whenever the builder does. The tests import them through
the model manager and run mlx-audio's real code on MLX's CPU build (``TIMBRE_MLX_ANY_PLATFORM=1``) off a
Mac. In the main environment, which cannot import mlx-audio, this folder is not collected.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
BUILDER = HERE / "build_tiny.py"

if importlib.util.find_spec("mlx_audio") is None:
    collect_ignore_glob = ["test_*.py"]

MODELS = {
    "qwen3-tts-1.7b-customvoice-mlx": "qwen3-customvoice",
    "qwen3-tts-0.6b-base-mlx": "qwen3-base",
    "qwen3-tts-1.7b-voicedesign-mlx": "qwen3-voicedesign",
    "kokoro-82m-mlx": "kokoro",
}
"""Catalogue id -> the tiny checkpoint installed under it."""


def _builder_python() -> Path:
    return Path(os.environ.get("TIMBRE_TINY_BUILDER_PYTHON") or REPO / ".venv" / "bin" / "python")


@pytest.fixture(scope="session", autouse=True)
def mlx_anywhere() -> Iterator[None]:
    """Let the MLX engines run on MLX's CPU build when this is not a Mac with Apple Silicon."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIMBRE_MLX_ANY_PLATFORM", "1")
        yield


@pytest.fixture(scope="session")
def tiny_models() -> Path:
    """The folder of tiny checkpoints, built on first use (about a minute) and reused after that."""
    digest = hashlib.sha256(BUILDER.read_bytes()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"timbre-mlx-tiny-{digest}"
    if (root / "COMPLETE").is_file():
        return root
    python = _builder_python()
    if not python.exists():
        pytest.fail(
            f"The tiny MLX test checkpoints are built with torch and qwen-tts from the main environment, "
            f"and {python} does not exist. Run 'make engines' first, or set TIMBRE_TINY_BUILDER_PYTHON."
        )
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        done = subprocess.run(
            [str(python), str(BUILDER), str(staging)], capture_output=True, text=True, timeout=900
        )
        if done.returncode != 0:
            pytest.fail(f"build_tiny.py failed:\n{done.stderr[-3000:]}")
        try:
            os.replace(staging, root)
        except OSError:  # another run finished first: use its copy
            if not (root / "COMPLETE").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


@pytest.fixture(scope="session")
def mlx_hub(tiny_models: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - lazy imports
    """A models folder with every tiny checkpoint imported under its MLX catalogue id."""
    from app.engines.hub import Hub

    hub = Hub(tmp_path_factory.mktemp("mlx-models"))
    for model_id, name in MODELS.items():
        hub.import_folder(model_id, tiny_models / name)
    return hub
