"""The Voices panel: voice profiles made from the user's own recordings — dropped, chosen or recorded
here — listed with their details, renamed, deleted (with undo), exported, imported, and matched to the
closest built-in voice.

Making a voice (voice detection, cleaning, Whisper transcription) and matching run on the inference lane;
quick library reads and writes run here on the main thread. One job at a time is started from this
panel, shown with its progress lines and a Cancel button. Cancel takes effect at the next step a job
reports, and since a profile is stored whole or not at all, a cancelled one leaves nothing behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import CancelledError, TimbreError
from app.services.profiles import SUFFIX
from app.services.recording import MicrophoneSource
from app.services.voices import VoiceMatcher
from app.ui.dialogs.record import RecordDialog, discard_take
from app.ui.widgets import drop_zone as strip
from app.ui.widgets.voices_list import ProfileDetails, ProfileList, language_name
from app.ui.worker import InferenceLane, Job, JobContext, JobError

logger = logging.getLogger(__name__)

EMPTY = (
    "No voices yet — drop a recording of someone speaking above, or press Record… to read a few sentences."
)


def _reporter(ctx: JobContext) -> Callable[[str], None]:
    """A service ``report`` callback that shows each step and is where Cancel takes effect."""

    def report(line: str) -> None:
        ctx.raise_if_cancelled()
        ctx.progress(None, line)

    return report


def _count(n: int, noun: str = "recording") -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


class VoicesPanel(strip.AcceptsRecordings, QWidget):
    """Voice profiles from the user's recordings, and everything that can be done with them."""

    profilesChanged = Signal()  # noqa: N815 - a profile was made, renamed, deleted, restored or matched
    errorRaised = Signal(str)  # noqa: N815 - a job or file operation failed; the message is plain words

    def __init__(
        self,
        profiles: Any,
        voices: Any,
        lane: InferenceLane,
        matcher_factory: Callable[[], VoiceMatcher] | None = None,
        source_factory: Callable[[], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.profiles, self.voices, self.lane = profiles, voices, lane
        self.matcher_factory = matcher_factory or (lambda: VoiceMatcher(voices.library))
        self.source_factory = source_factory or MicrophoneSource
        self.record_dialog: RecordDialog | None = None
        self._by_id: dict[int, Any] = {}
        self.setAcceptDrops(True)
        self.setAccessibleName("Voices")
        self._build()
        self.refresh()

    # --- construction -----------------------------------------------------------------------------------
    def _build(self) -> None:
        b = strip.button
        self.add_button = b("Add…", "Make a voice from recordings on this computer", self)
        self.record_button = b("Record…", "Record yourself reading a few sentences", self)
        self.match_button = b("Match a Built-in Voice", "Find the built-in voice closest to this one", self)
        self.import_button = b("Import…", f"Add a voice from a {SUFFIX} file", self)
        self.export_button = b(
            "Export…", f"Save the selected voice, with its audio, as a {SUFFIX} file", self
        )
        self.add_button.clicked.connect(self.choose_files)
        self.record_button.clicked.connect(self.start_recording)
        self.match_button.clicked.connect(self.match_selected)
        self.import_button.clicked.connect(lambda: self.import_profile())
        self.export_button.clicked.connect(lambda: self.export_profile())
        tools = QHBoxLayout()
        for widget in (self.add_button, self.record_button, self.match_button):
            tools.addWidget(widget)
        tools.addStretch(1)
        tools.addWidget(self.import_button)
        tools.addWidget(self.export_button)

        self.drop_zone = strip.DropZone(self)
        self.drop_zone.chooseRequested.connect(self.choose_files)
        self.name_prompt = strip.NamePrompt(self)
        self.name_prompt.accepted.connect(lambda paths, name: self.create_from_files(paths, name))
        self.name_prompt.dismissed.connect(self._forget_recordings)
        self.job_bar = strip.JobBar(self.lane, self)
        self.message_line = strip.MessageLine(self)
        self.undo_bar = strip.UndoBar(self)
        self.undo_bar.undoRequested.connect(self.undo_delete)

        self.list_view = ProfileList(self)
        self.list_view.profileSelected.connect(self._selected)
        self.list_view.renameRequested.connect(self.rename_profile)
        self.details = ProfileDetails(self)
        self.details.transcriptSaveRequested.connect(self.save_transcript)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.list_view)
        splitter.addWidget(self.details)
        splitter.setChildrenCollapsible(False)
        self.empty_label = QLabel(EMPTY, self)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setEnabled(False)  # drawn in the palette's dimmed text colour
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(splitter)

        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        for widget in (self.drop_zone, self.name_prompt, self.job_bar, self.message_line, self.undo_bar):
            layout.addWidget(widget)
        layout.addWidget(self.stack, 1)
        self._build_actions()

    def _build_actions(self) -> None:
        add = self.list_view.add_action
        delete_keys = (QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence(Qt.Key.Key_Backspace))
        self.rename_action = add("Rename", self.list_view.rename_current, QKeySequence(Qt.Key.Key_F2))
        self.delete_action = add("Delete", self.delete_selected, *delete_keys)
        self.add_samples_action = add("Add Recordings to This Voice…", self._choose_samples)
        self.match_action = add("Match a Built-in Voice", self.match_selected)
        self.export_action = add("Export…", lambda: self.export_profile())
        self.undo_action = QAction("Undo Delete", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_action.triggered.connect(lambda _checked=False: self.undo_delete())
        self.addAction(self.undo_action)

    # --- the list -------------------------------------------------------------------------------------
    def refresh(self, select: int | None = None) -> None:
        """Read the profiles again (a quick SQLite read) and show them, selecting ``select`` if given."""
        try:
            listed = self.profiles.list()
        except TimbreError as exc:
            self.show_message(str(exc), error=True)
            listed = []
        self._by_id = {p.id: p for p in listed}
        self.list_view.set_profiles(listed)
        if select is not None:
            self.list_view.select(select)
        if self.list_view.current_id() is None and listed:
            self.list_view.select(listed[0].id)
        self.stack.setCurrentIndex(1 if listed else 0)
        self._selected(self.list_view.current_id())

    def selected_profile(self) -> Any | None:
        return self._by_id.get(self.list_view.current_id() or -1)

    def _selected(self, profile_id: int | None) -> None:
        self.details.show_profile(self._by_id.get(profile_id) if profile_id is not None else None)
        self._update_actions()

    def _update_actions(self) -> None:
        chosen, idle = self.selected_profile() is not None, self.job is None
        for widget in (self.rename_action, self.delete_action, self.export_action, self.export_button):
            widget.setEnabled(chosen)
        for widget in (self.match_action, self.match_button, self.add_samples_action):
            widget.setEnabled(chosen and idle)
        for widget in (self.add_button, self.record_button, self.drop_zone.choose):
            widget.setEnabled(idle)
        self.undo_action.setEnabled(not self.undo_bar.isHidden())

    def show_message(self, text: str, error: bool = False) -> None:
        self.message_line.say(text, error)

    def _fail(self, text: str) -> None:
        self.show_message(text, error=True)
        self.errorRaised.emit(text)

    def _changed(self, select: int | None = None) -> None:
        self.refresh(select)
        self.profilesChanged.emit()

    # --- bringing recordings in --------------------------------------------------------------------------
    def receive_files(self, paths: Sequence[Path | str], add_to: int | None = None) -> None:
        """What a drop does: refuse what cannot be a recording (saying why), then either ask for the new
        voice's name inline or, with ``add_to``, add the recordings to that profile."""
        usable, refused = strip.split_media(paths)
        rest = " The other files were kept." if usable else " Drop recordings or videos with sound instead."
        self.show_message(" ".join(refused) + rest if refused else "", error=bool(refused))
        if not usable:
            return
        if add_to is not None:
            self.add_samples(add_to, usable)
        else:
            taken = [p.name for p in self._by_id.values()]
            self.name_prompt.ask(usable, strip.name_from_file(usable[0], taken))

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Choose Recordings", "", strip.FILE_FILTER)
        if paths:
            self.receive_files(paths)

    def _choose_samples(self) -> None:
        profile = self.selected_profile()
        if profile is not None:
            title = f'Add Recordings to "{profile.name}"'
            paths, _ = QFileDialog.getOpenFileNames(self, title, "", strip.FILE_FILTER)
            if paths:
                self.receive_files(paths, add_to=profile.id)

    def _check(self, paths: Sequence[Path | str], problem: str = "") -> list[Path] | None:
        """The recordings among ``paths`` when a job can start with them; otherwise say why, and None."""
        usable, refused = strip.split_media(paths)
        problem = " ".join(refused) or problem or ("" if usable else "There are no recordings to use.")
        if problem or self.job is not None:
            self.show_message(problem or "Wait for the current job to finish first.", error=True)
            self._forget_recordings(usable)
            return None
        return usable

    def create_from_files(self, paths: Sequence[Path | str], name: str) -> Job | None:
        """Make a voice called ``name`` from ``paths`` on the lane; the job, or None if refused at once."""
        name = " ".join(str(name).split())
        usable = self._check(paths, "" if name else "A voice needs a name.")
        if usable is None:
            return None
        files, voices, made = [str(p) for p in usable], self.voices, []

        def work(ctx: JobContext) -> Any:
            made.append(voices.create_profile(name, files, report=_reporter(ctx)))
            return made[0]

        def done(result: Any) -> None:
            profile, warnings = result
            self._changed(profile.id)
            language = f" ({language_name(profile.language)})" if profile.language else ""
            said = f"{profile.total_seconds:.1f} s of clean speech{language}"
            lines = [f'Made "{profile.name}" from {_count(len(profile.samples))}, {said}.']
            self.show_message("\n".join(lines + [f"⚠ {w}" for w in warnings]))

        def cancelled() -> None:
            if made:  # Cancel came while the last file was being transcribed, after the last step
                self._changed(made[0][0].id)
                self.show_message(f'Cancel came too late: "{made[0][0].name}" was already made.', error=True)
            else:
                self.show_message("Cancelled. No voice was made.")

        return self._start(f'Making the voice "{name}"', work, done, cancelled, usable)

    def add_samples(self, profile_id: int, paths: Sequence[Path | str]) -> Job | None:
        """Add ``paths`` to a profile, one at a time on the lane; those added before a refusal stay."""
        profile = self._by_id.get(profile_id)
        usable = self._check(paths, "" if profile else "Choose the voice to add the recordings to.")
        if usable is None or profile is None:
            return None
        files, voices, added, warnings = [str(p) for p in usable], self.voices, [], []

        def work(ctx: JobContext) -> Any:
            for path in files:
                try:
                    sample, found = voices.add_sample(profile_id, path, report=_reporter(ctx))
                except TimbreError as exc:
                    if added and not isinstance(exc, CancelledError):
                        raise TimbreError(f"{exc} ({_count(len(added))} before it were added.)") from exc
                    raise
                added.append(sample)
                warnings.extend(found)

        def done(_result: Any = None, stopped: bool = False) -> None:
            self._changed(profile_id)
            lines = [f'Added {_count(len(added))} to "{profile.name}".'] if added or not stopped else []
            lines += ["Cancelled."] if stopped else []
            self.show_message("\n".join(lines + [f"⚠ {w}" for w in warnings]))

        return self._start(f'Adding to "{profile.name}"', work, done, lambda: done(stopped=True), usable)

    # --- recording ---------------------------------------------------------------------------------------
    def start_recording(self) -> RecordDialog | None:
        """Open the record window, or say plainly why there is nothing to record from."""
        if self.record_dialog is not None and self.record_dialog.recording:
            self.record_dialog.raise_()
            return self.record_dialog
        try:
            self.record_dialog = RecordDialog.open(self.source_factory, self)
        except TimbreError as exc:
            self.show_message(str(exc), error=True)
            return None
        self.record_dialog.recorded.connect(self._recorded)
        self.record_dialog.failed.connect(self._fail)
        return self.record_dialog

    def _recorded(self, path: str) -> None:
        """A finished take becomes a voice the way dropped files do: name it, then it is made."""
        name = strip.free_name("My voice", [p.name for p in self._by_id.values()])
        self.name_prompt.ask([Path(path)], name, "Name the voice you recorded:")

    @staticmethod
    def _forget_recordings(paths: Sequence[Path]) -> None:
        for path in paths:
            discard_take(path)

    # --- jobs --------------------------------------------------------------------------------------------
    @property
    def job(self) -> Job | None:
        """The job this panel started and that has not ended yet."""
        return self.job_bar.job

    def _start(
        self,
        title: str,
        work: Callable[[JobContext], Any],
        done: Callable[[Any], None],
        cancelled: Callable[[], None],
        files: Sequence[Path],
    ) -> Job:
        def ended(callback: Callable[..., None]) -> Callable[..., None]:
            def after(*args: Any) -> None:
                self._forget_recordings(files)
                self._update_actions()
                callback(*args)

            return after

        def failed(error: JobError) -> None:
            self.refresh(self.list_view.current_id())  # recordings added before a refusal stay
            self._fail(error.message)

        job = self.job_bar.run(title, work, ended(done), ended(failed), ended(cancelled))
        self.show_message("")
        self._update_actions()
        return job

    def cancel_job(self) -> None:
        self.job_bar.cancel_job()

    # --- managing profiles ---------------------------------------------------------------------------------
    def rename_profile(self, profile_id: int, name: str) -> None:
        try:
            profile = self.profiles.rename(profile_id, name)
        except TimbreError as exc:
            self.refresh(profile_id)
            self.show_message(str(exc), error=True)
            return
        self._changed(profile.id)
        self.show_message(f'Renamed to "{profile.name}".')

    def delete_selected(self) -> None:
        """Move the selected profile to the trash, offering Undo."""
        profile = self.selected_profile()
        if profile is None:
            return
        ids = self.list_view.ids()
        row = ids.index(profile.id)
        self.profiles.delete(profile.id)
        ids.remove(profile.id)
        self.undo_bar.offer(profile.name)
        self._changed(ids[min(row, len(ids) - 1)] if ids else None)
        self.show_message("")

    def undo_delete(self) -> None:
        if self.undo_bar.isHidden():
            return
        self.undo_bar.hide()
        try:
            restored = self.profiles.undo()
        except TimbreError as exc:
            self.show_message(str(exc), error=True)
            return
        self._changed(restored.id)
        self.show_message(f'Restored "{restored.name}".')

    def save_transcript(self, sample_id: int, text: str) -> None:
        profile = self.details.profile
        if profile is None:
            return
        if self.job is not None:  # the voice service's connection is the lane's while a job runs
            self.show_message("Save the transcript once the current job has finished.", error=True)
            return
        try:
            self.voices.set_transcript(profile.id, sample_id, text)
        except TimbreError as exc:
            self.show_message(str(exc), error=True)
            return
        self.refresh(profile.id)
        self.show_message("Transcript saved.")

    def export_profile(self, dest: Path | str | None = None) -> Path | None:
        """Save the selected profile as a file (asking where when ``dest`` is not given)."""
        profile = self.selected_profile()
        if profile is None:
            return None
        if dest is None:
            safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in profile.name).strip()
            suggested = str(Path.home() / f"{safe or 'voice'}{SUFFIX}")
            dest, _ = QFileDialog.getSaveFileName(self, "Export Voice", suggested, f"Voice (*{SUFFIX})")
            if not dest:
                return None
        target = Path(dest) if Path(dest).suffix == SUFFIX else Path(f"{dest}{SUFFIX}")
        try:
            written = Path(self.profiles.export(profile.id, target))
        except TimbreError as exc:
            self._fail(str(exc))
            return None
        self.show_message(f'Exported "{profile.name}" to {written}.')
        return written

    def import_profile(self, source: Path | str | None = None) -> Any | None:
        """Add a profile from an exported file (asking which when ``source`` is not given)."""
        if source is None:
            source, _ = QFileDialog.getOpenFileName(self, "Import Voice", "", f"Voice (*{SUFFIX})")
            if not source:
                return None
        try:
            profile = self.profiles.import_(Path(source))
        except TimbreError as exc:
            self._fail(str(exc))
            return None
        self._changed(profile.id)
        self.show_message(f'Imported "{profile.name}" with {_count(len(profile.samples))}.')
        return profile

    def match_selected(self) -> Job | None:
        """Find the built-in voice closest to the selected profile (on the lane; minutes the first time)."""
        profile = self.selected_profile()
        if profile is None or self.job is not None:
            return None
        factory, profile_id = self.matcher_factory, profile.id

        def work(ctx: JobContext) -> Any:
            ctx.raise_if_cancelled()
            return factory().match(profile_id, _reporter(ctx), ctx.cancel)

        def done(result: Any) -> None:
            self._changed(profile_id)
            self.show_message(f"Closest built-in voice: {result.voice} (similarity {result.similarity:.2f})")

        def cancelled() -> None:
            self.show_message(f'Matching cancelled; the voice of "{profile.name}" was not changed.')

        return self._start(f'Matching "{profile.name}" to the built-in voices', work, done, cancelled, [])
