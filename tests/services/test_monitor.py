"""Resource readings: real psutil figures on this machine, a GPU shown as unavailable when there is none,
and the Apple ioreg parser on real ioreg output."""

from __future__ import annotations

import time

import numpy as np

from app.services.monitor import HISTORY, ResourceMonitor, describe, parse_ioreg

IOREG = (
    "+-o AGXAcceleratorG14X  <class AGXAcceleratorG14X, id 0x100000289, registered, matched, active>\n"
    "    {\n"
    '      "PerformanceStatistics" = {"In use system memory (driver)"=0,"Alloc system memory"=1476395008,'
    '"Tiler Utilization %"=7,"Renderer Utilization %"=6,"Device Utilization %"=9,"SplitSceneCount"=0}\n'
    "    }\n"
)


def test_readings_are_real_and_bounded():
    monitor = ResourceMonitor()
    busy_until = time.perf_counter() + 0.3
    while time.perf_counter() < busy_until:
        np.dot(np.ones((200, 200)), np.ones((200, 200)))
    reading = monitor.sample()
    assert 0.0 < reading.cpu_percent <= 100.0, "a busy loop shows up as CPU use"
    assert 0 < reading.ram_used < reading.ram_total and reading.process_rss > 10 * 1024**2
    for _ in range(HISTORY + 5):
        monitor.sample()
    assert len(monitor.history) == HISTORY


def test_no_gpu_reads_as_unavailable_not_zero():
    monitor = ResourceMonitor()
    reading = monitor.sample()
    if not monitor.has_gpu:  # this machine: no NVIDIA driver, not a Mac
        assert reading.gpu is None and describe(reading).endswith("GPU n/a")
    else:  # pragma: no cover - machines with a GPU
        assert reading.gpu is not None


def test_ioreg_utilisation_is_parsed():
    assert parse_ioreg(IOREG) == 9.0
    assert parse_ioreg("no accelerator here") is None
