"""A window for a model download: the step being done, bytes, speed, time left, and Cancel.

The download function (shaped like :func:`app.services.setup.install_offline_voices`:
``fn(report, progress, cancel)``) runs on the inference lane. Its step sentences travel as
``ctx.progress(None, text)``; its byte counts travel as ``ctx.emit`` events, at most about twenty a
second, because a fast connection calls ``progress`` for every 64 KB block and thousands of queued
signals would stall the window. Speed and time left are measured over the last few seconds.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.models import CancelToken
from app.ui.worker import InferenceLane, Job, JobContext, JobError, Progress

logger = logging.getLogger(__name__)

DownloadFn = Callable[[Callable[[str], None], Callable[[int, int], None], CancelToken], Any]
"""``fn(report, progress, cancel)``, as :func:`app.services.setup.install_offline_voices`."""

UPDATES_PER_SECOND = 20
RATE_WINDOW_S = 3.0
"""Speed is averaged over this long: steady enough to read, quick to follow a change."""
CLOSE_AFTER_MS = 1200
STEPS = 1000
"""The bar counts in thousandths: QProgressBar holds an int, and files can exceed 2 GB."""
CANCELLED_TEXT = "Cancelled — nothing was kept."
DONE_TEXT = "Done"


@dataclass(frozen=True)
class ByteProgress:
    """Bytes done of total (0 when unknown), stamped on the lane thread when they were counted."""

    done: int
    total: int
    at: float


class _Throttle:
    """Lane side: passes on at most ``UPDATES_PER_SECOND`` byte counts, and always the last one."""

    def __init__(self, ctx: JobContext) -> None:
        self._ctx = ctx
        self._interval = 1.0 / UPDATES_PER_SECOND
        self._last = float("-inf")

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= self._interval or (total > 0 and done >= total):
            self._last = now
            self._ctx.emit(ByteProgress(int(done), int(total), now))


def format_bytes(count: float) -> str:
    """Decimal megabytes, as macOS's Finder counts them."""
    if count < 1_000_000:
        return f"{count / 1000:.0f} KB"
    if count < 1_000_000_000:
        return f"{count / 1_000_000:.1f} MB"
    return f"{count / 1_000_000_000:.2f} GB"


