"""The main window's live header: the device in use, the engines loaded and what they hold, and CPU, RAM
and GPU figures with a minute of history each.

Readings come from :class:`MonitorSampler`, which samples :class:`~app.services.monitor.ResourceMonitor`
on a thread of its own about once a second: on Apple Silicon a GPU reading runs ``ioreg`` (tens of
milliseconds), which would make typing stutter on the UI thread. The header itself only displays, so tests
(and the app) can hand it readings through :meth:`ResourceHeader.show_reading`.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QWidget

from app.services.monitor import GpuReading, Reading, ResourceMonitor, describe
from app.ui.widgets.sparkline import Sparkline

logger = logging.getLogger(__name__)

CHIP_STYLE = (
    "QLabel { background: palette(alternate-base); border: 1px solid palette(mid);"
    " border-radius: 4px; padding: 0px 5px; }"
)

GB = 1024**3
MB = 1024**2

_running: set[MonitorSampler] = set()
"""Started samplers, held here so one dropped by its owner mid-run cannot take a running QThread with it
(destroying a running QThread aborts the process); :meth:`MonitorSampler.stop` lets go."""


class _SampleWorker(QObject):
    """Lives on the sampler's thread; its timer and every ``sample()`` call run there."""

    sampled = Signal(object)

    def __init__(self, monitor: ResourceMonitor, interval_ms: int) -> None:
        super().__init__()
        self._monitor = monitor
        self._interval_ms = interval_ms
        self._timer: QTimer | None = None

    @Slot()
    def begin(self) -> None:
        self._timer = QTimer(self)
        self._timer.setInterval(self._interval_ms)
        self._timer.timeout.connect(self.sample)
        self._timer.start()
        self.sample()  # the header should not sit empty for the first second

    @Slot()
    def halt(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    @Slot()
    def sample(self) -> None:
        try:
            reading = self._monitor.sample()
        except Exception:  # noqa: BLE001 - a failed reading only leaves the header a second stale
            logger.debug("Resource reading failed", exc_info=True)
            return
        self.sampled.emit(reading)


class MonitorSampler(QObject):
    """Samples a :class:`ResourceMonitor` every ``interval_ms`` on its own thread.

    ``reading`` arrives on the thread the sampler lives on (the UI thread). :meth:`stop` ends the thread and
    waits for it; the sampler also stops when the application is about to quit, so no thread outlives it.
    """

    reading = Signal(object)  # a monitor.Reading

    def __init__(
        self, monitor: ResourceMonitor | None = None, interval_ms: int = 1000, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._monitor = monitor
        self.interval_ms = interval_ms
        self._thread: QThread | None = None
        self._worker: _SampleWorker | None = None
        self._quit_hooked = False

    @property
    def monitor(self) -> ResourceMonitor:
        if self._monitor is None:
            self._monitor = ResourceMonitor()  # the psutil import and GPU probe wait until sampling is wanted
        return self._monitor

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    @property
    def thread_handle(self) -> QThread | None:
        """The sampling thread while started (tests check it really ends)."""
        return self._thread

    def start(self) -> None:
        if self._thread is not None:
            return
        app = QCoreApplication.instance()
        if app is not None and not self._quit_hooked:
            app.aboutToQuit.connect(self.stop)
            self._quit_hooked = True
        thread = QThread()
        thread.setObjectName("resource-monitor")
        worker = _SampleWorker(self.monitor, self.interval_ms)
        worker.moveToThread(thread)
        thread.started.connect(worker.begin)
        # Direct: `finished` is emitted on the ending thread, the only thread allowed to stop the timer.
        thread.finished.connect(worker.halt, Qt.ConnectionType.DirectConnection)
        worker.sampled.connect(self.reading)
        self._thread, self._worker = thread, worker
        _running.add(self)
        thread.start()

    @Slot()
    def stop(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None or worker is None:
            return
        self._thread = self._worker = None
        thread.quit()
        if not thread.wait(5000):
            # Keep the references: destroying a running QThread aborts the whole process.
            self._thread, self._worker = thread, worker
            logger.warning("The resource monitor thread did not stop within 5 s")
            return
        worker.sampled.disconnect(self.reading)
        _running.discard(self)


def _size(nbytes: int) -> str:
    return f"{nbytes / GB:.1f} GB" if nbytes >= GB else f"{nbytes / MB:.0f} MB"


def _gpu_text(gpu: GpuReading | None) -> str:
    if gpu is None:
        return "GPU n/a"
    parts = []
    if gpu.utilisation is not None:
        parts.append(f"{gpu.utilisation:.0f}%")
    if gpu.memory_used is not None:
        parts.append(f"{gpu.memory_used / GB:.1f} GB")
    return "GPU " + (" · ".join(parts) if parts else "on")


def _gpu_tip(gpu: GpuReading | None) -> str:
    if gpu is None:
        return "Timbre cannot read a GPU on this machine, so there is nothing to show."
    lines = [gpu.name]
    lines.append("Busy: not reported" if gpu.utilisation is None else f"Busy: {gpu.utilisation:.0f}%")
    if gpu.memory_used is not None:
        total = f" of {_size(gpu.memory_total)}" if gpu.memory_total else ""
        lines.append(f"Memory in use: {_size(gpu.memory_used)}{total}")
    return "\n".join(lines)


class _Figure(QWidget):
    """A labelled figure and its sparkline, side by side."""

    def __init__(self, name: str, widest: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(name, self)
        self.label.setAccessibleName(name)
        self.graph = Sparkline(parent=self)
        self.graph.setAccessibleName(f"{name} over the last minute")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.label)
        layout.addWidget(self.graph)
        # Reserve the widest figure's width so the row does not jitter as digits change every second.
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance(widest) + 2)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class ResourceHeader(QWidget):
    """Device, loaded engines and live CPU / RAM / GPU figures in one compact row.

    It samples while it is visible (a window hidden to the menu bar costs nothing): through ``sampler`` when
    given, else through one of its own. ``live=False`` (and no sampler) makes it a plain display of what
    :meth:`show_reading` is handed, as tests want.
    """

    def __init__(
        self, sampler: MonitorSampler | None = None, parent: QWidget | None = None, *, live: bool = True
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Resources")
        if sampler is None and live:
            sampler = MonitorSampler()  # no Qt parent: a header deleted mid-run must not take it down running
        self.sampler = sampler
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF() - 1))
        font.setFeature(QFont.Tag("tnum"), 1)  # tabular digits keep the figures from wobbling
        self.setFont(font)

        self.device_label = QLabel("Device: CPU", self)
        self.device_label.setAccessibleName("Device")
        self.device_label.setToolTip("Where speech is computed.")
        self._engines = QWidget(self)
        self._engines_row = QHBoxLayout(self._engines)
        self._engines_row.setContentsMargins(0, 0, 0, 0)
        self._engines_row.setSpacing(4)
        self._engine_chips: list[QLabel] = []
        self.no_engine_label = QLabel("No engine loaded", self._engines)
        self.no_engine_label.setToolTip("An engine loads the first time you generate with it.")
        self.no_engine_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._engines_row.addWidget(self.no_engine_label)

        self.cpu = _Figure("CPU", "CPU 100%", self)
        self.ram = _Figure("RAM", "RAM 88.8 / 88.8 GB", self)
        self.gpu = _Figure("GPU", "GPU 100% · 8.8 GB", self)
        self.cpu_label, self.cpu_graph = self.cpu.label, self.cpu.graph
        self.ram_label, self.ram_graph = self.ram.label, self.ram.graph
        self.gpu_label, self.gpu_graph = self.gpu.label, self.gpu.graph
        self.cpu_label.setText("CPU –")
        self.ram_label.setText("RAM –")
        self.gpu_label.setText("GPU –")
        self.gpu_graph.hide()

        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.setSpacing(10)
        layout.addWidget(self.device_label)
        layout.addWidget(self._separator())
        layout.addWidget(self._engines)
        layout.addStretch(1)
        for figure in (self.cpu, self.ram, self.gpu):
            layout.addWidget(figure)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        if sampler is not None:
            sampler.reading.connect(self.show_reading)
            # A header deleted while shown gets no hideEvent; the sampling it started ends with it anyway.
            self.destroyed.connect(sampler.stop)

    def _separator(self) -> QFrame:
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Plain)
        line.setForegroundRole(QPalette.ColorRole.Mid)
        line.setFixedHeight(14)
        return line

    @Slot(object)
    def show_reading(self, reading: Reading) -> None:
        self.cpu_label.setText(f"CPU {reading.cpu_percent:.0f}%")
        self.cpu_label.setToolTip(f"Processor use, all cores together: {reading.cpu_percent:.0f}%")
        self.cpu_graph.add(reading.cpu_percent)

        used, total = reading.ram_used / GB, reading.ram_total / GB
        self.ram_label.setText(f"RAM {used:.1f} / {total:.1f} GB")
        self.ram_label.setToolTip(
            f"Memory in use on this computer: {used:.1f} of {total:.1f} GB\n"
            f"Timbre itself: {_size(reading.process_rss)}"
        )
        self.ram_graph.add(100.0 * reading.ram_used / reading.ram_total if reading.ram_total else 0.0)

        gpu = reading.gpu
        self.gpu_label.setText(_gpu_text(gpu))
        self.gpu_label.setToolTip(_gpu_tip(gpu))
        graphable = gpu is not None and gpu.utilisation is not None
        if graphable:
            self.gpu_graph.add(gpu.utilisation)
        else:
            self.gpu_graph.clear()
        self.gpu_graph.setVisible(graphable)
        self.setAccessibleDescription(describe(reading))

    def set_device(self, text: str) -> None:
        """The device speech runs on, e.g. "CPU" or "Apple GPU (MPS)"."""
        self.device_label.setText(f"Device: {text}")

    def set_engines(self, engines: list[tuple[str, str]]) -> None:
        """Loaded engines and what each holds, e.g. ``[("Piper", "joe · 63 MB")]``."""
        for chip in self._engine_chips:
            self._engines_row.removeWidget(chip)
            chip.deleteLater()
        self._engine_chips = []
        for name, detail in engines:
            chip = QLabel(
                f"<b>{_escape(name)}</b> {_escape(detail)}" if detail else f"<b>{_escape(name)}</b>"
            )
            chip.setParent(self._engines)
            chip.setTextFormat(Qt.TextFormat.RichText)
            chip.setAccessibleName(f"{name}: {detail}" if detail else name)
            chip.setToolTip(f"{name} is loaded" + (f": {detail}" if detail else ""))
            chip.setStyleSheet(CHIP_STYLE)
            self._engines_row.addWidget(chip)
            self._engine_chips.append(chip)
        self.no_engine_label.setVisible(not engines)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            # A style sheet resolves palette() once; set it again so the chips follow light/dark mode.
            for chip in self._engine_chips:
                chip.setStyleSheet(CHIP_STYLE)

    def engine_texts(self) -> list[str]:
        """What the engine chips say, as plain text ("Piper: joe · 63 MB"); empty when none is loaded."""
        return [chip.accessibleName() for chip in self._engine_chips]

    def stop(self) -> None:
        """Stop sampling now (app shutdown); showing the header again starts it again."""
        if self.sampler is not None:
            self.sampler.stop()

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.sampler is not None:
            self.sampler.start()

    def hideEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        if self.sampler is not None:
            self.sampler.stop()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
