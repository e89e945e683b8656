"""The Voices panel driven like a person would: real files dropped as drag events, real speech (spoken by
Kokoro) cleaned and transcribed by Whisper on the lane, a real file played in as the microphone, real
SQLite profiles in the temporary Timbre home, and every refusal told in plain words with nothing stored."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from app.core.models import CancelToken, SynthesisRequest
from app.services.profiles import ProfileService
from app.services.recording import FileSource, MicrophoneSource
from app.services.voices import VoiceService
from app.storage.library import Library
from app.ui.widgets.level_meter import LevelMeter
from app.ui.widgets.voices import EMPTY, VoicesPanel

SAID = (
    "The old lighthouse keeper climbed the stairs every evening. "
    "He lit the lamp and watched the ships pass by. On stormy nights he never slept at all."
)
RATE = 24000
JOB_MS = 120_000
"""Whisper loads once per run (seconds) and then transcribes ten seconds of speech in a second or two."""


@pytest.fixture(scope="module")
def speech(kokoro, tmp_path_factory) -> Path:
    """About nine seconds of a real voice (Kokoro am_michael) with a second of silence either side."""
    request = SynthesisRequest(text=SAID, voice="am_michael")
    audio = np.concatenate([c.samples for c in kokoro.synthesize(request, CancelToken())])
    pad = np.zeros(RATE, dtype=np.float32)
    path = tmp_path_factory.mktemp("speech") / "lighthouse_keeper.wav"
    sf.write(path, np.concatenate([pad, audio, pad]), RATE)
    return path


@pytest.fixture
def services(timbre_home):
    """A profile service and a voice service on their own connections, as the app has them."""
    libraries = [Library(), Library()]
    yield ProfileService(libraries[0]), VoiceService(libraries[1])
    for library in libraries:
        library.close()


@pytest.fixture
def make_panel(qtbot, lane, services):
    def make(**kwargs) -> VoicesPanel:
        panel = VoicesPanel(*services, lane, **kwargs)
        qtbot.addWidget(panel)
        panel.resize(520, 720)
        panel.show()
        panel.activateWindow()
        qtbot.waitExposed(panel)
        return panel

    return make


def _stored(home: Path) -> list[str]:
    folder = home / "samples"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _drop(panel: VoicesPanel, paths: list[Path], modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Drag ``paths`` over the panel's drop zone and release them, as Finder would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    point = panel.drop_zone.geometry().center()
    with warnings.catch_warnings():  # PySide binds only the QPoint constructor, which Qt 6.12 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, modifiers)
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted(), "local files are welcome"
    assert panel.drop_zone.property("active") and "Release to" in panel.drop_zone.label.text()
    drop = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, modifiers)
    QApplication.sendEvent(panel, drop)
    assert not panel.drop_zone.property("active")


def _focus(qtbot, widget) -> None:
    """Give ``widget`` the keyboard focus; shortcuts only reach the focused widget of an active window."""
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)


def _idle(qtbot, panel: VoicesPanel, timeout: int = JOB_MS) -> None:
    qtbot.waitUntil(lambda: panel.job is None, timeout=timeout)


def _quick_profile(voices: VoiceService, speech: Path, name: str = "Keeper"):
    """A stored profile without Whisper (the transcript is given), for tests about managing profiles."""
    profile, _ = voices.create_profile(name, [speech], transcript="the old lighthouse keeper")
    return profile


def test_an_empty_library_explains_how_to_make_a_voice(make_panel):
    panel = make_panel()
    assert panel.stack.currentWidget() is panel.empty_label and panel.empty_label.text() == EMPTY
    assert "Record" in EMPTY and "drop" in EMPTY
    assert not panel.match_button.isEnabled() and not panel.export_button.isEnabled()
    assert panel.add_button.isEnabled() and panel.record_button.isEnabled()
    assert panel.drop_zone.label.text().startswith("Drop audio or video files here to make a voice")


@pytest.mark.slow
def test_dropping_a_recording_makes_a_voice_with_its_transcript(qtbot, make_panel, speech, services):
    profiles, _ = services
    panel = make_panel()
    _drop(panel, [speech])
    assert panel.name_prompt.isVisible() and panel.name_prompt.edit.text() == "lighthouse keeper"
    assert panel.job is None, "nothing starts before the voice has a name"
    panel.name_prompt.edit.setText("Lighthouse")
    with qtbot.waitSignal(panel.profilesChanged, timeout=JOB_MS):
        qtbot.keyClick(panel.name_prompt.edit, Qt.Key.Key_Return)
        assert panel.job is not None and panel.job_bar.isVisible() and panel.job_bar.cancel.isEnabled()
        assert not panel.add_button.isEnabled(), "one voice at a time"
    assert not panel.job_bar.isVisible() and not panel.name_prompt.isVisible()
    [profile] = profiles.list()
    assert profile.name == "Lighthouse" and profile.language == "en"
    assert panel.selected_profile().id == profile.id
    assert panel.stack.currentIndex() == 1
    shown = panel.details.transcript.toPlainText().lower()
    assert "lighthouse keeper" in shown and shown == profile.samples[0].transcript.lower()
    assert panel.message_line.text().startswith('Made "Lighthouse" from 1 recording')
    assert "English" in panel.message_line.text()
    assert (
        "Lighthouse" in panel.list_view.model_.item(0).text()
        and "English" in panel.list_view.model_.item(0).text()
    )


def test_a_text_file_is_refused_with_its_reason_and_nothing_is_stored(
    make_panel, tmp_path, timbre_home, services
):
    notes = tmp_path / "notes.txt"
    notes.write_text("These are my notes, not a recording.")
    panel = make_panel()
    _drop(panel, [notes])
    assert panel.message_line.isVisible() and panel.message_line.error
    assert "notes.txt is not an audio or video file" in panel.message_line.text()
    assert not panel.name_prompt.isVisible() and panel.job is None
    assert panel.create_from_files([notes], "Notes") is None, "the direct path refuses it too"
    assert services[0].list() == [] and _stored(timbre_home) == []


def test_a_silent_recording_is_refused_with_the_reason(qtbot, make_panel, tmp_path, timbre_home, services):
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(5 * RATE, dtype=np.float32), RATE)
    panel = make_panel()
    with qtbot.waitSignal(panel.errorRaised, timeout=JOB_MS) as raised:
        assert panel.create_from_files([silence], "Quiet") is not None
    assert "silence.wav" in raised.args[0] and "silent" in raised.args[0]
    assert panel.message_line.error and "silent" in panel.message_line.text()
    assert panel.job is None and not panel.job_bar.isVisible()
    assert services[0].list() == [] and _stored(timbre_home) == []
    assert panel.stack.currentWidget() is panel.empty_label


def test_delete_offers_undo_and_undo_brings_the_voice_back(qtbot, make_panel, speech, services):
    profiles, voices = services
    kept = _quick_profile(voices, speech, "Keeper")
    other = _quick_profile(voices, speech, "Other")
    panel = make_panel()
    panel.list_view.select(kept.id)
    _focus(qtbot, panel.list_view)
    with qtbot.waitSignal(panel.profilesChanged):
        qtbot.keyClick(panel.list_view, Qt.Key.Key_Delete)
    assert [p.name for p in profiles.list()] == ["Other"]
    assert panel.list_view.ids() == [other.id] and panel.selected_profile().id == other.id
    assert panel.undo_bar.isVisible() and panel.undo_bar.label.text() == 'Deleted "Keeper".'
    with qtbot.waitSignal(panel.profilesChanged):
        qtbot.mouseClick(panel.undo_bar.undo, Qt.MouseButton.LeftButton)
    assert sorted(p.name for p in profiles.list()) == ["Keeper", "Other"]
    assert panel.selected_profile().id == kept.id and not panel.undo_bar.isVisible()
    assert panel.message_line.text() == 'Restored "Keeper".'

    _focus(qtbot, panel.list_view)
    qtbot.keyClick(panel.list_view, Qt.Key.Key_Delete)  # and back again, from the keyboard
    assert [p.name for p in profiles.list()] == ["Other"]
    qtbot.keyClick(panel.list_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert sorted(p.name for p in profiles.list()) == ["Keeper", "Other"]


def test_rename_in_place_with_f2(qtbot, make_panel, speech, services):
    profiles, voices = services
    kept = _quick_profile(voices, speech, "Keeper")
    _quick_profile(voices, speech, "Other")
    panel = make_panel()
    panel.list_view.select(kept.id)
    _focus(qtbot, panel.list_view)
    qtbot.keyClick(panel.list_view, Qt.Key.Key_F2)
    editor = panel.list_view.viewport().findChild(QLineEdit)
    assert editor is not None and editor.text() == "Keeper", "the editor holds the name, not the summary"
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)  # editing keys edit the name, never delete the voice
    assert editor.text() == "" and len(profiles.list()) == 2
    qtbot.keyClicks(editor, "Lighthouse Keeper")
    with qtbot.waitSignal(panel.profilesChanged):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert profiles.show(kept.id).name == "Lighthouse Keeper"
    assert panel.selected_profile().name == "Lighthouse Keeper"
    assert panel.details.title.text() == "Lighthouse Keeper"

    panel.rename_profile(kept.id, "other")  # names ignore case: taken
    assert panel.message_line.error and "already a profile" in panel.message_line.text()
    assert profiles.show(kept.id).name == "Lighthouse Keeper"


def test_a_corrected_transcript_is_saved(qtbot, make_panel, speech, services):
    profiles, voices = services
    kept = _quick_profile(voices, speech)
    panel = make_panel()
    details = panel.details
    assert details.transcript.toPlainText() == "the old lighthouse keeper" and not details.save.isEnabled()
    details.transcript.selectAll()
    qtbot.keyClicks(details.transcript, "The old lighthouse keeper climbed the stairs")
    assert details.save.isEnabled() and details.revert.isEnabled()
    qtbot.mouseClick(details.save, Qt.MouseButton.LeftButton)
    assert profiles.show(kept.id).samples[0].transcript == "The old lighthouse keeper climbed the stairs"
    assert not details.save.isEnabled() and panel.message_line.text() == "Transcript saved."


@pytest.mark.slow
def test_recording_shows_levels_and_stopping_makes_a_voice(qtbot, make_panel, speech, services):
    profiles, _ = services
    panel = make_panel(source_factory=lambda: FileSource(speech, speed=3.0))
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    dialog = panel.record_dialog
    assert dialog is not None and dialog.isVisible() and dialog.recording
    qtbot.waitUntil(lambda: dialog.seconds >= 6.0, timeout=20_000)  # a second of silence, then speech
    meter = dialog.meter
    assert meter.readings >= 60 and meter.max_rms_db > -40.0 and not meter.clipped
    assert dialog.elapsed.text().startswith("0:0")
    with qtbot.waitSignal(dialog.recorded, timeout=10_000) as taken:
        qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    take = Path(taken.args[0])
    assert 5.5 < sf.info(take).duration < 8.0, "stopped where Stop was pressed"
    assert not dialog.isVisible() and dialog.wait()
    assert panel.name_prompt.isVisible() and panel.name_prompt.edit.text() == "My voice"
    with qtbot.waitSignal(panel.profilesChanged, timeout=JOB_MS):
        qtbot.keyClick(panel.name_prompt.edit, Qt.Key.Key_Return)
    [profile] = profiles.list()
    assert profile.name == "My voice" and "lighthouse" in profile.samples[0].transcript.lower()
    assert not take.parent.exists(), "the temporary take is gone once it is a voice"


def test_recording_without_a_microphone_says_so_plainly(qtbot, make_panel):
    panel = make_panel(source_factory=lambda: MicrophoneSource(device=99_999))
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    assert panel.record_dialog is None
    assert panel.message_line.error and "no microphone" in panel.message_line.text()


def test_cancelling_a_recording_keeps_nothing(qtbot, make_panel, speech, services):
    panel = make_panel(source_factory=lambda: FileSource(speech, speed=1.0))
    dialog = panel.start_recording()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.meter.readings > 3, timeout=5000)
    folder = dialog.folder
    assert folder is not None and folder.is_dir()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.wait()
    qtbot.waitUntil(lambda: not folder.exists(), timeout=5000)
    assert not panel.name_prompt.isVisible() and services[0].list() == []


def test_cancel_while_a_voice_is_made_leaves_nothing(
    qtbot, make_panel, speech, tmp_path, timbre_home, services
):
    first, second = tmp_path / "first.wav", tmp_path / "second.wav"
    first.write_bytes(speech.read_bytes())
    second.write_bytes(speech.read_bytes())
    panel = make_panel()
    assert panel.create_from_files([first, second], "Two takes") is not None
    qtbot.waitUntil(lambda: "Reading first.wav" in panel.job_bar.label.text(), timeout=JOB_MS)
    qtbot.mouseClick(panel.job_bar.cancel, Qt.MouseButton.LeftButton)
    assert panel.job_bar.label.text() == "Cancelling…"
    _idle(qtbot, panel)
    assert panel.message_line.text() == "Cancelled. No voice was made."
    assert services[0].list() == [] and _stored(timbre_home) == []
    assert panel.add_button.isEnabled()


@pytest.mark.slow
def test_alt_drop_adds_a_recording_to_the_selected_voice(qtbot, make_panel, speech, tmp_path, services):
    profiles, voices = services
    kept = _quick_profile(voices, speech)
    another = tmp_path / "another take.wav"
    another.write_bytes(speech.read_bytes())
    panel = make_panel()
    with qtbot.waitSignal(panel.profilesChanged, timeout=JOB_MS):
        _drop(panel, [another], Qt.KeyboardModifier.AltModifier)
        assert not panel.name_prompt.isVisible(), "no new voice: the files go to the selected one"
    samples = profiles.show(kept.id).samples
    assert len(samples) == 2 and "lighthouse" in samples[1].transcript.lower()
    assert panel.message_line.text() == 'Added 1 recording to "Keeper".'
    assert panel.details.samples.count() == 2


def test_matching_needs_a_selection_and_can_be_cancelled(qtbot, make_panel, lane, speech, services):
    profiles, voices = services
    made: list[object] = []
    panel = make_panel(matcher_factory=lambda: made.append("matcher"))
    assert not panel.match_button.isEnabled() and panel.match_selected() is None

    kept = _quick_profile(voices, speech)
    panel.refresh()
    assert panel.selected_profile().id == kept.id and panel.match_button.isEnabled()
    release = threading.Event()
    lane.submit("something before", lambda _ctx: release.wait(10))  # the lane is busy speaking
    qtbot.mouseClick(panel.match_button, Qt.MouseButton.LeftButton)
    assert panel.job is not None and "waiting for the current job" in panel.job_bar.label.text()
    assert not panel.match_button.isEnabled()
    qtbot.mouseClick(panel.job_bar.cancel, Qt.MouseButton.LeftButton)
    release.set()
    _idle(qtbot, panel, 10_000)
    assert made == [], "a cancelled match never starts"
    assert profiles.show(kept.id).preferred_voice is None
    assert "Matching cancelled" in panel.message_line.text() and panel.match_button.isEnabled()


def test_export_and_import(qtbot, make_panel, speech, services, tmp_path):
    profiles, voices = services
    _quick_profile(voices, speech)
    panel = make_panel()
    written = panel.export_profile(tmp_path / "keeper")
    assert written == tmp_path / "keeper.timbrevoice" and written.is_file()
    assert panel.message_line.text() == f'Exported "Keeper" to {written}.'
    with qtbot.waitSignal(panel.profilesChanged):
        imported = panel.import_profile(written)
    assert imported.name == "Keeper (2)" and panel.selected_profile().id == imported.id
    assert sorted(p.name for p in profiles.list()) == ["Keeper", "Keeper (2)"]
    with qtbot.waitSignal(panel.errorRaised) as raised:
        assert panel.import_profile(tmp_path / "missing.timbrevoice") is None
    assert raised.args[0] and panel.message_line.error


def test_level_meter_shows_rms_peak_and_clipping(qtbot):
    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.resize(300, 18)
    meter.set_level(-30.0, -12.0)
    assert meter.readings == 1 and meter.max_rms_db == -30.0 and not meter.clipped
    quiet = meter.grab().toImage()
    meter.set_level(-3.0, 0.0, clipped=True)
    assert meter.clipped and meter.max_rms_db == -3.0
    loud = meter.grab().toImage()
    assert quiet != loud
    red = loud.pixelColor(loud.width() // 2, loud.height() // 2)
    assert red.red() > 200 and red.green() < 100, "a clipped input is drawn red"
