"""The main window: header, composer, waveform timeline and the History and Voices panels, wired together.

Widgets talk to each other only through signals connected here; anything slow goes to a lane.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.models import SynthesisRequest
from app.core.peaks import PeakPyramid
from app.core.track import AudioTrack
from app.ui.context import AppContext
from app.ui.dialogs.error import show_error
from app.ui.exporting import Exporter
from app.ui.generation import GenerationController
from app.ui.playback import PlaybackController
from app.ui.widgets.composer import ComposerPanel, GenerationSpec
from app.ui.widgets.header import MonitorSampler, ResourceHeader
from app.ui.widgets.history import HistoryPanel
from app.ui.widgets.transport import TransportBar
from app.ui.widgets.voice_picker import VoiceChoice, choices_from_catalogue
from app.ui.widgets.voices import VoicesPanel
from app.ui.worker import InferenceLane, JobError

logger = logging.getLogger(__name__)

WELCOME = "Welcome to Timbre. Everything you hear is made on this computer, and nothing leaves it."
NARRATE_KEYS = "Ctrl+Shift+N"
"""Narrate Agent Output on and off (⇧⌘N on macOS, where Qt's Ctrl is the Command key)."""
REFRESH_MS = 33
"""The waveform redraws at most this often while audio streams in (chunks can come faster)."""


class MainWindow(QMainWindow):
    """Timbre's window. Closing it hides it when the menu-bar icon can bring it back."""

    quitRequested = Signal()  # noqa: N815 - Qt naming
    settingsApplied = Signal(object)  # noqa: N815 - the new Settings, after the user pressed OK

    def __init__(
        self,
        context: AppContext,
        lane: InferenceLane | None = None,
        io_lane: InferenceLane | None = None,
        playback: PlaybackController | None = None,
        sampler: MonitorSampler | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.lane = lane if lane is not None else InferenceLane(self, "inference")
        self.io_lane = io_lane if io_lane is not None else InferenceLane(self, "io")
        # Downloads get their own lane: gigabytes on "io" would hold up every export meanwhile.
        self.models_lane = InferenceLane(self, "models")
        self._models_dialog: Any = None
        self.playback = playback if playback is not None else PlaybackController(parent=self)
        self.generation = GenerationController(self.lane, context.synthesis, context.worker_history, self)
        self.exporter = Exporter(self, self.io_lane, context)
        self.keep_running_in_menu_bar = False
        """Set by the application when a menu-bar icon exists: closing the window then only hides it."""
        self.choices: list[VoiceChoice] = []
        self._generation: Any = None
        """The saved generation shown in the timeline (None while a new one streams in)."""

        self.setWindowTitle("Timbre")
        self.setMinimumSize(880, 560)
        self.resize(1180, 760)
        self._build(sampler)
        self._wire()
        self._build_menus()
        self._apply_settings()  # fills the engine and voice pickers

    # --- construction -------------------------------------------------------------------------------
    def _build(self, sampler: MonitorSampler | None) -> None:
        c = self.context
        self.header = ResourceHeader(sampler)
        self.header.set_device("CPU")
        self.composer = ComposerPanel()
        # The waveform (pyqtgraph, ~0.4 s to import) is built just after the window is first painted, so
        # the window appears that much sooner; a plain label holds its place until then.
        self._waveform: Any = None
        self._waveform_slot = QStackedWidget()
        placeholder = QLabel("Your audio will appear here")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        placeholder.setEnabled(False)
        self._waveform_slot.addWidget(placeholder)
        self.transport = TransportBar()
        self.history_panel = HistoryPanel(c.history)
        self.voices_panel = VoicesPanel(c.profiles, c.voices, self.lane, matcher_factory=c.matcher)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.history_panel, "History")
        self.tabs.addTab(self.voices_panel, "Voices")

        studio = self.studio = QWidget()
        column = QVBoxLayout(studio)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.composer, 2)
        column.addWidget(self._waveform_slot, 3)
        column.addWidget(self.transport)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(studio)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([700, 460])
        self.splitter.setChildrenCollapsible(False)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.lane_label = QLabel()
        self.statusBar().addPermanentWidget(self.lane_label)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(lambda: self.waveform.refresh())
        self._engines_timer = QTimer(self)
        self._engines_timer.setInterval(2000)
        self._engines_timer.timeout.connect(self._show_engines)
        self._engines_timer.start()

    def _wire(self) -> None:
        g, p, t = self.generation, self.playback, self.transport
        self.composer.generateRequested.connect(self.generate)
        self.composer.stopRequested.connect(g.stop)
        g.trackStarted.connect(self._track_started)
        g.trackGrew.connect(self._track_grew)
        g.progressed.connect(lambda pr: self.composer.set_progress(pr.fraction, pr.text))
        g.finished.connect(self._generation_finished)
        g.failed.connect(self._generation_failed)
        g.cancelled.connect(lambda: self._say("Stopped. Nothing was saved."))
        g.busyChanged.connect(self.composer.set_busy)
        p.positionChanged.connect(self._position_changed)
        p.stateChanged.connect(lambda state: t.set_playing(state == "playing"))
        p.failed.connect(self.show_error)
        t.playPauseClicked.connect(self.play_pause)
        t.stopClicked.connect(p.stop)
        t.exportClicked.connect(self.export_current)
        h = self.history_panel
        h.playRequested.connect(lambda gid: self.show_generation(gid, play=True))
        h.showRequested.connect(lambda gid: self.show_generation(gid, play=False))
        h.regenerateRequested.connect(self.regenerate)
        h.exportRequested.connect(lambda gid: self.exporter.export_generation(gid))
        h.errorRaised.connect(self.show_error)
        self.voices_panel.profilesChanged.connect(self.refresh_voices)
        self.voices_panel.errorRaised.connect(self.show_error)
        self.lane.jobStarted.connect(lambda job: self.lane_label.setText(f"{job.name}…"))
        self.lane.busyChanged.connect(lambda busy: None if busy else self.lane_label.setText(""))

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "Export Take…", self.export_current, QKeySequence("Ctrl+E"))
        self._action(file, "Import Voice…", self.voices_panel.import_profile)
        file.addSeparator()
        self._action(file, "Install Offline Voices…", self.install_voices)
        self._action(file, "Models…", self.open_models, QKeySequence("Ctrl+Shift+M"))
        prefs = self._action(file, "Settings…", self.open_preferences, QKeySequence.StandardKey.Preferences)
        prefs.setMenuRole(QAction.MenuRole.PreferencesRole)
        file.addSeparator()
        self._action(file, "Close Window", self.close, QKeySequence.StandardKey.Close)
        quit_action = self._action(
            file, "Quit Timbre", self.quitRequested.emit, QKeySequence.StandardKey.Quit
        )
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        speech = self.speech_menu = bar.addMenu("&Speech")
        self.generate_action = self._action(
            speech, "Generate", self.composer.generate, QKeySequence("Ctrl+Return")
        )
        self.generate_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.stop_action = self._action(speech, "Stop", self.generation.stop, QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.setEnabled(False)  # only while generating, so Esc otherwise reaches the widgets
        self.generation.busyChanged.connect(self.stop_action.setEnabled)
        speech.addSeparator()
        self.play_action = self._action(
            speech, "Play / Pause", self.play_pause, QKeySequence(Qt.Key.Key_Space), studio_only=True
        )
        self._action(speech, "Back to Start", self.playback.stop, QKeySequence("Home"), studio_only=True)

        view = bar.addMenu("&View")
        self._action(
            view, "History", lambda: self.tabs.setCurrentWidget(self.history_panel), QKeySequence("Ctrl+1")
        )
        self._action(
            view, "Voices", lambda: self.tabs.setCurrentWidget(self.voices_panel), QKeySequence("Ctrl+2")
        )
        self._action(
            view, "Search History", self._focus_search, QKeySequence.StandardKey.Find, studio_only=True
        )
        view.addSeparator()
        self._action(view, "Zoom to Fit", lambda: self.waveform.zoom_to_fit(), QKeySequence("Ctrl+0"))

    def add_narration(self, narration: Any) -> None:
        """The narration items (a :class:`~app.ui.narration.NarrationController`'s actions) at the end of
        the Speech menu, ⇧⌘N / Ctrl+Shift+N toggling it; each sentence heard shows in the status bar."""
        self.speech_menu.addSeparator()
        narration.toggle_action.setShortcut(QKeySequence(NARRATE_KEYS))
        for action in narration.actions:
            self.speech_menu.addAction(action)
        self.addAction(narration.toggle_action)  # the shortcut works even when the menu bar is hidden
        narration.sentenceHeard.connect(lambda text: self.statusBar().showMessage(f"» {text}", 5000))
        narration.messageShown.connect(self._say)

    def _action(
        self, menu: Any, text: str, slot: Any, shortcut: Any = None, studio_only: bool = False
    ) -> QAction:
        """A menu item with a shortcut. ``studio_only`` keys (Space, Home, ⌘F) act only while the focus is
        in the composer or the timeline, since the history list and the text fields use them too; two
        live shortcuts on one key would cancel each other out."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        if studio_only:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.studio.addAction(action)
        else:
            self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def _apply_settings(self) -> None:
        s = self.context.settings
        self.composer.set_catalogue(self.context.catalogue())
        self.refresh_voices()
        if s.default_voice:
            key = (
                s.default_voice
                if ":" in s.default_voice
                else f"{s.default_engine or 'piper'}:{s.default_voice}"
            )
            self.composer.select_voice(key)
        self.composer.speed.setValue(s.speed)
        if self.context.first_launch and not self.composer.text.toPlainText():
            self.composer.text.setPlainText(WELCOME)
        # Only the offline engines are expected to be here; the cloning engines are optional downloads.
        missing = [e["name"] for e in self.context.catalogue() if not e["available"] and not e.get("models")]
        if missing:
            self._say(
                f"{', '.join(missing)} is not installed yet: File ▸ Install Offline Voices… fetches it."
            )

    @property
    def waveform(self) -> Any:
        """The timeline (a :class:`~app.ui.widgets.waveform.WaveformView`), built on first use."""
        if self._waveform is None:
            from app.ui.widgets.waveform import WaveformView

            view = WaveformView()
            view.seekRequested.connect(self.playback.seek)
            view.playSelectionRequested.connect(lambda start, end: self.playback.play(start, end))
            view.exportSelectionRequested.connect(self._export_selection)
            self._waveform_slot.addWidget(view)
            self._waveform_slot.setCurrentWidget(view)
            self._waveform = view
        return self._waveform

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._waveform is None:
            QTimer.singleShot(0, lambda: self.waveform)

    # --- voices ---------------------------------------------------------------------------------------
    def refresh_voices(self) -> None:
        """Rebuild the voice lists (after a profile was made, renamed, matched or deleted)."""
        try:
            profiles = self.context.profiles.list()
        except Exception:  # noqa: BLE001 - a damaged library must not take the window down
            logger.exception("Could not list voice profiles")
            profiles = []
        self.choices = choices_from_catalogue(self.context.catalogue(), profiles)
        self.composer.set_choices(self.choices)

    # --- generating ---------------------------------------------------------------------------------
    def generate(self, spec: GenerationSpec) -> None:
        self._generation = None
        self.waveform.clear_selection()
        self.generation.start(spec)

    def speak(self, text: str, choice: VoiceChoice | None) -> None:
        """Quick speak (menu bar): say ``text`` at once with ``choice`` and the composer's speed."""
        request = SynthesisRequest(
            text=text,
            voice=choice.voice if choice else None,
            engine=choice.engine if choice else None,
            speed=round(self.composer.speed.value(), 2),
        )
        self.generate(GenerationSpec(request, choice, choice.profile_id if choice else None))

    def regenerate(self, generation_id: int) -> None:
        self._generation = None
        self.generation.regenerate(generation_id)

    def _track_started(self, track: AudioTrack) -> None:
        self.waveform.set_track(track)
        self.transport.set_duration(0.0)
        self.playback.load(track, play=self.context.settings.play_while_generating)

    def _track_grew(self, track: AudioTrack) -> None:
        self.transport.set_duration(track.duration)
        self.transport.set_time(self.playback.position, track.duration)
        if track.finished:
            self._refresh_timer.stop()
            self.waveform.refresh()
        elif not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _generation_finished(self, generation: Any) -> None:
        self._generation = generation
        self.history_panel.add_generation(generation)
        self._say(f"Saved · {generation.duration:.1f} s · {generation.voice}")
        self.composer.set_status(f"Saved {generation.duration:.1f} s")

    def _generation_failed(self, error: JobError) -> None:
        self.composer.set_status("")
        self.show_error(error)

    # --- playing and showing ------------------------------------------------------------------------
    def play_pause(self) -> None:
        self.playback.toggle()

    def show_generation(self, generation_id: int, play: bool) -> None:
        """Load a saved generation into the timeline (reading runs on the I/O lane: it may be long)."""
        from app.core.export import read_audio

        try:
            generation = self.context.history.show(generation_id)
            path = self.context.history.audio_path(generation)
        except Exception as exc:  # noqa: BLE001 - shown as a plain message
            self.show_error(JobError.from_exception(exc))
            return

        def load(_ctx: Any) -> tuple[AudioTrack, PeakPyramid]:
            audio, rate = read_audio(path)
            track = AudioTrack.from_array(audio, rate)
            pyramid = PeakPyramid(track)
            pyramid.update()  # here, on the I/O lane: an hour-long take takes ~0.5 s to fold in
            return track, pyramid

        def done(result: tuple[AudioTrack, PeakPyramid]) -> None:
            track, pyramid = result
            self._generation = generation
            self.waveform.set_track(track, pyramid)
            self.transport.set_duration(track.duration)
            self.playback.load(track, play=play)

        self.io_lane.submit("Open take", load, on_done=done, on_error=self.show_error)

    def _position_changed(self, seconds: float) -> None:
        self.waveform.set_playhead(seconds)
        track = self.playback.track
        self.transport.set_time(seconds, track.duration if track is not None else 0.0)

    # --- exporting ----------------------------------------------------------------------------------
    def export_current(self) -> None:
        track = self.playback.track
        if self._generation is not None:
            self.exporter.export_generation(self._generation.id)
        elif track is not None and track.frames:
            self.exporter.export_track(track, None, None)

    def _export_selection(self, start: float, end: float) -> None:
        track = self.playback.track
        if track is not None:
            self.exporter.export_track(track, start, end)

    # --- other windows ------------------------------------------------------------------------------
    def open_models(self) -> None:
        """The Models window, built once and kept: reopening shows the state of a download it started."""
        if self._models_dialog is None:
            from app.services.models import ModelService
            from app.ui.dialogs.models import ModelsDialog

            self._models_dialog = ModelsDialog(ModelService(), self.models_lane, self)
            self._models_dialog.modelsChanged.connect(self._voices_installed)
            self._models_dialog.statusMessage.connect(self._say)
        self._models_dialog.show()
        self._models_dialog.raise_()
        self._models_dialog.activateWindow()

    def open_preferences(self) -> None:
        from app.ui.dialogs.preferences import PreferencesDialog

        engines = [(e["id"], e["name"]) for e in self.context.catalogue()]
        dialog = PreferencesDialog(self.context.settings, self.choices, engines, self)
        dialog.settingsChanged.connect(self._settings_changed)
        dialog.open()

    def _settings_changed(self, settings: Any) -> None:
        from app.ui.theme import apply_theme

        self.context.settings = settings
        apply_theme(self.app(), settings.theme)
        self._say("Settings saved.")
        self.settingsApplied.emit(settings)

    def install_voices(self) -> None:
        from app.services.setup import install_offline_voices
        from app.ui.dialogs.downloads import DownloadDialog

        dialog = DownloadDialog(self.lane, self)
        dialog.finished_ok.connect(self._voices_installed)
        dialog.start("Installing the offline voices", install_offline_voices)
        dialog.open()

    def _voices_installed(self) -> None:
        self.composer.set_catalogue(self.context.catalogue(refresh=True))
        self.refresh_voices()

    def _focus_search(self) -> None:
        self.tabs.setCurrentWidget(self.history_panel)
        self.history_panel.focus_search()

    def _show_engines(self) -> None:
        self.header.set_engines(self.context.loaded_engines())
        self.header.set_device(self.context.devices_in_use())

    def show_error(self, error: JobError | str) -> None:
        show_error(self, error)

    def _say(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    @staticmethod
    def app() -> Any:
        from PySide6.QtWidgets import QApplication

        return QApplication.instance()

    # --- closing ------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        from app.ui.window_state import save_window_state

        save_window_state(self)
        if self.keep_running_in_menu_bar:
            self.hide()
            event.ignore()
            return
        event.accept()
        self.quitRequested.emit()

    def shutdown(self) -> None:
        """Stop everything cleanly: jobs cancelled, threads joined, audio closed, libraries closed."""
        self._engines_timer.stop()
        self.generation.stop()
        self.lane.cancel_all()
        self.io_lane.cancel_all()
        self.models_lane.cancel_all()
        self.header.stop()
        self.playback.close()
        self.lane.wait(10_000)
        self.io_lane.wait(10_000)
        self.models_lane.wait(10_000)
