"""Where models run: an explicit, visible choice of MLX, MPS, CUDA or CPU, never a silent fallback.

``choose_device`` answers what an engine should run on here, given what it supports and what the user
asked for. Asking for a device that is not present is an error in plain words, not a quiet move to the
CPU (the complaint users have about other local voice apps). ``slow_warning`` says when an engine on
the chosen device is expected to speak slower than real time, so the UI can say so before the wait.
Torch and MLX are imported only inside the functions that need them.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import os
import platform
from dataclasses import dataclass

from app.core.errors import EngineUnavailableError

logger = logging.getLogger(__name__)

DEVICE_NAMES = {"mlx": "MLX (Apple GPU)", "mps": "Metal (Apple GPU)", "cuda": "CUDA GPU", "cpu": "CPU"}
PREFERENCE_ORDER = ("mlx", "cuda", "mps", "cpu")
"""Best first: MLX is the fast path on Apple Silicon, then a GPU, then the CPU."""


@dataclass(frozen=True)
class DeviceChoice:
    """The device an engine will run on, and why, in words the header and logs can show."""

    device: str
    reason: str

    @property
    def label(self) -> str:
        return DEVICE_NAMES.get(self.device, self.device)


def is_apple_silicon() -> bool:
    return platform.system() == "Darwin" and platform.machine() == "arm64"


def mlx_usable() -> bool:
    """MLX installed and runnable: Apple Silicon, or anywhere with ``TIMBRE_MLX_ANY_PLATFORM=1`` (its slow
    CPU build, which the tests use on Linux)."""
    if importlib.util.find_spec("mlx") is None:
        return False
    return is_apple_silicon() or os.environ.get("TIMBRE_MLX_ANY_PLATFORM", "").strip() == "1"


def present_devices() -> tuple[str, ...]:
    """The devices usable by torch or MLX on this machine, best first (the CPU is always there)."""
    found: list[str] = []
    if mlx_usable():
        found.append("mlx")
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            found.append("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            found.append("mps")
    found.append("cpu")
    return tuple(found)


def requested_device() -> str | None:
    """The device the user asked for (``TIMBRE_DEVICE`` or the preference), ``None`` for automatic."""
    value = os.environ.get("TIMBRE_DEVICE", "").strip().lower()
    if value and value != "auto":
        return value
    return None


def choose_device(supported: tuple[str, ...], requested: str | None = None) -> DeviceChoice:
    """Pick the best device that the engine supports and the machine has.

    ``requested`` (else ``TIMBRE_DEVICE``) forces one; if it is missing here or the engine cannot use
    it, the error says so instead of running somewhere slower without a word.
    """
    present = present_devices()
    wanted = (requested or requested_device() or "").lower() or None
    if wanted is not None:
        if wanted not in DEVICE_NAMES:
            raise EngineUnavailableError(
                f"'{wanted}' is not a device Timbre knows; choose one of {', '.join(DEVICE_NAMES)} or auto."
            )
        if wanted not in supported:
            raise EngineUnavailableError(
                f"This engine cannot run on {DEVICE_NAMES[wanted]}; it runs on "
                f"{', '.join(DEVICE_NAMES[d] for d in supported)}."
            )
        if wanted not in present:
            raise EngineUnavailableError(
                f"{DEVICE_NAMES[wanted]} was asked for, but this computer does not have one that Timbre can "
                f"use (found: {', '.join(DEVICE_NAMES[d] for d in present)}). Choose 'auto' to use the best "
                "device here."
            )
        return DeviceChoice(wanted, "chosen in Preferences")
    for device in PREFERENCE_ORDER:
        if device in supported and device in present:
            if device == "cpu" and len(present) > 1:
                missing = [DEVICE_NAMES[d] for d in present if d != "cpu"]
                return DeviceChoice("cpu", f"this engine cannot use the {', '.join(missing)} here")
            reason = "no GPU found" if device == "cpu" else "the fastest device here"
            return DeviceChoice(device, reason)
    raise EngineUnavailableError("This engine cannot run on any device this computer has.")


def torch_dtype(device: str):  # noqa: ANN201 - torch is imported lazily
    """float32 on the CPU (bf16 matmuls are slow there), bfloat16 on CUDA, float16 on MPS."""
    import torch

    return {"cuda": torch.bfloat16, "mps": torch.float16}.get(device, torch.float32)


def seed_everything(seed: int) -> None:
    """Seed torch (every device) and numpy so the same seed gives identical audio."""
    import numpy as np

    np.random.seed(seed % (2**32))
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.manual_seed(seed)


def free_accelerator_memory() -> None:
    """Collect garbage and hand cached accelerator memory (and freed heap pages) back to the system."""
    gc.collect()
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        mps = getattr(torch, "mps", None)
        if mps is not None and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            mps.empty_cache()
    mx = sys.modules.get("mlx.core")
    if mx is not None and hasattr(mx, "clear_cache"):
        mx.clear_cache()
    _trim_heap()


def _trim_heap() -> None:
    """glibc keeps freed arenas; ``malloc_trim`` returns them so RSS drops after an unload."""
    if platform.system() != "Linux":
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        logger.debug("malloc_trim is not available")


def slow_warning(engine_name: str, rtf: float | None, choice: DeviceChoice) -> str:
    """A plain warning when ``rtf`` (compute seconds per audio second) on this device is above 1."""
    if rtf is None or rtf <= 1.0:
        return ""
    return (
        f"{engine_name} on the {choice.label} speaks about {rtf:.0f}x slower than real time, so audio will "
        "arrive in bursts with waits between them."
        if rtf >= 1.5
        else f"{engine_name} on the {choice.label} is a little slower than real time."
    )
