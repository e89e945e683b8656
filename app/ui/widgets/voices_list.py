"""The two halves of the Voices panel's body: the list of voice profiles (renamed in place) and the
details of the one selected — its recordings, what each says (editable), their quality warnings and the
built-in voice it was matched to.

Profiles arrive as the service's objects and are read by attribute only (``name``, ``samples``,
``total_seconds``…), so the UI never imports the storage layer that defines them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QLocale, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)

ID_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2
WARNING = "⚠"


def language_name(code: str | None) -> str:
    """ "en" → "English"; the code itself when Qt does not know it; "" when there is none."""
    if not code:
        return ""
    locale = QLocale(code)
    if locale.language() == QLocale.Language.C:
        return code
    return QLocale.languageToString(locale.language())


def sample_warnings(sample: Any) -> list[str]:
    quality = getattr(sample, "quality", None) or {}
    return [str(w) for w in quality.get("warnings", []) or []]


def profile_warnings(profile: Any) -> list[str]:
    """Every quality warning of the profile's recordings, each saying which recording it is about."""
    lines = []
    for sample in profile.samples:
        source = (getattr(sample, "quality", None) or {}).get("source")
        lines += [f"{source}: {w}" if source else w for w in sample_warnings(sample)]
    return lines


def summary(profile: Any) -> str:
    """ "2 recordings · 18.3 s · English"."""
    count = len(profile.samples)
    parts = [f"{count} recording{'s' if count != 1 else ''}", f"{profile.total_seconds:.1f} s"]
    if profile.language:
        parts.append(language_name(profile.language))
    return " · ".join(parts)


