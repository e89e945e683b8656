"""The composer: what to say and how — text, engine, voice, language, speed and the sampling parameters
an engine has — with Generate and Stop. Controls an engine lacks are greyed out with the reason.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.models import SynthesisRequest
from app.ui.widgets.voice_picker import VoiceChoice, VoicePicker

logger = logging.getLogger(__name__)

SECONDS_PER_CHAR = 0.065
"""A rough speaking rate (about 15 characters a second) for the length estimate under the text."""
LANGUAGE_NAMES = {
    "en-us": "English (US)",
    "en-gb": "English (UK)",
    "es": "Spanish",
    "fr-fr": "French",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "pt-br": "Portuguese (Brazil)",
    "cmn": "Chinese (Mandarin)",
    "zh": "Chinese",
    "de": "German",
    "ko": "Korean",
    "ru": "Russian",
    "pt": "Portuguese",
}


@dataclass(frozen=True)
class GenerationSpec:
    """A job the composer asks for: the request and, when a profile's voice is used, the profile."""

    request: SynthesisRequest
    choice: VoiceChoice | None
    profile_id: int | None = None


def _language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


class ComposerPanel(QWidget):
    """Text and voice settings; emits :attr:`generateRequested` with a :class:`GenerationSpec`."""

    generateRequested = Signal(object)  # noqa: N815 - Qt naming
    stopRequested = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engines: dict[str, dict[str, Any]] = {}
        self._all_choices: list[VoiceChoice] = []
        self._busy = False

        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Type or paste what Timbre should say…")
        self.text.setAccessibleName("Text to speak")
        self.text.setTabChangesFocus(True)
        self.text.textChanged.connect(self._text_changed)
        self.text.setMinimumHeight(90)

        self.length_label = QLabel()
        self.length_label.setObjectName("hint")

        self.engine = QComboBox()
        self.engine.setAccessibleName("Engine")
        self.engine.setToolTip("The speech engine. Controls it does not have are greyed out.")
        self.engine.currentIndexChanged.connect(self._engine_changed)
        self.voice = VoicePicker()
        self.voice.setAccessibleName("Voice")
        self.voice.choiceChanged.connect(lambda _choice: self._update_enabled())
        self.language = QComboBox()
        self.language.setAccessibleName("Language")
        self.speed = QDoubleSpinBox()
        self.speed.setRange(0.5, 2.0)
        self.speed.setSingleStep(0.05)
        self.speed.setValue(1.0)
        self.speed.setSuffix("×")
        self.speed.setAccessibleName("Speed")
        self.speed.setToolTip("1.0× is the voice's natural pace.")

        self.instruct = QLineEdit()
        self.instruct.setAccessibleName("Style or voice description")
        self.instruct.setClearButtonEnabled(True)
        self.instruct.textChanged.connect(lambda _text: self._update_enabled())
        self.instruct_label = QLabel("Style")
        self.instruct_label.setObjectName("caption")
        self.instruct_label.setBuddy(self.instruct)
        instruct_row = QHBoxLayout()
        instruct_row.setSpacing(8)
        instruct_row.addWidget(self.instruct_label)
        instruct_row.addWidget(self.instruct, 1)

        row = QHBoxLayout()
        row.setSpacing(8)
        for label, widget, stretch in (
            ("Engine", self.engine, 1),
            ("Voice", self.voice, 2),
            ("Language", self.language, 1),
            ("Speed", self.speed, 0),
        ):
            box = QVBoxLayout()
            box.setSpacing(2)
            caption = QLabel(label)
            caption.setObjectName("caption")
            caption.setBuddy(widget)
            box.addWidget(caption)
            box.addWidget(widget)
            row.addLayout(box, stretch)

        self.advanced = QToolButton()
        self.advanced.setText("Advanced")
        self.advanced.setCheckable(True)
        self.advanced.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced.setAutoRaise(True)
        self.advanced.setToolTip("Sampling parameters and the seed")
        self.advanced.toggled.connect(self._advanced_toggled)
        self.temperature = self._double(0.05, 2.0, 0.05, 0.9, "Temperature")
        self.top_p = self._double(0.05, 1.0, 0.05, 1.0, "Top-p")
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 200)
        self.top_k.setValue(50)
        self.top_k.setAccessibleName("Top-k")
        self.repetition_penalty = self._double(1.0, 2.0, 0.05, 1.05, "Repetition penalty")
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setSpecialValueText("Random")
        self.seed.setValue(-1)
        self.seed.setAccessibleName("Seed")
        self.seed.setToolTip("The same seed gives the same take on engines that sample. Random picks one.")
        self.dice = QToolButton()
        self.dice.setText("🎲")
        self.dice.setToolTip("Pick a random seed")
        self.dice.setAccessibleName("Random seed")
        self.dice.clicked.connect(self.roll_seed)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.dice)
        self._advanced_body = QWidget()
        form = QFormLayout(self._advanced_body)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        form.addRow("Top-k", self.top_k)
        form.addRow("Repetition penalty", self.repetition_penalty)
        form.addRow("Seed", seed_row)
        self._advanced_body.setVisible(False)

        self.generate_button = QPushButton("Generate")
        self.generate_button.setDefault(True)
        self.generate_button.setToolTip("Generate and play (⌘↩)")
        self.generate_button.clicked.connect(self.generate)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop generating (Esc)")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stopRequested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        buttons = QHBoxLayout()
        buttons.addWidget(self.advanced)
        buttons.addWidget(self.length_label)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.generate_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.text, 1)
        layout.addLayout(row)
        layout.addLayout(instruct_row)
        layout.addLayout(buttons)
        layout.addWidget(self._advanced_body)
        layout.addWidget(self.progress)
        self._text_changed()

    @staticmethod
    def _double(low: float, high: float, step: float, value: float, name: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(low, high)
        box.setSingleStep(step)
        box.setValue(value)
        box.setAccessibleName(name)
        return box

    # --- content ------------------------------------------------------------------------------------
    def set_catalogue(self, catalogue: list[dict[str, Any]]) -> None:
        """The engines (as :func:`app.services.catalog.catalogue` lists them) the engine picker offers."""
        current = self.engine.currentData()
        self._engines = {e["id"]: e for e in catalogue}
        self.engine.blockSignals(True)
        self.engine.clear()
        for entry in catalogue:
            label = entry["name"] if entry["available"] else f"{entry['name']} (not installed)"
            self.engine.addItem(label, entry["id"])
            if not entry["available"]:
                index = self.engine.count() - 1
                self.engine.setItemData(index, entry.get("reason", ""), Qt.ItemDataRole.ToolTipRole)
        index = self.engine.findData(current)
        self.engine.setCurrentIndex(max(0, index))
        self.engine.blockSignals(False)
        self._engine_changed()

    def set_choices(self, choices: list[VoiceChoice]) -> None:
        """Every voice (built-in and the user's profiles); the picker shows the current engine's."""
        self._all_choices = list(choices)
        self._fill_voices()

    def select_voice(self, key: str) -> bool:
        """Pick a voice by key (``engine:voice`` or ``profile:<id>``), switching engine if needed."""
        choice = next((c for c in self._all_choices if c.key == key), None)
        if choice is None:
            return False
        index = self.engine.findData(choice.engine)
        if index >= 0 and index != self.engine.currentIndex():
            self.engine.setCurrentIndex(index)
        return self.voice.select(key)

    def current_engine(self) -> dict[str, Any] | None:
        return self._engines.get(self.engine.currentData())

    def _fill_voices(self) -> None:
        engine = self.engine.currentData()
        entry = self._engines.get(engine)
        fallback = f"{engine}:{entry['default_voice']}" if entry is not None else None
        self.voice.set_choices([c for c in self._all_choices if c.engine == engine], fallback=fallback)
        self._update_enabled()

    # --- reactions ----------------------------------------------------------------------------------
    def _engine_changed(self) -> None:
        entry = self.current_engine()
        self.language.clear()
        self.language.addItem("Automatic", None)
        if entry is not None:
            caps = entry["capabilities"]
            for code in caps["languages"]:
                self.language.addItem(_language_name(code), code)
            low, high = caps["speed_range"]
            self.speed.setRange(low, high)
        # Said before the wait, not after; the whole sentence is in the tooltip.
        warning = entry.get("warning", "") if entry is not None else ""
        self.set_status("⚠ Slower than real time here" if warning else "")
        self.status.setToolTip(warning)
        self._fill_voices()

    def _advanced_toggled(self, on: bool) -> None:
        self.advanced.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self._advanced_body.setVisible(on)

    def _text_changed(self) -> None:
        chars = len(self.text.toPlainText().strip())
        if chars == 0:
            self.length_label.setText("")
        else:
            seconds = chars * SECONDS_PER_CHAR / max(self.speed.value(), 0.1)
            about = f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} min"
            self.length_label.setText(f"{chars:,} characters · {about}")
        self._update_enabled()

    def _update_enabled(self) -> None:
        entry = self.current_engine()
        caps = entry["capabilities"] if entry else {}
        name = entry["name"] if entry else "This engine"
        sampling = set(caps.get("sampling", ()))
        for key, widget, label in (
            ("temperature", self.temperature, "a temperature"),
            ("top_p", self.top_p, "top-p"),
            ("top_k", self.top_k, "top-k"),
            ("repetition_penalty", self.repetition_penalty, "a repetition penalty"),
        ):
            ok = key in sampling
            widget.setEnabled(ok)
            widget.setToolTip("" if ok else f"{name} does not use {label}.")
        seeded = bool(caps.get("seeded"))
        self.seed.setEnabled(seeded)
        self.dice.setEnabled(seeded)
        if not seeded:
            self.seed.setToolTip(f"{name} speaks the same way every time; it takes no seed.")
        languages = caps.get("languages", ())
        self.language.setEnabled(len(languages) > 1)
        design, styled = bool(caps.get("voice_design")), bool(caps.get("style_instructions"))
        for widget in (self.instruct, self.instruct_label):
            widget.setVisible(design or styled)
        if design:
            self.instruct_label.setText("Voice")
            self.instruct.setPlaceholderText(
                "Describe the voice: “A calm, deep male voice with a slight rasp.”"
            )
            self.instruct.setToolTip(f"{name} makes a new voice from this description.")
        elif styled:
            self.instruct_label.setText("Style")
            self.instruct.setPlaceholderText("How to say it (optional): “Very happy.”, “Whispering, slowly.”")
            self.instruct.setToolTip(f"{name} follows a speaking style given in words.")
        ready = bool(self.text.toPlainText().strip()) and entry is not None and entry["available"]
        ready = ready and (not design or bool(self.instruct.text().strip()))
        choice = self.voice.current()
        ready = ready and (choice is None or choice.available)
        self.generate_button.setEnabled(ready and not self._busy)

    # --- actions ------------------------------------------------------------------------------------
    def roll_seed(self) -> None:
        self.seed.setValue(secrets.randbelow(2**31 - 1))

    def spec(self) -> GenerationSpec | None:
        """The job as the controls describe it; ``None`` when there is nothing to say."""
        text = self.text.toPlainText().strip()
        entry = self.current_engine()
        if not text or entry is None:
            return None
        choice = self.voice.current()
        caps = entry["capabilities"]
        sampling = set(caps.get("sampling", ()))
        adv = self.advanced.isChecked()  # hidden parameters are not sent: what you see is what you get

        def param(name: str, value: float) -> Any:
            return value if adv and name in sampling else None

        seed = self.seed.value() if caps.get("seeded") and self.seed.value() >= 0 else None
        request = SynthesisRequest(
            text=text,
            voice=choice.voice if choice is not None else None,
            engine=entry["id"],
            speed=round(self.speed.value(), 2),
            language=self.language.currentData(),
            seed=seed,
            temperature=param("temperature", self.temperature.value()),
            top_p=param("top_p", self.top_p.value()),
            top_k=param("top_k", self.top_k.value()),
            repetition_penalty=param("repetition_penalty", self.repetition_penalty.value()),
            instruct=(self.instruct.text().strip() or None)
            if caps.get("voice_design") or caps.get("style_instructions")
            else None,
        )
        return GenerationSpec(request, choice, choice.profile_id if choice is not None else None)

    def generate(self) -> None:
        if self._busy or not self.generate_button.isEnabled():
            return
        spec = self.spec()
        if spec is not None:
            self.generateRequested.emit(spec)

    def set_busy(self, busy: bool) -> None:
        """Between Generate and the end of the job: Stop is live, Generate waits."""
        self._busy = busy
        self.stop_button.setEnabled(busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
        self._update_enabled()

    def set_progress(self, fraction: float | None, text: str = "") -> None:
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        if text:
            self.status.setText(text)

    def set_status(self, text: str) -> None:
        self.status.setText(text)
