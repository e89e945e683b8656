"""Python's cycle collector, run only on the main thread.

Left automatic, the collector runs on whichever thread happens to allocate, so a reference cycle that
holds a widget (a job's callback bound to a dialog, say) can be freed on the inference lane's thread,
and Qt crashes when a widget is deleted off the GUI thread. pyqtgraph's ``GarbageCollector`` does the
same for the same reason; this is a dozen lines, so it is ours.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

logger = logging.getLogger(__name__)


class MainThreadCollector(QObject):
    """Turns automatic collection off and collects from a main-thread timer instead."""

    def __init__(self, interval_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()

    def check(self) -> None:
        """Collect each generation whose allocation count passed its usual threshold (as gc would)."""
        counts = gc.get_count()
        if counts[0] > self._threshold[0]:
            generation = 0
            if counts[1] > self._threshold[1]:
                generation = 1
                if counts[2] > self._threshold[2]:
                    generation = 2
            gc.collect(generation)