class _NameDelegate(QStyledItemDelegate):
    """Edits a row's name (not its two-line label) and hands the new name to the panel to store."""

    renameRequested = Signal(int, str)  # noqa: N815 - Qt naming

    def createEditor(self, parent: QWidget, _option: QStyleOptionViewItem, _index: QModelIndex) -> QWidget:  # noqa: N802
        editor = QLineEdit(parent)
        editor.setAccessibleName("New name of the voice")
        editor.setAcceptDrops(False)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
        assert isinstance(editor, QLineEdit)
        editor.setText(str(index.data(NAME_ROLE) or ""))
        editor.selectAll()

    def setModelData(  # noqa: N802
        self, editor: QWidget, _model: QAbstractItemModel, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        # The model is only a view of the library: the rename goes to the service, and the refreshed
        # list shows the name as stored (or the old one, with a message, when it was refused).
        assert isinstance(editor, QLineEdit)
        new, old = editor.text().strip(), str(index.data(NAME_ROLE) or "")
        if new and new != old:
            self.renameRequested.emit(int(index.data(ID_ROLE)), new)

    def updateEditorGeometry(  # noqa: N802
        self, editor: QWidget, option: QStyleOptionViewItem, _index: QModelIndex | QPersistentModelIndex
    ) -> None:
        rect = option.rect  # type: ignore[attr-defined]
        editor.setGeometry(rect.left(), rect.top(), rect.width(), editor.sizeHint().height())


class ProfileList(QListView):
    """Voice profiles by name, with their size and language; F2 renames in place."""

    profileSelected = Signal(object)  # noqa: N815 - profile id, or None
    renameRequested = Signal(int, str)  # noqa: N815 - profile id, new name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Voice profiles")
        self.model_ = QStandardItemModel(self)
        self.setModel(self.model_)
        self.delegate = _NameDelegate(self)
        self.delegate.renameRequested.connect(self.renameRequested)
        self.setItemDelegate(self.delegate)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # F2 and the menu call edit()
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(False)
        self.setSpacing(2)
        self.setAcceptDrops(False)  # drops go to the panel
        self.selectionModel().currentChanged.connect(lambda current, _prev: self._announce(current))

    def add_action(self, text: str, slot: Callable[[], Any], *keys: QKeySequence) -> QAction:
        """A command on the selected profile: in the context menu, and on ``keys`` when the list has focus."""
        action = QAction(text, self)
        action.setShortcuts(list(keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        return action

    def set_profiles(self, profiles: list[Any]) -> None:
        """Show ``profiles``, keeping the selection on the same profile when it is still there."""
        keep = self.current_id()
        self.model_.clear()
        for profile in profiles:
            warnings = profile_warnings(profile)
            title = f"{profile.name}  {WARNING}" if warnings else profile.name
            item = QStandardItem(f"{title}\n{summary(profile)}")
            item.setData(profile.id, ID_ROLE)
            item.setData(profile.name, NAME_ROLE)
            item.setFlags(
                Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsEditable
            )
            tip = [profile.name, summary(profile)]
            if profile.preferred_voice:
                tip.append(f"Built-in voice: {profile.preferred_voice}")
            tip += [f"{WARNING} {w}" for w in warnings]
            item.setToolTip("\n".join(tip))
            item.setData(f"{profile.name}, {summary(profile)}", Qt.ItemDataRole.AccessibleTextRole)
            self.model_.appendRow(item)
        if keep is not None and self.select(keep):
            return
        self._announce(self.currentIndex())

    def ids(self) -> list[int]:
        return [int(self.model_.item(row).data(ID_ROLE)) for row in range(self.model_.rowCount())]

    def current_id(self) -> int | None:
        index = self.currentIndex()
        return (
            int(index.data(ID_ROLE)) if index.isValid() and self.selectionModel().isSelected(index) else None
        )

    def select(self, profile_id: int) -> bool:
        for row in range(self.model_.rowCount()):
            if self.model_.item(row).data(ID_ROLE) == profile_id:
                index = self.model_.index(row, 0)
                self.setCurrentIndex(index)
                self.scrollTo(index)
                self._announce(index)
                return True
        return False

    def rename_current(self) -> None:
        if self.current_id() is not None:
            self.edit(self.currentIndex())

    def _announce(self, index: QModelIndex) -> None:
        self.profileSelected.emit(int(index.data(ID_ROLE)) if index.isValid() else None)


class ProfileDetails(QWidget):
    """One profile: its recordings with their durations, what each says, warnings, and matched voice."""

    transcriptSaveRequested = Signal(int, str)  # noqa: N815 - sample id, text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profile: Any = None
        self._sample_id: int | None = None
        self._original = ""
        self.title = QLabel(self)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel(self)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.voice = QLabel(self)
        self.voice.setWordWrap(True)
        self.voice.setAccessibleName("Matched built-in voice")
        self.warnings = QLabel(self)
        self.warnings.setWordWrap(True)
        self.warnings.setAccessibleName("Quality warnings")
        self.samples = QListWidget(self)
        self.samples.setAccessibleName("Recordings of this voice")
        self.samples.setAcceptDrops(False)
        self.samples.currentItemChanged.connect(lambda item, _prev: self._show_sample(item))
        self.transcript_label = QLabel("What is said in this recording:", self)
        self.transcript = QPlainTextEdit(self)
        self.transcript.setAccessibleName("Transcript of the recording")
        self.transcript.setToolTip(
            "Correct any words the transcription got wrong; voices copy better with an exact transcript."
        )
        self.transcript.setAcceptDrops(False)
        self.transcript.setTabChangesFocus(True)
        self.transcript.setMaximumHeight(110)
        self.transcript_label.setBuddy(self.transcript)
        self.transcript.textChanged.connect(self._update_save)
        self.save = QPushButton("Save Transcript", self)
        self.save.setAccessibleName("Save the transcript")
        keys = QKeySequence(QKeySequence.StandardKey.Save).toString(QKeySequence.SequenceFormat.NativeText)
        self.save.setToolTip(f"Keep the corrected transcript ({keys})")
        self.save.clicked.connect(self._save)
        QShortcut(
            QKeySequence.StandardKey.Save, self, self._save, Qt.ShortcutContext.WidgetWithChildrenShortcut
        )
        self.revert = QPushButton("Revert", self)
        self.revert.setAccessibleName("Undo changes to the transcript")
        self.revert.clicked.connect(lambda: self.transcript.setPlainText(self._original))

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert)
        buttons.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        for widget in (self.title, self.summary, self.description, self.voice, self.warnings):
            layout.addWidget(widget)
        layout.addWidget(self.samples, 1)
        layout.addWidget(self.transcript_label)
        layout.addWidget(self.transcript)
        layout.addLayout(buttons)
        self.show_profile(None)

    @property
    def dirty(self) -> bool:
        return self._sample_id is not None and self.transcript.toPlainText() != self._original

    def show_profile(self, profile: Any) -> None:
        """Show ``profile`` (``None`` clears the view), keeping an unsaved transcript edit if its
        recording's stored transcript did not change underneath it."""
        same = profile is not None and self.profile is not None and profile.id == self.profile.id
        keep_sample = self._sample_id if same else None
        edited = self.transcript.toPlainText() if same and self.dirty else None
        self.profile = profile
        self.setVisible(profile is not None)
        if profile is None:
            self._sample_id = None
            return
        self.title.setText(profile.name)
        self.summary.setText(summary(profile))
        self.description.setText(profile.description or "")
        self.description.setVisible(bool(profile.description))
        if profile.preferred_voice:
            engine = f" ({profile.preferred_engine.capitalize()})" if profile.preferred_engine else ""
            self.voice.setText(f"Closest built-in voice: {profile.preferred_voice}{engine}")
        else:
            self.voice.setText(
                "No built-in voice matched yet — “Match a Built-in Voice” finds the closest one."
            )
        warnings = profile_warnings(profile)
        self.warnings.setText("\n".join(f"{WARNING} {w}" for w in warnings))
        self.warnings.setVisible(bool(warnings))

        self.samples.blockSignals(True)
        self.samples.clear()
        chosen = None
        for number, sample in enumerate(profile.samples, 1):
            source = (sample.quality or {}).get("source")
            text = f"Recording {number} — {sample.duration:.1f} s"
            text += f" (from {source})" if source else ""
            text += f"  {WARNING}" if sample_warnings(sample) else ""
            item = QListWidgetItem(text, self.samples)
            item.setData(ID_ROLE, sample.id)
            item.setToolTip("\n".join([sample.transcript or "(no transcript)", *sample_warnings(sample)]))
            if sample.id == keep_sample or chosen is None:
                chosen = item
        self.samples.blockSignals(False)
        if not profile.samples:
            self.samples.addItem("This voice has no recordings yet.")
            self.samples.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
        self.samples.setCurrentItem(chosen)
        self._show_sample(
            chosen, edited if chosen is not None and chosen.data(ID_ROLE) == keep_sample else None
        )

    def sample_id(self) -> int | None:
        return self._sample_id

    def _show_sample(self, item: QListWidgetItem | None, edited: str | None = None) -> None:
        sample = None
        if item is not None and self.profile is not None:
            sample = next((s for s in self.profile.samples if s.id == item.data(ID_ROLE)), None)
        self._sample_id = sample.id if sample is not None else None
        self._original = sample.transcript if sample is not None else ""
        self.transcript.blockSignals(True)
        self.transcript.setPlainText(edited if edited is not None else self._original)
        self.transcript.blockSignals(False)
        for widget in (self.transcript, self.transcript_label):
            widget.setEnabled(sample is not None)
        self._update_save()

    def _update_save(self) -> None:
        self.save.setEnabled(self.dirty and bool(self.transcript.toPlainText().strip()))
        self.revert.setEnabled(self.dirty)

    def _save(self) -> None:
        if self.save.isEnabled() and self._sample_id is not None:
            self.transcriptSaveRequested.emit(self._sample_id, self.transcript.toPlainText())
