"""What the MLX engines share: catalogue entries, whether MLX can run here, loading through mlx-audio.

MLX is Apple's array framework for Apple Silicon; ``mlx-audio`` runs Qwen3-TTS and Kokoro on it, the
fast path on a Mac. mlx-audio needs a newer ``transformers`` than ``qwen-tts`` pins, so it lives in its
own environment (``.venv-mlx``, ``pip install 'timbre[mlx]'``): these modules import only numpy and
Timbre's core at the top, and ``mlx``/``mlx_audio`` inside the functions that run them.

The weights are the ``mlx-community`` conversions (bf16 safetensors in MLX layout). Off Apple Silicon MLX
has only a slow CPU build; ``TIMBRE_MLX_ANY_PLATFORM=1`` lets it run there anyway (the tests do).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
from pathlib import Path
from typing import Any

from app.core.errors import EngineUnavailableError
from app.engines.compute import DeviceChoice, choose_device, is_apple_silicon, requested_device

logger = logging.getLogger(__name__)

DEVICES = ("mlx",)
ANY_PLATFORM_ENV = "TIMBRE_MLX_ANY_PLATFORM"
"""Set to ``1`` to run MLX off Apple Silicon (its CPU build: correct, but far slower than real time)."""
INSTALL = "pip install 'timbre[mlx]'"


def any_platform() -> bool:
    return os.environ.get(ANY_PLATFORM_ENV, "").strip() == "1"


def platform_problem(packages: tuple[str, ...] = ("mlx", "mlx_audio")) -> str:
    """Why MLX cannot run here, in a plain sentence; empty when it can."""
    if not (is_apple_silicon() or any_platform()):
        return (
            "MLX runs only on Macs with Apple Silicon (M1 or later). On this computer use the PyTorch "
            "engine instead."
        )
    missing = [name for name in packages if importlib.util.find_spec(name) is None]
    if missing:
        return f"MLX audio is not installed ({', '.join(missing)} missing). Run: {INSTALL}"
    return ""


def mlx_device(requested: str | None = None) -> DeviceChoice:
    """The MLX device, or a plain error; off Apple Silicon only with ``TIMBRE_MLX_ANY_PLATFORM=1``.

    ``choose_device`` reports MLX present only on Apple Silicon, so the escape hatch for other platforms
    is answered here (when nothing else was asked for) before asking it.
    """
    wanted = (requested or requested_device() or "mlx").lower()
    if any_platform() and not is_apple_silicon() and wanted in ("mlx", "auto"):
        return DeviceChoice("mlx", f"MLX's CPU build ({ANY_PLATFORM_ENV}=1)")
    return choose_device(DEVICES, requested)


def load_mlx_model(folder: Path) -> Any:
    """mlx-audio's own loader on a local folder (never the Hugging Face download path).

    mlx-audio prints progress and some failures to stdout, which may be carrying audio (``timbre say -o
    -``): the output is captured and logged instead. A loader that printed a warning and left the text or
    speech tokenizer unset is reported by the caller, which checks what it needs.
    """
    from mlx_audio.tts.utils import load_model

    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):
            model = load_model(Path(folder))
    except (OSError, ValueError, KeyError) as exc:
        raise EngineUnavailableError(
            f"The MLX weights in {folder} did not load ({exc}). Download them again with 'timbre models "
            "download'."
        ) from exc
    finally:
        for line in captured.getvalue().splitlines():
            if line.strip():
                logger.debug("mlx-audio: %s", line.strip())
    return model


def seed_mlx(seed: int) -> None:
    """Seed MLX's global generator (the sampler and Kokoro's vocoder noise draw from it) and numpy."""
    import mlx.core as mx
    import numpy as np

    mx.random.seed(int(seed) % (2**32))
    np.random.seed(int(seed) % (2**32))
