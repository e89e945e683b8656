"""A ``concurrent.futures.Executor`` whose calls run as jobs on the app's inference lane.

The narrator (a plain Python thread running asyncio) hands every synthesis to an executor, and in the app
that executor must be the inference lane: the one thread that ever touches an engine. ``submit`` may be
called from any thread; a queued signal carries the call to the lane's (main) thread, which is the only
one allowed to start lane jobs. The job resolves the Future itself, on the lane thread, so waiting on it
never needs the GUI event loop. A job the lane cancels before it ran (``cancel_all`` at quit) resolves the
Future with :class:`~app.core.errors.CancelledError`: callers are never left waiting, and nothing here
calls ``Future.cancel()`` (which asyncio would turn into a cancellation of the awaiting task itself).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.core.errors import CancelledError
from app.ui.worker import InferenceLane, Job, JobContext

logger = logging.getLogger(__name__)


class _Call:
    """One submitted call, until the lane has it."""

    __slots__ = ("future", "fn", "args", "kwargs")

    def __init__(
        self, future: concurrent.futures.Future[Any], fn: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        self.future = future
        self.fn = fn
        self.args = args
        self.kwargs = kwargs


class _Hop(QObject):
    """Lives on the lane's thread; a call emitted from any other thread arrives there as a queued signal."""

    submitted = Signal(object)  # _Call

    def __init__(self, start: Callable[[_Call], None], parent: QObject) -> None:
        super().__init__(parent)
        self._start = start
        self.submitted.connect(self._on_submitted)

    @Slot(object)
    def _on_submitted(self, call: _Call) -> None:
        self._start(call)


class LaneExecutor(concurrent.futures.Executor):
    """Runs each ``submit(fn, *args)`` as one job named ``name`` on ``lane``, in the order submitted.

    Create it on the lane's thread (the main thread). Thread-safe after that.
    """

    def __init__(self, lane: InferenceLane, name: str = "Speaking") -> None:
        self.lane = lane
        self.name = name
        self._lock = threading.Lock()
        self._shutdown = False
        self._waiting: dict[int, _Call] = {}  # submitted, not yet handed to the lane (id(future) -> call)
        self._jobs: dict[int, tuple[concurrent.futures.Future[Any], Job]] = {}  # on the lane, unresolved
        # A child of the lane: it lives on the lane's thread and is only ever deleted there, with the lane
        # (not wherever the last reference to this executor happens to go).
        self._hop = _Hop(self._start, lane)

    # --- the Executor interface --------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """Queue ``fn(*args, **kwargs)`` on the lane; from any thread. The Future resolves on the lane."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        call = _Call(future, fn, args, kwargs)
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._waiting[id(future)] = call
        try:
            # Queued when called off the lane's thread (the usual case); direct on it.
            self._hop.submitted.emit(call)
        except RuntimeError:  # the hop (or the lane) has been deleted: the app is going away
            self._take(call)
            _resolve_cancelled(future)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No more calls; with ``cancel_futures`` calls not yet started resolve as cancelled; with ``wait``
        wait for the rest to finish (on the lane's thread, calls still in transit are handed over now)."""
        with self._lock:
            self._shutdown = True
            waiting = list(self._waiting.values())
            jobs = list(self._jobs.values())
        if cancel_futures:
            for call in waiting:
                if self._take(call):
                    _resolve_cancelled(call.future)
            for future, job in jobs:
                if not job.running:
                    job.cancel()  # the lane skips it
                    # Resolved here, not when the lane says so: that news needs this thread's event loop.
                    _resolve_cancelled(future)
        if not wait:
            return
        if threading.current_thread() is threading.main_thread() or self._on_lane_thread():
            # The queued signals cannot be delivered while this thread waits: hand them over directly.
            for call in waiting:
                self._start(call)
        pending = [call.future for call in waiting] + [future for future, _job in jobs]
        concurrent.futures.wait(pending)

    # --- on the lane's thread ----------------------------------------------------------------------
    def _start(self, call: _Call) -> None:
        if not self._take(call):
            return  # already handled by shutdown
        future = call.future
        if future.cancelled():  # its awaiting task was cancelled meanwhile: never run it
            future.set_running_or_notify_cancel()
            return

        def job(_ctx: JobContext) -> None:
            try:
                if not future.set_running_or_notify_cancel():
                    return
            except RuntimeError:  # shutdown resolved it as cancelled just before the lane got to it
                return
            try:
                result = call.fn(*call.args, **call.kwargs)
            except BaseException as exc:  # noqa: BLE001 - every outcome goes to the Future, not the lane
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                with self._lock:
                    self._jobs.pop(id(future), None)

        try:
            handle = self.lane.submit(self.name, job, on_cancelled=lambda: self._cancelled(future))
        except RuntimeError:  # the lane has been deleted (the app is quitting)
            _resolve_cancelled(future)
            return
        with self._lock:
            if not future.done():
                self._jobs[id(future)] = (future, handle)

    def _cancelled(self, future: concurrent.futures.Future[Any]) -> None:
        """The lane cancelled the job (possibly before it ran): the Future must not stay pending."""
        with self._lock:
            self._jobs.pop(id(future), None)
        _resolve_cancelled(future)

    def _take(self, call: _Call) -> bool:
        with self._lock:
            return self._waiting.pop(id(call.future), None) is not None

    def _on_lane_thread(self) -> bool:
        from PySide6.QtCore import QThread

        return QThread.currentThread() is self.lane.thread()


def _resolve_cancelled(future: concurrent.futures.Future[Any]) -> None:
    """Resolve a Future whose call will never run with our own CancelledError (a TimbreError)."""
    try:
        if future.set_running_or_notify_cancel():
            future.set_exception(CancelledError())
    except RuntimeError:
        pass  # already running or resolved: its job resolves it, or has
