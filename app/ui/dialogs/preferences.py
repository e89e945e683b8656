"""The Preferences window (⌘,): edits a copy of the settings and saves it only on OK.

Voices come in as duck-typed choices (``.key`` and ``.label``; ``.engine`` and ``.voice`` when they have
them) so the dialog does not depend on the voice picker. The main window applies what changed when
:attr:`PreferencesDialog.settingsChanged` fires; Cancel leaves the file and the app as they were.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import paths
from app import settings as settings_mod
from app.core.errors import disk_error
from app.settings import Settings
from app.ui.dialogs.error import show_error

logger = logging.getLogger(__name__)

FORMATS = (
    ("wav", "WAV (lossless)"),
    ("flac", "FLAC (lossless, smaller)"),
    ("mp3", "MP3"),
    ("m4a", "M4A (AAC)"),
)
APPEARANCES = (("system", "Same as the system"), ("light", "Light"), ("dark", "Dark"))
AUTOMATIC_ENGINE = "Automatic (the voice's own engine)"
ENGINE_DEFAULT_VOICE = "The engine's default voice"
HOTKEY_NOTE_MAC = "Opens Quick Speak from any app."
HOTKEY_NOTE_ELSEWHERE = "macOS only: this system does not let Timbre listen for a shortcut in other apps."
MODELS_NOTE = "A new models folder takes effect the next time Timbre starts."


def _choice_value(choice: Any) -> tuple[str, str]:
    """(engine, voice) as stored in the settings; a choice without them is stored by its key."""
    engine, voice = getattr(choice, "engine", None), getattr(choice, "voice", None)
    if isinstance(engine, str) and isinstance(voice, str) and engine and voice:
        return engine, voice
    return "", str(choice.key)


class PreferencesDialog(QDialog):
    """Engine and voice defaults, where files go and how loud, models, shortcut, appearance."""

    settingsChanged = Signal(object)  # noqa: N815 - Qt naming; the saved Settings

    def __init__(
        self,
        settings: Settings,
        voice_choices: Sequence[Any],
        engines: Sequence[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._original = settings
        self._choices = list(voice_choices)
        self.setWindowTitle("Preferences")
        self.setObjectName("preferences")
        self.setAccessibleName("Preferences")
        self.setSizeGripEnabled(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self._speech_group(engines))
        layout.addWidget(self._files_group())
        layout.addWidget(self._app_group())
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._load(settings)

    # --- building -------------------------------------------------------------------------------------
    def _speech_group(self, engines: Sequence[tuple[str, str]]) -> QGroupBox:
        group = QGroupBox("Speech")
        form = QFormLayout(group)
        self.engine = QComboBox()
        self.engine.addItem(AUTOMATIC_ENGINE, "")
        for key, label in engines:
            self.engine.addItem(label, key)
        self._named(
            self.engine, "Default engine", "The engine new generations use unless a voice says otherwise"
        )
        form.addRow("Default engine:", self.engine)

        self.voice = QComboBox()
        self.voice.addItem(ENGINE_DEFAULT_VOICE, "")
        for index, choice in enumerate(self._choices):
            self.voice.addItem(str(choice.label), index)
        self._named(self.voice, "Default voice", "The voice selected when Timbre starts")
        form.addRow("Default voice:", self.voice)

        self.speed = QDoubleSpinBox()
        self.speed.setRange(*settings_mod.SPEED_RANGE)
        self.speed.setSingleStep(0.05)
        self.speed.setDecimals(2)
        self.speed.setSuffix(" ×")
        self._named(self.speed, "Speed", "Speaking rate for new generations; 1.00 is normal")
        form.addRow("Speed:", self.speed)

        self.play_while_generating = QCheckBox("Play while generating")
        self._named(
            self.play_while_generating,
            "Play while generating",
            "Start playing as soon as the first audio arrives, instead of waiting for the whole take",
        )
        form.addRow("", self.play_while_generating)

        self.voice.currentIndexChanged.connect(self._voice_picked)
        self.engine.currentIndexChanged.connect(self._engine_picked)
        return group

    def _files_group(self) -> QGroupBox:
        group = QGroupBox("Saving")
        form = QFormLayout(group)
        self.output_folder = QLineEdit()
        self.output_folder.setPlaceholderText(str(settings_mod.output_folder_path(Settings())))
        self.output_folder.setClearButtonEnabled(True)
        self._named(
            self.output_folder, "Output folder", "Where exported audio is saved; empty means the default"
        )
        self.output_folder_button = self._chooser("Choose the output folder", self._choose_output_folder)
        form.addRow("Save exports in:", self._row(self.output_folder, self.output_folder_button))

        self.output_format = QComboBox()
        for key, label in FORMATS:
            self.output_format.addItem(label, key)
        self._named(self.output_format, "Output format", "The file format exports are saved in")
        form.addRow("Format:", self.output_format)

        self.normalise = QCheckBox("Normalise exports to")
        self._named(self.normalise, "Normalise exports", "Make every export equally loud")
        self.loudness = QDoubleSpinBox()
        self.loudness.setRange(*settings_mod.LOUDNESS_RANGE)
        self.loudness.setSingleStep(0.5)
        self.loudness.setDecimals(1)
        self.loudness.setSuffix(" LUFS")
        self._named(
            self.loudness,
            "Loudness target",
            "Integrated loudness of exports: -16 LUFS suits podcasts and voice-overs, -23 broadcast",
        )
        self.normalise.toggled.connect(self.loudness.setEnabled)
        form.addRow("Loudness:", self._row(self.normalise, self.loudness))

        self.models_folder = QLineEdit()
        self.models_folder.setPlaceholderText(str(paths.models_dir()))
        self.models_folder.setClearButtonEnabled(True)
        self._named(
            self.models_folder, "Models folder", "Where voice models are kept; empty means the default"
        )
        self.models_folder_button = self._chooser("Choose the models folder", self._choose_models_folder)
        form.addRow("Models folder:", self._row(self.models_folder, self.models_folder_button))
        form.addRow("", self._note(MODELS_NOTE))
        return group

    def _app_group(self) -> QGroupBox:
        group = QGroupBox("Shortcut and appearance")
        form = QFormLayout(group)
        self.hotkey = QKeySequenceEdit()
        self.hotkey.setMaximumSequenceLength(1)
        self.hotkey.setClearButtonEnabled(True)
        mac = sys.platform == "darwin"
        self.hotkey.setEnabled(mac)
        self._named(
            self.hotkey, "Global shortcut", "Press the keys that should open Quick Speak from any app"
        )
        form.addRow("Global shortcut:", self.hotkey)
        self.hotkey_note = self._note(HOTKEY_NOTE_MAC if mac else HOTKEY_NOTE_ELSEWHERE)
        form.addRow("", self.hotkey_note)

        self.theme = QComboBox()
        for key, label in APPEARANCES:
            self.theme.addItem(label, key)
        self._named(self.theme, "Appearance", "Light, dark, or whatever the system uses")
        form.addRow("Appearance:", self.theme)
        return group

    @staticmethod
    def _named(widget: QWidget, name: str, tip: str) -> None:
        widget.setAccessibleName(name)
        widget.setToolTip(tip)

    @staticmethod
    def _row(*widgets: QWidget) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            box.addWidget(widget)
        return row

    @staticmethod
    def _note(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setEnabled(False)  # drawn in the palette's disabled text colour: a quiet aside
        return label

    @staticmethod
    def _chooser(title: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton("Choose…")
        button.setAccessibleName(title)
        button.setToolTip(title)
        # A bound method, not a lambda holding self: PySide keeps lambdas alive, and the dialog with them.
        button.clicked.connect(slot)
        return button

    def _choose_output_folder(self) -> None:
        self._choose_folder("Choose the output folder", self.output_folder)

    def _choose_models_folder(self) -> None:
        self._choose_folder("Choose the models folder", self.models_folder)

    def _choose_folder(self, title: str, target: QLineEdit) -> None:
        start = target.text() or target.placeholderText()
        folder = QFileDialog.getExistingDirectory(self, title, str(Path(start).expanduser()))
        if folder:
            target.setText(folder)

    # --- values ---------------------------------------------------------------------------------------
    def _load(self, s: Settings) -> None:
        self._select(self.engine, s.default_engine, s.default_engine)
        voice_index = self._voice_index(s.default_engine, s.default_voice)
        if voice_index is None:
            # A voice this list does not offer (not installed now): kept as it is rather than lost.
            self.voice.addItem(f"{s.default_voice} (not available)", -1)
            voice_index = self.voice.count() - 1
        self._syncing = True
        self.voice.setCurrentIndex(voice_index)
        self._syncing = False
        self.speed.setValue(s.speed)
        self.play_while_generating.setChecked(s.play_while_generating)
        self.output_folder.setText(s.output_folder)
        self._select(self.output_format, s.output_format, s.output_format)
        self.loudness.setValue(s.loudness_target)
        self.normalise.setChecked(s.normalise_exports)
        self.loudness.setEnabled(s.normalise_exports)
        self.models_folder.setText(s.models_folder)
        self.hotkey.setKeySequence(QKeySequence(s.hotkey))
        self._select(self.theme, s.theme, s.theme)

    @staticmethod
    def _select(combo: QComboBox, key: str, label: str) -> None:
        index = combo.findData(key)
        if index < 0:
            combo.addItem(label, key)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    def _voice_index(self, engine: str, voice: str) -> int | None:
        if not voice:
            return 0
        for index, choice in enumerate(self._choices):
            choice_engine, choice_voice = _choice_value(choice)
            key = str(choice.key)
            if (
                key == voice
                or key == f"{engine}:{voice}"
                or (choice_voice == voice and choice_engine == engine)
            ):
                return index + 1
        for index, choice in enumerate(self._choices):
            if not engine and _choice_value(choice)[1] == voice:
                return index + 1
        return None

    def _chosen(self) -> Any | None:
        data = self.voice.currentData()
        return self._choices[data] if isinstance(data, int) and 0 <= data < len(self._choices) else None

    _syncing = False

    def _voice_picked(self, _index: int) -> None:
        # A voice belongs to one engine: show that engine rather than contradict it.
        choice = self._chosen()
        if self._syncing or choice is None:
            return
        engine = _choice_value(choice)[0]
        index = self.engine.findData(engine)
        if engine and index >= 0:
            self._syncing = True
            self.engine.setCurrentIndex(index)
            self._syncing = False

    def _engine_picked(self, _index: int) -> None:
        choice = self._chosen()
        if self._syncing or choice is None:
            return
        engine = self.engine.currentData()
        voice_engine = _choice_value(choice)[0]
        if engine and voice_engine and engine != voice_engine:
            self.voice.setCurrentIndex(0)

    def result_settings(self) -> Settings:
        """The settings as edited (a copy; nothing is saved until OK)."""
        engine = str(self.engine.currentData() or "")
        choice = self._chosen()
        if choice is not None:
            voice_engine, voice = _choice_value(choice)
            engine = voice_engine or engine
        elif self.voice.currentData() == -1:
            voice = self._original.default_voice
        else:
            voice = ""
        edited = dataclasses.replace(
            self._original,
            default_engine=engine,
            default_voice=voice,
            speed=round(self.speed.value(), 2),
            play_while_generating=self.play_while_generating.isChecked(),
            output_folder=self.output_folder.text().strip(),
            output_format=str(self.output_format.currentData()),
            loudness_target=round(self.loudness.value(), 1),
            normalise_exports=self.normalise.isChecked(),
            models_folder=self.models_folder.text().strip(),
            hotkey=self.hotkey.keySequence().toString(QKeySequence.SequenceFormat.PortableText),
            theme=str(self.theme.currentData()),
        )
        return settings_mod.validated(edited)

    def accept(self) -> None:
        """Save, tell the app, close; a failed save keeps the dialog open with the reason."""
        edited = self.result_settings()
        try:
            settings_mod.save(edited)
        except OSError as exc:
            logger.warning("Could not save settings: %s", exc)
            show_error(self, str(disk_error(exc, paths.settings_file())))
            return
        logger.info("Settings saved")
        self.settingsChanged.emit(edited)
        super().accept()
