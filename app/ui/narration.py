"""Narrate Agent Output: follow an AI agent's stream file and speak its replies as they are written.

The pipeline is :class:`~app.services.narrate.Narrator` (Qt-free); this controller gives it a home in the
app. The narrator runs on a plain Python thread of its own (it blocks until stopped), every synthesis runs
as a job on the inference lane through a :class:`~app.ui.lane_executor.LaneExecutor` (engines are only
touched from that one thread), and what the narrator reports from its worker threads reaches the GUI thread
only as queued signals. Stopping never waits on the GUI thread: the narrator is told to stop and its thread
ends by itself moments later (joined, briefly, only at quit).

The three menu actions (the toggle, Choose Stream File…, Interrupt on New Message) live here so the tray
menu and the main window's Speech menu share them and can never disagree.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget

from app import settings as settings_mod
from app.core.errors import TimbreError
from app.services.narrate import NarrationOptions, NarrationSummary, Narrator, Utterance
from app.services.narrate_sources import follow_file
from app.services.speech_queue import SpeechQueue
from app.ui.context import AppContext
from app.ui.lane_executor import LaneExecutor
from app.ui.worker import InferenceLane

logger = logging.getLogger(__name__)

STREAM_FILTER = "Agent streams (*.jsonl *.json *.ndjson *.log);;All files (*)"
JOB_NAME = "Narrating"
"""The lane's name for each sentence being made (shown in the status bar while it runs)."""
STOP_WAIT_S = 2.0
"""At quit, how long to wait for the narrator's thread to end (it is a daemon: it never holds the quit)."""
HEARD_MS = 5000
OFF_TIP = "Speak an AI agent's replies as it writes them to a stream file"


def narration_options(prefs: settings_mod.Settings) -> NarrationOptions:
    """The app's default voice, engine and speed (as the composer starts with), and the on-new choice."""
    voice, engine = prefs.default_voice or None, prefs.default_engine or None
    if voice and voice.startswith("profile:"):
        raise TimbreError(
            "Narration speaks with a built-in voice, and your default voice is a voice profile. "
            "Choose a built-in default voice in Settings."
        )
    if voice and ":" in voice:  # "engine:voice", as the voice pickers key it
        voice_engine, voice = voice.split(":", 1)
        engine = engine or voice_engine
    on_new = "interrupt" if prefs.narrate_on_new == "interrupt" else "queue"
    return NarrationOptions(voice=voice, engine=engine, speed=prefs.speed, on_new=on_new)