def format_time_left(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"


def describe(done: int, total: int, rate: float | None) -> str:
    """``12.3 MB of 27.0 MB · 4.1 MB/s · 5 s left`` (the parts that are known)."""
    parts = [f"{format_bytes(done)} of {format_bytes(total)}" if total > 0 else format_bytes(done)]
    if rate:
        parts.append(f"{format_bytes(rate)}/s")
        if total > done:
            parts.append(format_time_left((total - done) / rate))
    return " · ".join(parts)


class DownloadDialog(QDialog):
    """Runs one download on the lane and shows how it goes; Retry after a failure runs it again."""

    finished_ok = Signal()
    failed = Signal(object)  # JobError
    cancelled = Signal()

    def __init__(self, lane: InferenceLane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lane = lane
        self._token: CancelToken | None = None
        """The running job's cancel token; the Job itself is not kept, because it holds callbacks bound to
        this dialog, and a dialog caught in a reference cycle may be collected on a worker thread."""
        self.state = "idle"
        """idle, running, cancelling, done, failed or cancelled."""
        self._title = ""
        self._fn: DownloadFn | None = None
        self._samples: deque[tuple[float, int]] = deque()
        self.setMinimumWidth(460)
        self.setAccessibleName("Download")

        self.step = QLabel()
        self.step.setWordWrap(True)
        self.step.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.step.setAccessibleName("Current step")
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Download progress")
        self.detail = QLabel()
        self.detail.setAccessibleName("Bytes, speed and time left")
        self.detail.setEnabled(False)  # the palette's quiet text colour, not a hard-coded grey

        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the download; the partial file is deleted")
        self.cancel_button.setAccessibleName("Cancel download")
        self.cancel_button.clicked.connect(self.cancel)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Try the download again")
        self.retry_button.setAccessibleName("Retry download")
        self.retry_button.clicked.connect(self.retry)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close")
        self.close_button.clicked.connect(self.accept)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.retry_button, self.cancel_button, self.close_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.step)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)

        self._close_timer = QTimer(self)
        self._close_timer.setSingleShot(True)
        self._close_timer.timeout.connect(self.accept)
        self._show_buttons()

    # --- running --------------------------------------------------------------------------------------
    def start(self, title: str, fn: DownloadFn) -> Job:
        """Start ``fn`` on the lane (the caller shows the dialog, with ``open()``); one at a time."""
        if self.state in ("running", "cancelling"):
            raise RuntimeError("This dialog is already running a download.")
        self._title, self._fn = title, fn
        self.setWindowTitle(title)
        self._close_timer.stop()
        self._samples.clear()
        self.state = "running"
        self.step.setText(f"{title}…")
        self.detail.setText("")
        self.bar.setRange(0, 0)  # busy until the first byte count says how big it is
        self._show_buttons()

        def work(ctx: JobContext) -> Any:
            return fn(lambda text: ctx.progress(None, text), _Throttle(ctx), ctx.cancel)

        job = self.lane.submit(
            title,
            work,
            on_done=self._done,
            on_error=self._failed,
            on_progress=self._step,
            on_chunk=self._bytes,
            on_cancelled=self._cancelled,
        )
        self._token = job.cancel_token
        return job

    def cancel(self) -> None:
        """Ask the download to stop; it deletes its partial file, then :attr:`cancelled` fires."""
        if self._token is None or self.state != "running":
            return
        self.state = "cancelling"
        self._token.cancel()
        self.step.setText("Cancelling…")
        self._show_buttons()

    def retry(self) -> None:
        if self._fn is not None and self.state in ("failed", "cancelled"):
            self.start(self._title, self._fn)

    def reject(self) -> None:
        """Escape or the close box: cancel first while running, close once it has stopped."""
        if self.state in ("running", "cancelling"):
            self.cancel()
            return
        self._close_timer.stop()
        super().reject()

    # --- lane callbacks, on the main thread -----------------------------------------------------------
    def _step(self, progress: Progress) -> None:
        if self.state == "running" and progress.text:
            self.step.setText(progress.text)

    def _bytes(self, update: ByteProgress) -> None:
        if self.state != "running":
            return
        samples = self._samples
        if samples and update.done < samples[-1][1]:
            samples.clear()  # a new file started
        samples.append((update.at, update.done))
        while len(samples) > 2 and update.at - samples[0][0] > RATE_WINDOW_S:
            samples.popleft()
        first_at, first_done = samples[0]
        rate = (update.done - first_done) / (update.at - first_at) if update.at > first_at else None
        if update.total > 0:
            self.bar.setRange(0, STEPS)
            self.bar.setValue(min(STEPS, update.done * STEPS // update.total))
        else:
            self.bar.setRange(0, 0)
        self.detail.setText(describe(update.done, update.total, rate))

    def _done(self, _result: Any) -> None:
        self.state = "done"
        self.step.setText(DONE_TEXT)
        self.bar.setRange(0, STEPS)
        self.bar.setValue(STEPS)
        self._show_buttons()
        self.close_button.setFocus()
        logger.info("%s: done", self._title)
        self.finished_ok.emit()
        if self.isVisible():
            self._close_timer.start(CLOSE_AFTER_MS)

    def _failed(self, error: JobError) -> None:
        self.state = "failed"
        self.step.setText(error.message)
        self.detail.setText("")
        self.bar.setRange(0, STEPS)
        self.bar.setValue(0)
        self._show_buttons()
        self.retry_button.setFocus()
        self.failed.emit(error)

    def _cancelled(self) -> None:
        self.state = "cancelled"
        self.step.setText(CANCELLED_TEXT)
        self.detail.setText("")
        self.bar.setRange(0, STEPS)
        self.bar.setValue(0)
        self._show_buttons()
        logger.info("%s: cancelled", self._title)
        self.cancelled.emit()

    def _show_buttons(self) -> None:
        running = self.state in ("running", "cancelling")
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(self.state == "running")
        self.retry_button.setVisible(self.state in ("failed", "cancelled"))
        self.close_button.setVisible(not running)
        self.close_button.setDefault(self.state == "done")
