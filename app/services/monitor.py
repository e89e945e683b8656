"""Live resource readings for the header: CPU %, RAM, and the GPU where there is one.

GPU sources, tried in order: NVIDIA through NVML (``nvidia-ml-py``, when installed); Apple Silicon
through ``ioreg`` ("Device Utilization %" of the IOAccelerator, no sudo) plus the memory torch's MPS
backend holds; otherwise the GPU reads as unavailable ("n/a"), never as zero. Sampling is cheap and
Qt-free; the UI calls :meth:`ResourceMonitor.sample` off its own thread about once a second.
"""

from __future__ import annotations

import collections
import logging
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

HISTORY = 60
"""Readings kept for the header's little graph (one a second: the last minute)."""


@dataclass(frozen=True)
class GpuReading:
    name: str
    utilisation: float | None
    """Percent busy, or ``None`` when the platform does not say."""
    memory_used: int | None
    memory_total: int | None


@dataclass(frozen=True)
class Reading:
    cpu_percent: float
    ram_used: int
    ram_total: int
    process_rss: int
    """Memory Timbre itself holds (engines included)."""
    gpu: GpuReading | None
    """``None``: no GPU this machine can report on ("n/a" in the header)."""


def _nvidia() -> Callable[[], GpuReading] | None:
    try:
        import pynvml  # type: ignore[import-not-found]

        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        name = pynvml.nvmlDeviceGetName(handle)
    except Exception:  # noqa: BLE001 - no NVML, no driver or no device: simply not an NVIDIA machine
        return None

    def read() -> GpuReading:
        rates = pynvml.nvmlDeviceGetUtilizationRates(handle)
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
        label = name.decode() if isinstance(name, bytes) else str(name)
        return GpuReading(label, float(rates.gpu), int(memory.used), int(memory.total))

    return read


_IOREG_UTIL = re.compile(r'"Device Utilization %"\s*=\s*(\d+)')


def parse_ioreg(text: str) -> float | None:
    """The IOAccelerator's "Device Utilization %" from ``ioreg -r -d 1 -c IOAccelerator`` output."""
    found = _IOREG_UTIL.search(text)
    return float(found.group(1)) if found else None


def _apple() -> Callable[[], GpuReading] | None:
    if sys.platform != "darwin" or platform.machine() != "arm64" or shutil.which("ioreg") is None:
        return None

    def read() -> GpuReading:
        try:
            out = subprocess.run(
                ["ioreg", "-r", "-d", "1", "-c", "IOAccelerator"], capture_output=True, text=True, timeout=2
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        used = None
        torch = sys.modules.get("torch")  # only if an engine already loaded it: never import it here
        if torch is not None and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            used = int(torch.mps.current_allocated_memory())
        return GpuReading("Apple GPU", parse_ioreg(out), used, None)

    return read


class ResourceMonitor:
    """Takes readings and keeps the last :data:`HISTORY` of them."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._process = psutil.Process()
        psutil.cpu_percent(None)  # the first call only starts the measurement
        self._gpu = _nvidia() or _apple()
        self.history: collections.deque[Reading] = collections.deque(maxlen=HISTORY)

    @property
    def has_gpu(self) -> bool:
        return self._gpu is not None

    def sample(self) -> Reading:
        memory = self._psutil.virtual_memory()
        gpu = None
        if self._gpu is not None:
            try:
                gpu = self._gpu()
            except Exception:  # noqa: BLE001 - a driver hiccup must not take the header down
                logger.debug("GPU reading failed", exc_info=True)
        reading = Reading(
            cpu_percent=float(self._psutil.cpu_percent(None)),
            ram_used=int(memory.total - memory.available),
            ram_total=int(memory.total),
            process_rss=int(self._process.memory_info().rss),
            gpu=gpu,
        )
        self.history.append(reading)
        return reading


def describe(reading: Reading) -> str:
    """One line for a tooltip or a log: ``CPU 12% · RAM 6.1/24.0 GB · GPU n/a``."""
    gb = 1024**3
    gpu = "GPU n/a"
    if reading.gpu is not None:
        busy = "?" if reading.gpu.utilisation is None else f"{reading.gpu.utilisation:.0f}%"
        gpu = f"GPU {busy}"
        if reading.gpu.memory_used is not None:
            gpu += f" {reading.gpu.memory_used / gb:.1f} GB"
    ram = f"RAM {reading.ram_used / gb:.1f}/{reading.ram_total / gb:.1f} GB"
    return f"CPU {reading.cpu_percent:.0f}% · {ram} · {gpu}"