class NarrationController(QObject):
    """The narration toggle: :meth:`start` and :meth:`stop` from the GUI thread; state in the actions.

    ``queue_factory`` makes each run's speech queue (tests pass a fast silent clock; by default the
    speakers). ``observer(event, utterance)`` is also told every narrator event, on the thread it happens
    on (tests check where synthesis ran with it).
    """

    runningChanged = Signal(bool)  # noqa: N815 - Qt naming
    sentenceHeard = Signal(str)  # noqa: N815 - a sentence starting to be heard
    messageShown = Signal(str)  # noqa: N815 - a short note for the status bar
    errorRaised = Signal(str)  # noqa: N815 - narration could not start, or ended by itself: why, plainly

    _told = Signal(int, str, object)  # run id, event, Utterance: from the narrator's worker threads
    _ended = Signal(int, object)  # run id, NarrationSummary or the exception: from the narrator's thread

    def __init__(
        self,
        context: AppContext,
        lane: InferenceLane,
        dialog_parent: QWidget | None = None,
        parent: QObject | None = None,
        queue_factory: Callable[[], SpeechQueue] | None = None,
        observer: Callable[[str, Utterance], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.lane = lane
        self.executor = LaneExecutor(lane, JOB_NAME)
        self._dialog_parent = dialog_parent
        self._queue_factory = queue_factory
        self._observer = observer
        self._run_id = 0
        self._narrator: Narrator | None = None
        self._stop_event: threading.Event | None = None
        self._path = ""
        self._read_errors: list[OSError] = []
        self.thread: threading.Thread | None = None
        """The current (or last) narrator thread."""
        self._threads: list[threading.Thread] = []
        self._was_running = False

        self.toggle_action = QAction("Narrate Agent Output", self)
        self.toggle_action.setCheckable(True)
        self.toggle_action.triggered.connect(self._toggled)
        self.choose_action = QAction("Choose Stream File…", self)
        self.choose_action.triggered.connect(lambda _checked=False: self.choose_and_start())
        self.interrupt_action = QAction("Interrupt on New Message", self)
        self.interrupt_action.setCheckable(True)
        self.interrupt_action.setChecked(context.settings.narrate_on_new == "interrupt")
        self.interrupt_action.setToolTip(
            "When the agent starts a new message, cut off what is being said instead of finishing it"
        )
        self.interrupt_action.triggered.connect(self.set_interrupt)
        self._told.connect(self._on_told)
        self._ended.connect(self._on_ended)
        self._sync()

    # --- state ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._narrator is not None

    @property
    def narrator(self) -> Narrator | None:
        """The running narration, if any."""
        return self._narrator

    @property
    def path(self) -> str:
        """The stream file being narrated (or last chosen)."""
        return self._path or self.context.settings.narrate_file

    @property
    def status(self) -> str:
        """``Narrating <file name>`` while on, else empty."""
        return f"Narrating {Path(self._path).name}" if self.running else ""

    @property
    def actions(self) -> list[QAction]:
        """The menu items, in menu order."""
        return [self.toggle_action, self.choose_action, self.interrupt_action]

    # --- the user's commands -------------------------------------------------------------------------
    def start(self, path: str | None = None) -> bool:
        """Start narrating ``path`` (else the remembered file, else one chosen now); False if it did not
        start (the dialog was cancelled, or the voice cannot speak: :attr:`errorRaised` says why)."""
        if self.running:
            if not path or path == self._path:
                return True
            self.stop(quiet=True)
        chosen = path or self.context.settings.narrate_file or self.choose_file()
        if not chosen:
            self._sync()
            return False
        chosen = str(Path(chosen).expanduser())
        self._remember(narrate_file=chosen)
        try:
            options = narration_options(self.context.settings)
            queue = self._queue_factory() if self._queue_factory is not None else None
            self._run_id += 1
            run_id = self._run_id
            narrator = Narrator(
                options,
                service=self.context.synthesis,
                queue=queue,
                synth_executor=self.executor,
                on_utterance=lambda event, utterance: self._tell(run_id, event, utterance),
            )
            request = narrator.prepare()  # the voice and engine, checked before anything is read
        except TimbreError as exc:
            self._sync()
            self.errorRaised.emit(f"Narration could not start: {exc}")
            return False

        stop = threading.Event()
        errors: list[OSError] = []
        # A file that is not there yet is all new when it appears: read it from its start.
        from_start = not Path(chosen).exists()
        lines = _recording_errors(follow_file(chosen, stop, from_start=from_start), errors)
        thread = threading.Thread(
            target=self._run, args=(run_id, narrator, lines, stop), name="narrate", daemon=True
        )
        self._narrator, self._stop_event, self._path, self._read_errors = narrator, stop, chosen, errors
        self.thread = thread
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        logger.info("Narrating %s with %s/%s", chosen, request.engine, request.voice)
        self._sync()
        self.messageShown.emit(
            f"Narrating {Path(chosen).name} with {request.voice}: replies are spoken as they are written."
        )
        return True

    def stop(self, quiet: bool = False) -> None:
        """Stop narrating, at once; the narrator's thread ends by itself moments later."""
        narrator, stop = self._narrator, self._stop_event
        self._narrator, self._stop_event = None, None
        self._run_id += 1  # whatever the old run still reports is ignored
        if narrator is not None:
            # The narrator first: the file's end alone would let it finish what it has, not stop at once.
            try:
                narrator.stop()
            except RuntimeError:  # its loop closed just as it was told (the run had ended by itself)
                logger.debug("The narration had already ended")
        if stop is not None:
            stop.set()
        self._sync()
        if narrator is not None and not quiet:
            self.messageShown.emit("Narration stopped.")

    def choose_file(self) -> str:
        """Ask for the stream file (one that does not exist yet is fine: the agent may create it later);
        empty when the dialog is cancelled."""
        start = self.path or str(Path.home())
        parent = self._dialog_parent
        if parent is not None and not parent.isVisible():
            parent = None  # from the menu bar with the window hidden: a dialog of its own, not a sheet
        path, _filter = QFileDialog.getSaveFileName(
            parent,
            "Choose the Agent's Stream File",
            start,
            STREAM_FILTER,
            "",
            QFileDialog.Option.DontConfirmOverwrite,  # we only read it: never offer to replace it
        )
        return path

    def choose_and_start(self) -> bool:
        """Choose Stream File…: ask, remember, and narrate the chosen file (instead of the current one)."""
        path = self.choose_file()
        if not path:
            self._sync()
            return False
        return self.start(path)

    def set_interrupt(self, interrupt: bool) -> None:
        """Interrupt on New Message: remembered, and applied to a running narration from its next message."""
        on_new = "interrupt" if interrupt else "queue"
        self._remember(narrate_on_new=on_new)
        self.interrupt_action.setChecked(interrupt)
        narrator = self._narrator
        if narrator is not None:
            # The narrator reads options.on_new at each new message; rebinding the frozen options is atomic.
            narrator.options = dataclasses.replace(narrator.options, on_new=on_new)

    def shutdown(self, timeout: float = STOP_WAIT_S) -> bool:
        """Stop and wait (at most ``timeout`` seconds) for the narrator's threads; True if they ended."""
        self.stop(quiet=True)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.executor.shutdown(wait=False, cancel_futures=True)
        ended = not any(thread.is_alive() for thread in self._threads)
        if not ended:
            logger.warning("The narrator's thread was still running %.1f s after stopping", timeout)
        return ended

    # --- on the narrator's threads -------------------------------------------------------------------
    def _run(self, run_id: int, narrator: Narrator, lines: Iterator[bytes], stop: threading.Event) -> None:
        result: NarrationSummary | BaseException
        try:
            result = narrator.run(lines)
        except BaseException as exc:  # noqa: BLE001 - reported on the GUI thread, in plain words
            logger.exception("Narration failed")
            result = exc
        finally:
            stop.set()  # ends the file follower, whatever ended the run
        try:
            self._ended.emit(run_id, result)
        except RuntimeError:  # the controller is gone (the app quit)
            pass

    def _tell(self, run_id: int, event: str, utterance: Utterance) -> None:
        if self._observer is not None:
            self._observer(event, utterance)
        if event in ("started", "failed"):
            try:
                self._told.emit(run_id, event, utterance)
            except RuntimeError:  # the controller is gone (the app quit)
                pass

    # --- back on the GUI thread ----------------------------------------------------------------------
    @Slot(int, str, object)
    def _on_told(self, run_id: int, event: str, utterance: Utterance) -> None:
        if run_id != self._run_id:
            return
        if event == "started":
            self.sentenceHeard.emit(utterance.text)
        elif event == "failed" and "Interrupted" not in utterance.error:
            self.messageShown.emit(f"Not spoken: {utterance.error}")

    @Slot(int, object)
    def _on_ended(self, run_id: int, result: object) -> None:
        if run_id != self._run_id or self._narrator is None:
            return  # a run that was stopped: nothing to say
        name = Path(self._path).name
        self._narrator, self._stop_event = None, None
        if isinstance(result, TimbreError):
            message = f"Narration of {name} stopped: {result}"
        elif isinstance(result, BaseException):
            reason = result or type(result).__name__
            message = f"Narration of {name} stopped: something went wrong ({reason})."
        elif self._read_errors:
            error = self._read_errors[0]
            reason = error.strerror or str(error)
            message = f"Narration stopped: {name} could not be read ({reason})."
        else:
            message = f"Narration of {name} ended."
        self._sync()
        self.errorRaised.emit(message)

    # --- helpers -------------------------------------------------------------------------------------
    @Slot(bool)
    def _toggled(self, checked: bool) -> None:
        if checked:
            self.start()
        else:
            self.stop()

    def _sync(self) -> None:
        """The actions show the state; runningChanged when it changed."""
        on = self.running
        self.toggle_action.setChecked(on)
        self.toggle_action.setToolTip(self.status if on else OFF_TIP)
        self.toggle_action.setStatusTip(self.status if on else OFF_TIP)
        where = Path(self.path).name if self.path else ""
        self.choose_action.setToolTip(
            f"Narrate another file (now {where})" if where else "Choose the file an agent writes to"
        )
        if on != self._was_running:
            self._was_running = on
            self.runningChanged.emit(on)

    def _remember(self, **changes: Any) -> None:
        prefs = dataclasses.replace(self.context.settings, **changes)
        if prefs == self.context.settings:
            return
        self.context.settings = prefs
        try:
            settings_mod.save(prefs)
        except OSError as exc:  # kept for this session; the note says it will not be next time
            logger.warning("Could not save settings: %s", exc)
            self.messageShown.emit(f"Could not save the settings ({exc.strerror or exc}).")


def _recording_errors(lines: Iterator[bytes], errors: list[OSError]) -> Iterator[bytes]:
    """``lines``, keeping the error that ended them (the narrator only logs it) for a plain message."""
    try:
        yield from lines
    except OSError as exc:
        errors.append(exc)
        raise
