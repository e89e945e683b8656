"""The strip at the top of the Voices panel, where recordings come in and what happens to them shows:
the drop target with its "choose files…" button (and the test of which files can be recordings), the
inline bar asking what to call the new voice, a job's progress with Cancel, one line of news, and the
"Deleted X — Undo" bar.

A file dropped anywhere on the panel counts (:class:`AcceptsRecordings` gives it the drag handling); the
zone shows the invitation and lights up while something is dragged over. Everything here is inline
rather than a modal dialog, so a drop never stops the rest of the window.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.ui.worker import InferenceLane, Job, JobContext, JobError

logger = logging.getLogger(__name__)

MEDIA_SUFFIXES = frozenset(".wav .flac .mp3 .m4a .aac .ogg .opus .mp4 .mov .webm .aiff .aif".split())
"""Files that can hold a voice: the audio formats people record in, and videos with sound."""
FILE_FILTER = "Recordings (" + " ".join(f"*{s}" for s in sorted(MEDIA_SUFFIXES)) + ")"
ALT_KEY = "⌥ Option" if sys.platform == "darwin" else "Alt"
ERROR_COLOUR = "#e5484d"
"""A red that reads on light and dark backgrounds alike."""
INVITATION = "Drop audio or video files here to make a voice — or choose files…"


def split_media(paths: Iterable[Path | str]) -> tuple[list[Path], list[str]]:
    """The paths that look like recordings, and a plain reason for each one left out."""
    usable: list[Path] = []
    refused: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            refused.append(f"{path.name} is a folder; drop the recordings inside it instead.")
        elif path.suffix.lower() not in MEDIA_SUFFIXES:
            refused.append(f"{path.name} is not an audio or video file.")
        elif not path.is_file():
            refused.append(f"{path.name} is no longer there.")
        else:
            usable.append(path)
    return usable, refused


def name_from_file(path: Path | str, taken: Iterable[str] = ()) -> str:
    """A voice name from a file name ("alice_intro-2.m4a" → "alice intro-2"), made unique among ``taken``."""
    base = " ".join(Path(path).stem.replace("_", " ").split()) or "My voice"
    return free_name(base, taken)


def free_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base (2)``, ``base (3)``… — the first no existing voice uses (ignoring case)."""
    used = {name.casefold() for name in taken}
    candidate, n = base, 1
    while candidate.casefold() in used:
        n += 1
        candidate = f"{base} ({n})"
    return candidate


def button(text: str, tip: str, parent: QWidget, name: str = "") -> QPushButton:
    """A push button with its tooltip and accessible name, as every control here has."""
    made = QPushButton(text, parent)
    made.setToolTip(tip)
    made.setAccessibleName(name or text.rstrip("…"))
    return made


class DropZone(QFrame):
    """A dashed box inviting a drop, with a button for those who prefer a file dialog."""

    chooseRequested = Signal()  # noqa: N815 - Qt naming

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Drop recordings here")
        self.label = QLabel(INVITATION, self)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = QLabel(f"Hold {ALT_KEY} while dropping to add the files to the selected voice.", self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setEnabled(False)  # drawn in the palette's dimmed text colour
        self.choose = QPushButton("Choose Files…", self)
        self.choose.setAccessibleName("Choose recordings")
        self.choose.setToolTip("Pick recordings of one person speaking (WAV, MP3, M4A, FLAC, or a video)")
        self.choose.clicked.connect(self.chooseRequested)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.choose)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.label)
        layout.addWidget(self.hint)
        layout.addLayout(row)
        self.set_active(False)

    def set_active(self, active: bool, text: str | None = None) -> None:
        """Light up while files are dragged over the panel, saying what releasing them will do."""
        self.setProperty("active", active)
        self.update()
        self.label.setText(text if active and text else INVITATION)

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """A dashed rounded border in palette colours, painted (not a style sheet) so that it follows a
        switch between light and dark mode."""
        from PySide6.QtGui import QPainter, QPalette, QPen

        super().paintEvent(event)
        active = bool(self.property("active"))
        palette = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        role = QPalette.ColorRole.Highlight if active else QPalette.ColorRole.Mid
        pen = QPen(palette.color(role), 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        if active:
            painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
        painter.drawRoundedRect(self.rect().adjusted(1, 1, -1, -1), 8, 8)
        painter.end()


class NamePrompt(QFrame):
    """An inline "Name the new voice: [      ] Create  Cancel" bar holding the files waiting for a name."""

    accepted = Signal(list, str)  # paths, name
    dismissed = Signal(list)  # paths

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.paths: list[Path] = []
        self.label = QLabel("Name the new voice:", self)
        self.edit = QLineEdit(self)
        self.edit.setAccessibleName("Name of the new voice")
        self.edit.setPlaceholderText("e.g. My voice")
        self.edit.setAcceptDrops(False)  # a file dropped here belongs to the panel, not in the text
        self.edit.returnPressed.connect(self._accept)
        self.label.setBuddy(self.edit)
        self.create = QPushButton("Make Voice", self)
        self.create.setDefault(True)
        self.create.setAccessibleName("Make the voice")
        self.create.setToolTip("Clean and transcribe the recordings and keep them as a voice (↩)")
        self.create.clicked.connect(self._accept)
        self.cancel = QPushButton("Cancel", self)
        self.cancel.setAccessibleName("Do not make a voice")
        self.cancel.setToolTip("Forget these files (Esc)")
        self.cancel.clicked.connect(self._dismiss)
        QShortcut(
            QKeySequence(Qt.Key.Key_Escape), self.edit, self._dismiss, Qt.ShortcutContext.WidgetShortcut
        )
        self.edit.textChanged.connect(lambda text: self.create.setEnabled(bool(text.strip())))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.label)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.create)
        layout.addWidget(self.cancel)
        self.hide()

    def ask(self, paths: Sequence[Path], name: str, what: str = "") -> None:
        """Show the bar for ``paths`` with ``name`` suggested and selected, ready to be typed over (files
        still waiting for a name are given up first)."""
        if self.paths:
            self._dismiss()
        self.paths = list(paths)
        count = len(self.paths)
        self.label.setText(what or f"Name the voice from {count} file{'s' if count != 1 else ''}:")
        self.edit.setText(name)
        self.show()
        self.edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.edit.selectAll()

    def _accept(self) -> None:
        name = self.edit.text().strip()
        if not name or not self.paths:
            return
        paths, self.paths = self.paths, []
        self.hide()
        self.accepted.emit(paths, name)

    def _dismiss(self) -> None:
        paths, self.paths = self.paths, []
        self.hide()
        self.dismissed.emit(paths)


