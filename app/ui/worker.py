"""The inference lane: one background thread (a ``QThreadPool`` of one) for loading engines and running
inference, so torch/ONNX/MLX state is only ever touched from one thread and the UI never blocks.

A job is a plain function ``fn(ctx) -> result`` run on the lane. It reports through its
:class:`JobContext` (``ctx.progress(...)``, ``ctx.emit(data)``) and checks ``ctx.cancel`` between steps.
Everything it reports crosses to the main thread as queued signals of :class:`JobSignals`, an object
created on (and owned by) the main thread, never by the ``QRunnable``; the lane then calls the
callbacks given to :meth:`InferenceLane.submit` on the main thread. Errors arrive as data
(:class:`JobError`), never as exceptions in a Qt slot.
"""

from __future__ import annotations

import itertools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from app.core.errors import CancelledError, TimbreError
from app.core.models import CancelToken

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobError:
    """A failed job, as the UI shows it: a plain message and the details behind it."""

    message: str
    details: str = ""
    expected: bool = True
    """True for a :class:`TimbreError` (bad input, missing weights, full disk); False for a bug."""

    @classmethod
    def from_exception(cls, exc: BaseException) -> JobError:
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if isinstance(exc, TimbreError):
            return cls(str(exc), details, True)
        return cls(f"Something went wrong: {exc or type(exc).__name__}.", details, False)


@dataclass(frozen=True)
class Progress:
    """How far a job has got: a fraction (``None`` when unknown) and a sentence."""

    fraction: float | None
    text: str = ""


class JobSignals(QObject):
    """Signals for every job, created on the main thread so their slots run there."""

    started = Signal(int)
    progress = Signal(int, object)  # job id, Progress
    chunk = Signal(int, object)  # job id, anything the job emits (audio chunks)
    finished = Signal(int, object)  # job id, result
    failed = Signal(int, object)  # job id, JobError
    cancelled = Signal(int)


class JobContext:
    """What a running job sees: its cancel token and its ways to report."""

    def __init__(self, job_id: int, cancel: CancelToken, signals: JobSignals) -> None:
        self.job_id = job_id
        self.cancel = cancel
        self._signals = signals

    def progress(self, fraction: float | None, text: str = "") -> None:
        self._signals.progress.emit(self.job_id, Progress(fraction, text))

    def emit(self, data: Any) -> None:
        self._signals.chunk.emit(self.job_id, data)

    def raise_if_cancelled(self) -> None:
        self.cancel.raise_if_cancelled()


@dataclass
class Job:
    """A handle on a submitted job."""

    id: int
    name: str
    cancel_token: CancelToken = field(default_factory=CancelToken)
    on_done: Callable[[Any], None] | None = None
    on_error: Callable[[JobError], None] | None = None
    on_progress: Callable[[Progress], None] | None = None
    on_chunk: Callable[[Any], None] | None = None
    on_cancelled: Callable[[], None] | None = None
    running: bool = False

    def cancel(self) -> None:
        """Ask the job to stop at its next check (a queued job never starts)."""
        self.cancel_token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled


class _Runnable(QRunnable):
    """Runs one job's function on the pool thread. Holds no Qt objects of its own."""

    def __init__(self, job: Job, fn: Callable[[JobContext], Any], signals: JobSignals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job_id = job.id
        self._cancel = job.cancel_token
        self._name = job.name
        self._fn = fn
        self._signals = signals

    def run(self) -> None:  # noqa: D102 - QRunnable entry point, on the lane thread
        signals, job_id = self._signals, self._job_id
        if self._cancel.cancelled:
            signals.cancelled.emit(job_id)
            return
        signals.started.emit(job_id)
        try:
            result = self._fn(JobContext(job_id, self._cancel, signals))
        except CancelledError:
            signals.cancelled.emit(job_id)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes data for the UI
            if self._cancel.cancelled:
                signals.cancelled.emit(job_id)
            else:
                logger.log(
                    logging.INFO if isinstance(exc, TimbreError) else logging.ERROR,
                    "Job %s (%s) failed",
                    job_id,
                    self._name,
                    exc_info=not isinstance(exc, TimbreError),
                )
                signals.failed.emit(job_id, JobError.from_exception(exc))
        else:
            if self._cancel.cancelled:
                signals.cancelled.emit(job_id)
            else:
                signals.finished.emit(job_id, result)


class InferenceLane(QObject):
    """One thread for every model load and inference; jobs run in the order they were submitted."""

    busyChanged = Signal(bool)  # noqa: N815 - Qt naming
    jobStarted = Signal(object)  # noqa: N815 - Job
    jobEnded = Signal(object)  # noqa: N815 - Job

    _ids = itertools.count(1)

    def __init__(self, parent: QObject | None = None, name: str = "inference") -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.pool.setObjectName(name)
        self.signals = JobSignals(self)
        self._jobs: dict[int, Job] = {}
        s = self.signals
        s.started.connect(self._on_started)
        s.progress.connect(self._on_progress)
        s.chunk.connect(self._on_chunk)
        s.finished.connect(self._on_finished)
        s.failed.connect(self._on_failed)
        s.cancelled.connect(self._on_cancelled)

    # --- submitting -----------------------------------------------------------------------------------
    def submit(
        self,
        name: str,
        fn: Callable[[JobContext], Any],
        *,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[JobError], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_chunk: Callable[[Any], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
    ) -> Job:
        """Queue ``fn`` on the lane; the callbacks run later on the main thread."""
        job = Job(next(self._ids), name, CancelToken(), on_done, on_error, on_progress, on_chunk)
        job.on_cancelled = on_cancelled
        was_busy = self.busy
        self._jobs[job.id] = job
        self.pool.start(_Runnable(job, fn, self.signals))
        if not was_busy:
            self.busyChanged.emit(True)
        return job

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    @property
    def jobs(self) -> list[Job]:
        """Jobs queued or running, oldest first."""
        return list(self._jobs.values())

    def cancel_all(self) -> None:
        for job in self._jobs.values():
            job.cancel()

    def wait(self, msecs: int = -1) -> bool:
        """Block until the lane is idle (tests and shutdown); True if it got there in time."""
        return self.pool.waitForDone(msecs)

    # --- dispatch, on the main thread ------------------------------------------------------------------
    @Slot(int)
    def _on_started(self, job_id: int) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            job.running = True
            self.jobStarted.emit(job)

    @Slot(int, object)
    def _on_progress(self, job_id: int, progress: Progress) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.on_progress is not None and not job.cancelled:
            job.on_progress(progress)

    @Slot(int, object)
    def _on_chunk(self, job_id: int, data: Any) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.on_chunk is not None and not job.cancelled:
            job.on_chunk(data)

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: Any) -> None:
        job = self._end(job_id)
        if job is not None and job.on_done is not None:
            self._call(job, job.on_done, result)

    @Slot(int, object)
    def _on_failed(self, job_id: int, error: JobError) -> None:
        job = self._end(job_id)
        if job is not None and job.on_error is not None:
            self._call(job, job.on_error, error)

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        job = self._end(job_id)
        if job is not None and job.on_cancelled is not None:
            self._call(job, job.on_cancelled)

    def _end(self, job_id: int) -> Job | None:
        job = self._jobs.pop(job_id, None)
        if job is not None:
            job.running = False
            self.jobEnded.emit(job)
            if not self._jobs:
                self.busyChanged.emit(False)
        return job

    @staticmethod
    def _call(job: Job, callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - a broken callback must not kill the event loop
            logger.exception("Callback for job %s (%s) failed", job.id, job.name)
