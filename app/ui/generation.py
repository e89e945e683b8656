"""Runs generations on the inference lane and turns their streamed audio into a growing track.

The job speaks and saves through the worker's own history service (its own SQLite connection); each
chunk crosses to the main thread as a queued signal and is appended to an :class:`AudioTrack` that the
waveform draws and the player plays. Only one generation runs at a time; a new one waits its turn.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.track import AudioTrack
from app.services.history import HistoryService
from app.services.sinks import CallbackSink
from app.services.synthesis import SynthesisService
from app.ui.widgets.composer import GenerationSpec
from app.ui.worker import InferenceLane, Job, JobContext, JobError, Progress

logger = logging.getLogger(__name__)


class GenerationController(QObject):
    """Starts, streams and stops generations; the window listens to its signals."""

    trackStarted = Signal(object)  # noqa: N815 - AudioTrack, as soon as the engine knows its rate
    trackGrew = Signal(object)  # noqa: N815 - AudioTrack, after each chunk
    progressed = Signal(object)  # Progress
    finished = Signal(object)  # the saved Generation
    cancelled = Signal()
    failed = Signal(object)  # JobError
    busyChanged = Signal(bool)  # noqa: N815

    def __init__(
        self,
        lane: InferenceLane,
        synthesis: SynthesisService,
        history: HistoryService,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.lane = lane
        self.synthesis = synthesis
        self.history = history
        """The worker's history service: used only from the lane thread."""
        self.job: Job | None = None
        self.track: AudioTrack | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    def start(self, spec: GenerationSpec) -> Job:
        """Generate ``spec``; one still running is cancelled (the newest request wins)."""
        request, profile_id = spec.request, spec.profile_id
        synthesis, history = self.synthesis, self.history
        return self._submit(
            "Generate",
            lambda sink, cancel, progress: history.speak_and_save(
                synthesis, request, also=sink, cancel=cancel, progress=progress, profile_id=profile_id
            ),
            "Speaking…",
        )

    def regenerate(self, generation_id: int) -> Job:
        """Say a saved generation again with its settings and seed (saved as a new take)."""
        synthesis, history = self.synthesis, self.history
        return self._submit(
            "Regenerate",
            lambda sink, cancel, progress: history.regenerate(
                synthesis, generation_id, also=sink, cancel=cancel, progress=progress
            ),
            "Speaking again…",
        )

    def stop(self) -> None:
        """Cancel the running generation; what it had written is discarded and nothing is saved."""
        if self.job is not None:
            self.job.cancel()

    def _submit(self, name: str, speak: Any, doing: str) -> Job:
        """Run ``speak(sink, cancel, progress) -> (result, generation)`` on the lane, its audio streamed
        back chunk by chunk."""

        def work(ctx: JobContext) -> Any:
            sink = CallbackSink(lambda rate: ctx.emit(("open", rate)), lambda s: ctx.emit(("audio", s)))
            ctx.progress(None, "Loading the voice…")
            _, generation = speak(sink, ctx.cancel, lambda f, _n: ctx.progress(f, f"{doing} {f:.0%}"))
            return generation

        if self.job is not None:
            self.job.cancel()  # the newest request wins, as in every text-to-speech app people like
        job = self.lane.submit(
            name,
            work,
            on_chunk=lambda data: self._chunk(job, data),
            on_progress=lambda p: self._progress(job, p),
            on_done=lambda generation: self._done(job, generation),
            on_error=lambda error: self._failed(job, error),
            on_cancelled=lambda: self._cancelled(job),
        )
        was_busy = self.busy
        self.job = job
        if not was_busy:
            self.busyChanged.emit(True)
        return job

    # --- on the main thread -----------------------------------------------------------------------------
    def _chunk(self, job: Job, data: tuple[str, Any]) -> None:
        if job is not self.job:
            return  # a stale job's audio: dropped
        kind, value = data
        if kind == "open":
            self.track = AudioTrack(int(value))
            self.trackStarted.emit(self.track)
        elif kind == "audio" and self.track is not None:
            self.track.append(value)
            self.trackGrew.emit(self.track)

    def _progress(self, job: Job, progress: Progress) -> None:
        if job is self.job:
            self.progressed.emit(progress)

    def _end(self, job: Job) -> bool:
        """Finish the track of ``job``; False when ``job`` is no longer the current one."""
        if job is not self.job:
            return False
        if self.track is not None and not self.track.finished:
            self.track.finish()
            self.trackGrew.emit(self.track)
        self.job = None
        self.busyChanged.emit(False)
        return True

    def _done(self, job: Job, generation: Any) -> None:
        if self._end(job):
            self.finished.emit(generation)

    def _failed(self, job: Job, error: JobError) -> None:
        if self._end(job):
            self.failed.emit(error)

    def _cancelled(self, job: Job) -> None:
        if self._end(job):
            self.cancelled.emit()
