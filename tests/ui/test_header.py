"""The resource header: figures from readings, GPU n/a, a minute of history, sampling off the UI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.services.monitor import HISTORY, GpuReading, Reading, ResourceMonitor
from app.ui.widgets.header import MonitorSampler, ResourceHeader

GB = 1024**3
MB = 1024**2


def _reading(cpu: float = 12.0, gpu: GpuReading | None = None) -> Reading:
    return Reading(cpu, int(6.1 * GB), 24 * GB, 812 * MB, gpu)


@pytest.fixture
def sampler(qtbot) -> Iterator[MonitorSampler]:
    """A sampler on the real monitor, stopped at teardown whatever the test did."""
    sampler = MonitorSampler(ResourceMonitor(), interval_ms=200)
    yield sampler
    sampler.stop()
    assert not sampler.running


def test_figures_with_a_gpu(qtbot) -> None:
    header = ResourceHeader(live=False)
    qtbot.addWidget(header)
    header.show_reading(_reading(gpu=GpuReading("Apple GPU", 40.0, int(3.1 * GB), 16 * GB)))

    assert header.cpu_label.text() == "CPU 12%"
    assert header.ram_label.text() == "RAM 6.1 / 24.0 GB"
    assert "Timbre itself: 812 MB" in header.ram_label.toolTip()
    assert header.gpu_label.text() == "GPU 40% · 3.1 GB"
    assert "Apple GPU" in header.gpu_label.toolTip()
    assert not header.gpu_graph.isHidden()
    assert header.gpu_graph.values() == [40.0]
    assert header.ram_graph.values() == [pytest.approx(100 * 6.1 / 24, abs=0.01)]


def test_no_gpu_reads_n_a(qtbot) -> None:
    header = ResourceHeader(live=False)
    qtbot.addWidget(header)
    header.show_reading(_reading(gpu=GpuReading("Apple GPU", 55.0, None, None)))
    assert header.gpu_label.text() == "GPU 55%"

    header.show_reading(_reading(cpu=3.4, gpu=None))
    assert header.cpu_label.text() == "CPU 3%"
    assert header.gpu_label.text() == "GPU n/a"
    assert header.gpu_graph.isHidden()
    assert header.gpu_graph.values() == []
    assert "GPU n/a" in header.accessibleDescription()


def test_history_keeps_the_last_minute(qtbot) -> None:
    header = ResourceHeader(live=False)
    qtbot.addWidget(header)
    for i in range(HISTORY + 15):
        header.show_reading(_reading(cpu=float(i % 100)))
    values = header.cpu_graph.values()
    assert len(values) == HISTORY == 60
    assert values[0] == 15.0 and values[-1] == float((HISTORY + 14) % 100)
    assert len(header.ram_graph.values()) == HISTORY


def test_device_and_engines(qtbot) -> None:
    header = ResourceHeader(live=False)
    qtbot.addWidget(header)
    header.show()
    assert header.no_engine_label.isVisible()
    assert header.engine_texts() == []

    header.set_device("Apple GPU (MPS)")
    header.set_engines([("Piper", "joe · 63 MB"), ("Kokoro", "82M int8")])
    assert header.device_label.text() == "Device: Apple GPU (MPS)"
    assert header.engine_texts() == ["Piper: joe · 63 MB", "Kokoro: 82M int8"]
    assert not header.no_engine_label.isVisible()

    header.set_engines([])
    assert header.engine_texts() == []
    assert header.no_engine_label.isVisible()


def test_header_renders(qtbot) -> None:
    header = ResourceHeader(live=False)
    qtbot.addWidget(header)
    header.set_engines([("Piper", "joe · 63 MB")])
    for i in range(10):
        header.show_reading(_reading(cpu=10.0 * i, gpu=GpuReading("NVIDIA H100", 5.0 * i, 2 * GB, 80 * GB)))
    header.resize(900, header.sizeHint().height())
    header.show()
    assert not header.grab().isNull()


def test_sampler_reads_off_the_ui_thread_and_stops(qtbot, sampler) -> None:
    readings: list[Reading] = []
    delivered_on: set[int] = set()

    def collect(reading: Reading) -> None:
        delivered_on.add(threading.get_ident())
        readings.append(reading)

    sampler.reading.connect(collect)
    sampler.start()
    thread = sampler.thread_handle
    assert thread is not None and sampler.running
    qtbot.waitUntil(lambda: len(readings) >= 2, timeout=3000)

    sampler.stop()
    assert thread.isFinished() and not sampler.running
    assert all(isinstance(r, Reading) and r.ram_total > 0 for r in readings)
    assert delivered_on == {threading.get_ident()}  # slots run on the UI thread
    count = len(readings)
    qtbot.wait(450)
    assert len(readings) <= count + 1  # at most one reading already queued when it stopped


def test_header_samples_while_shown(qtbot, sampler) -> None:
    header = ResourceHeader(sampler)
    qtbot.addWidget(header)
    assert not sampler.running
    header.show()
    assert sampler.running
    qtbot.waitUntil(lambda: header.cpu_label.text().endswith("%"), timeout=3000)
    assert header.ram_label.text().startswith("RAM ") and header.ram_label.text().endswith(" GB")

    header.hide()
    assert not sampler.running


def test_a_header_samples_on_its_own_while_shown(qtbot) -> None:
    header = ResourceHeader()
    qtbot.addWidget(header)
    assert header.sampler is not None and not header.sampler.running
    header.show()
    try:
        qtbot.waitUntil(lambda: header.ram_label.text().endswith(" GB"), timeout=3000)
        assert header.sampler.running
    finally:
        header.stop()
    assert not header.sampler.running