class JobBar(QFrame):
    """Runs the panel's one job at a time on the lane and shows it: the lines its service reports, a
    busy bar, and Cancel."""

    def __init__(self, lane: InferenceLane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lane = lane
        self.job: Job | None = None
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Progress")
        self.bar = QProgressBar(self)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(6)
        self.bar.setAccessibleName("Progress")
        self.cancel = button("Cancel", "Stop; nothing half-made is kept", self)
        self.cancel.clicked.connect(self.cancel_job)
        column = QVBoxLayout()
        column.addWidget(self.label)
        column.addWidget(self.bar)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(column, 1)
        layout.addWidget(self.cancel)
        self.hide()

    def run(
        self,
        title: str,
        work: Callable[[JobContext], Any],
        done: Callable[[Any], None],
        failed: Callable[[JobError], None],
        cancelled: Callable[[], None],
    ) -> Job:
        """Submit ``work``; exactly one of the callbacks runs (on the main thread) when it ends."""

        def finish(callback: Callable[..., None], *args: Any) -> None:
            self.job = None
            self.hide()
            callback(*args)

        waiting = self.lane.busy
        self.job = self.lane.submit(
            title,
            work,
            on_done=lambda result: finish(done, result),
            on_error=lambda error: finish(failed, error),
            on_progress=lambda progress: self.progress(progress.fraction, progress.text),
            on_cancelled=lambda: finish(cancelled),
        )
        self.label.setText(f"{title} — waiting for the current job to finish…" if waiting else f"{title}…")
        self.bar.setRange(0, 0)  # a busy bar until a fraction is known
        self.cancel.setEnabled(True)
        self.show()
        return self.job

    def progress(self, fraction: float | None, text: str = "") -> None:
        if text:
            self.label.setText(text)
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))

    def cancel_job(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.label.setText("Cancelling…")
            self.cancel.setEnabled(False)


class MessageLine(QLabel):
    """One line of news under the drop zone: what just happened, or (in red) why it could not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAccessibleName("Message")
        self.error = False
        self.hide()

    def say(self, text: str, error: bool = False) -> None:
        self.error = error and bool(text)
        self.setStyleSheet(f"color: {ERROR_COLOUR};" if self.error else "")
        self.setText(text)
        self.setVisible(bool(text))


class UndoBar(QFrame):
    """The bar saying which profile went to the trash, with Undo (and ✕ to hide it)."""

    undoRequested = Signal()  # noqa: N815 - Qt naming

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.label = QLabel(self)
        self.undo = button("Undo", f"Bring the voice back ({_undo_keys()})", self)
        self.undo.clicked.connect(self.undoRequested)
        dismiss = button("✕", "Hide this", self, "Dismiss")
        dismiss.setFlat(True)
        dismiss.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.undo)
        layout.addWidget(dismiss)
        self.hide()

    def offer(self, name: str) -> None:
        self.label.setText(f'Deleted "{name}".')
        self.show()


def _undo_keys() -> str:
    return QKeySequence(QKeySequence.StandardKey.Undo).toString(QKeySequence.SequenceFormat.NativeText)


def _local_paths(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []


class AcceptsRecordings:
    """Drag handling for a panel (mixed in before ``QWidget``): local files dragged anywhere over it light
    up its :attr:`drop_zone` with what releasing will do; dropped, they go to :meth:`receive_files`, to be
    added to the selected profile when ⌥/Alt is held."""

    drop_zone: DropZone

    def selected_profile(self) -> Any | None:
        raise NotImplementedError

    def receive_files(self, paths: Sequence[Path | str], add_to: int | None = None) -> None:
        raise NotImplementedError

    def _add_target(self, modifiers: Qt.KeyboardModifier) -> Any | None:
        return self.selected_profile() if modifiers & Qt.KeyboardModifier.AltModifier else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        self.dragMoveEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt override
        paths = _local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        target = self._add_target(event.modifiers())
        files = f"{len(paths)} file{'s' if len(paths) != 1 else ''}"
        hint = (
            f'Release to add {files} to "{target.name}"'
            if target
            else f"Release to make a voice from {files}"
        )
        self.drop_zone.set_active(True, hint)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 - Qt override
        self.drop_zone.set_active(False)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        self.drop_zone.set_active(False)
        paths = _local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        target = self._add_target(event.modifiers())
        self.receive_files(paths, add_to=target.id if target else None)
