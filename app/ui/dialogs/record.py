"""Recording a voice: a small non-modal window with a live level meter, the time so far, Stop and Cancel.

Recording is waiting on a sound card, not inference, so it runs on a plain thread rather than the
inference lane (which may be busy speaking for minutes). The thread reports each level reading and the
outcome through signals of this dialog, which lives on the main thread, so Qt queues them across. The
take is written to a temporary WAV; the Voices panel turns it into a voice the same way as a dropped file.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.errors import CancelledError, TimbreError
from app.core.models import CancelToken
from app.services.recording import Level, Recorder
from app.ui.widgets.level_meter import LevelMeter

logger = logging.getLogger(__name__)

TAKE_PREFIX = "timbre-recording-"
"""Temporary folders holding a take start with this, so only they are ever removed by :func:`discard_take`."""
MAX_SECONDS = 60.0
"""A voice is made from its best 10-30 s of speech; a minute leaves room for a second try at a sentence."""
PROMPT = (
    "Read a few sentences aloud in your normal voice, about 15 seconds in all. "
    "A quiet room and a steady distance from the microphone work best."
)


def discard_take(path: Path | str) -> None:
    """Remove a take's temporary folder once it was made into a voice or turned down; other paths (files
    the user chose) are left alone."""
    folder = Path(path).parent
    if folder.name.startswith(TAKE_PREFIX) and folder.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(folder, ignore_errors=True)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class RecordDialog(QDialog):
    """Records from ``source`` until Stop (keep the take), Cancel (throw it away) or the time limit."""

    recorded = Signal(str)  # path of the WAV; the caller owns it (and its temporary folder)
    failed = Signal(str)  # a plain message

    _levelRead = Signal(object)  # noqa: N815 - Level, from the recording thread
    _finished = Signal(str)  # noqa: N815
    _failedInThread = Signal(str)  # noqa: N815
    _cancelledInThread = Signal()  # noqa: N815

    def __init__(self, source: Any, parent: QWidget | None = None, max_seconds: float = MAX_SECONDS) -> None:
        super().__init__(parent)
        self.source = source
        self.max_seconds = max_seconds
        self.setWindowTitle("Record a Voice")
        self.setModal(False)
        self._stop = CancelToken()
        self._cancel = CancelToken()
        self._thread: threading.Thread | None = None
        self._folder: Path | None = None
        self.done_ = False
        self.seconds = 0.0

        self.prompt = QLabel(PROMPT, self)
        self.prompt.setWordWrap(True)
        self.meter = LevelMeter(self)
        self.elapsed = QLabel(self._elapsed_text(), self)
        self.elapsed.setAccessibleName("Time recorded")
        self.status = QLabel("Starting…", self)
        self.status.setWordWrap(True)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setDefault(True)
        self.stop_button.setAccessibleName("Stop recording and make the voice")
        self.stop_button.setToolTip("Stop and keep what you said (↩)")
        self.stop_button.clicked.connect(self.stop)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel recording")
        self.cancel_button.setToolTip("Stop and throw the recording away (Esc)")
        self.cancel_button.clicked.connect(self.cancel)

        row = QHBoxLayout()
        row.addWidget(self.elapsed)
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addWidget(self.meter)
        layout.addWidget(self.status)
        layout.addLayout(row)
        self.resize(420, self.sizeHint().height())

        self._levelRead.connect(self._on_level)
        self._finished.connect(self._on_finished)
        self._failedInThread.connect(self._on_failed)
        self._cancelledInThread.connect(self._on_cancelled)

    @classmethod
    def open(cls, source_factory: Callable[[], Any], parent: QWidget | None = None) -> RecordDialog:
        """Make the source, check it can record (a missing microphone raises :class:`TimbreError` in
        plain words, before any window opens), and start recording in a new window."""
        source = source_factory()
        check = getattr(source, "check_available", None)
        if callable(check):
            check(getattr(source, "device", None))
        dialog = cls(source, parent)
        dialog.start()
        return dialog

    # --- control ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the window and start recording at once (the source is known to be available)."""
        self._folder = Path(tempfile.mkdtemp(prefix=TAKE_PREFIX))
        target = self._folder / "Recording.wav"
        self._thread = threading.Thread(target=self._record, args=(target,), name="recording", daemon=True)
        self._thread.start()
        self.status.setText("Recording… speak now.")
        self.show()
        self.raise_()
        self.activateWindow()

    @property
    def folder(self) -> Path | None:
        """The temporary folder the take is written to (removed when the take is thrown away)."""
        return self._folder

    @property
    def recording(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop and keep the take (it arrives through :attr:`recorded`)."""
        self.stop_button.setEnabled(False)
        self.status.setText("Finishing the recording…")
        self._stop.cancel()

    def cancel(self) -> None:
        """Stop and throw the take away."""
        self._cancel.cancel()
        if not self.recording:
            self._discard()
        self.reject()  # the thread notices within one block and throws the take away

    def wait(self, seconds: float = 5.0) -> bool:
        """Block until the recording thread has ended (tests, and closing the app)."""
        if self._thread is not None:
            self._thread.join(seconds)
        return not self.recording

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.done_:
            self._cancel.cancel()  # closing the window is the same as Cancel
        super().closeEvent(event)

    def reject(self) -> None:
        self._cancel.cancel()
        super().reject()

    # --- the recording thread ---------------------------------------------------------------------------
    def _record(self, target: Path) -> None:
        try:
            recorder = Recorder(self.source, self.max_seconds, on_level=self._levelRead.emit)
            recorder.record_to(target, stop=self._stop, cancel=self._cancel)
        except CancelledError:
            self._cancelledInThread.emit()
        except TimbreError as exc:
            self._failedInThread.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a broken sound card must not fail silently
            logger.exception("Recording failed")
            self._failedInThread.emit(f"The recording failed: {exc or type(exc).__name__}.")
        else:
            self._finished.emit(str(target))

    # --- results, on the main thread ----------------------------------------------------------------------
    @Slot(object)
    def _on_level(self, level: Level) -> None:
        self.meter.set_level(level.rms_db, level.peak_db, level.clipped)
        self.seconds = level.seconds
        self.elapsed.setText(self._elapsed_text())
        if level.clipped:
            self.status.setText("Too loud — move a little further from the microphone.")

    @Slot(str)
    def _on_finished(self, path: str) -> None:
        self.done_ = True
        if self._cancel.cancelled:  # Cancel came after the last block: the take is still unwanted
            self._discard()
            return
        self.accept()
        self.recorded.emit(path)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.done_ = True
        self._discard()
        self.reject()
        self.failed.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self.done_ = True
        self._discard()
        if self.isVisible():
            super().reject()

    def _discard(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _elapsed_text(self) -> str:
        return f"{_clock(self.seconds)} of {_clock(self.max_seconds)} at most"
