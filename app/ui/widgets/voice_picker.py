"""The voice picker: every voice Timbre can speak with, grouped ("Built-in voices" by engine, then "Your
voices"), with type-to-search.

It is an editable combo box whose completer filters by substring, so "brit" finds every British voice
among dozens; the drop-down list shows the groups. Group headings are rows that are neither enabled nor
selectable, which is what keeps the arrow keys, the mouse and the wheel off them; a guard also refuses
them when code sets the index. Voices that cannot speak now are listed greyed out, their reason as the
tooltip, so people see what exists and why it is off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QFont, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

logger = logging.getLogger(__name__)

BUILT_IN = "Built-in voices"
YOURS = "Your voices"
NEEDS_MATCH = "Match a built-in voice first"

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
HEADING_ROLE = Qt.ItemDataRole.UserRole + 2
"""1 for a group heading, 2 for an engine heading inside a group; absent on voices."""


@dataclass(frozen=True)
class VoiceChoice:
    """One entry of the picker: a built-in voice or one of the user's profiles."""

    key: str
    label: str
    group: str
    engine: str
    voice: str
    profile_id: int | None = None
    language: str = ""
    available: bool = True
    note: str = ""
    engine_name: str = ""
    """The engine as people know it ("Kokoro-82M (ONNX)"), for the headings; the id when empty."""


def _clone_choices(engine: dict[str, Any], profiles: list[Any]) -> list[VoiceChoice]:
    """Each profile as a voice of a cloning engine: cloned from its own recordings."""
    result = []
    minimum = float(engine["capabilities"].get("min_reference_seconds") or 0.0)
    for profile in profiles:
        samples = list(getattr(profile, "samples", []) or [])
        seconds = float(sum(getattr(s, "duration", 0.0) for s in samples))
        if not engine.get("available"):
            available, note = False, engine.get("reason") or f"{engine['name']} cannot speak right now."
        elif not samples:
            available, note = False, "Add a recording of this voice to clone it."
        elif seconds < minimum:
            available, note = False, f"Needs {minimum:.0f} s of recordings to clone; it has {seconds:.1f} s."
        else:
            count = f"{len(samples)} recording{'s' if len(samples) != 1 else ''}"
            available, note = True, f"Cloned from {count} ({seconds:.0f} s) by {engine['name']}."
        result.append(
            VoiceChoice(
                key=f"clone:{engine['id']}:{profile.id}",
                label=profile.name,
                group=YOURS,
                engine=engine["id"],
                voice=engine.get("default_voice") or "",
                profile_id=profile.id,
                language=profile.language or "",
                available=available,
                note=note,
                engine_name=engine["name"],
            )
        )
    return result


def choices_from_catalogue(catalogue: list[dict[str, Any]], profiles: Iterable[Any]) -> list[VoiceChoice]:
    """Choices from :func:`app.services.catalog.catalogue` and profiles (``id``, ``name``, ``language``,
    ``preferred_engine``, ``preferred_voice``): built-in voices first, then the user's.

    A profile speaks through the built-in voice it was matched to; one without a match is listed but off.
    """
    choices: list[VoiceChoice] = []
    built_in: dict[tuple[str, str], VoiceChoice] = {}
    names: dict[str, str] = {}
    for engine in catalogue:
        names[engine["id"]] = engine["name"]
        for voice in engine.get("voices", []):
            usable = bool(engine.get("available")) and bool(voice.get("available", True))
            note = voice.get("note") or ("" if engine.get("available") else engine.get("reason") or "")
            if not usable and not note:
                note = f"{engine['name']} cannot speak right now."
            choice = VoiceChoice(
                key=f"{engine['id']}:{voice['id']}",
                label=voice.get("name") or voice["id"],
                group=BUILT_IN,
                engine=engine["id"],
                voice=voice["id"],
                language=voice.get("language") or "",
                available=usable,
                note=note,
                engine_name=engine["name"],
            )
            built_in[(choice.engine, choice.voice)] = choice
            choices.append(choice)
    profiles = list(profiles)
    for engine in catalogue:
        if engine["capabilities"].get("clone_from_reference"):
            choices.extend(_clone_choices(engine, profiles))
    for profile in profiles:
        engine, voice = profile.preferred_engine, profile.preferred_voice
        # A match may be a blend ("bf_alice:0.6,bf_emma:0.4"): every voice in it must be installed.
        parts = [p.split(":")[0].strip() for p in (voice or "").split(",") if p.strip()]
        found = [built_in.get((engine, part)) for part in parts] if engine else []
        missing = [part for part, hit in zip(parts, found, strict=True) if hit is None]
        if not (engine and voice):
            available, note = False, NEEDS_MATCH
        elif not found or missing:
            available, note = (
                False,
                f"Its matched voice ({', '.join(missing) or voice} on {engine}) is not installed.",
            )
        elif not all(hit.available for hit in found if hit is not None):
            available, note = False, next(h.note for h in found if h is not None and not h.available)
        else:
            heard = " + ".join(h.label.split(" (")[0] for h in found if h is not None)
            available, note = True, f"Speaks as {heard} ({found[0].engine_name})."
        choices.append(
            VoiceChoice(
                key=f"profile:{profile.id}",
                label=profile.name,
                group=YOURS,
                engine=engine or "",
                voice=voice or "",
                profile_id=profile.id,
                language=profile.language or (found[0].language if found and found[0] else ""),
                available=available,
                note=note,
                engine_name=names.get(engine or "", engine or ""),
            )
        )
    return choices


class _Selectable(QSortFilterProxyModel):
    """The rows a person can pick (no headings, nothing greyed out): what the search offers."""

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        index = self.sourceModel().index(row, 0, parent)
        return bool(self.sourceModel().flags(index) & Qt.ItemFlag.ItemIsSelectable)


class _Delegate(QStyledItemDelegate):
    """Draws headings as quiet section titles rather than as greyed-out entries."""

    def paint(self, painter: Any, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        level = index.data(HEADING_ROLE)
        if not level:
            super().paint(painter, option, index)
            return
        font = QFont(option.font)
        font.setBold(True)
        role = QPalette.ColorRole.WindowText
        if level == 2:
            font.setPointSizeF(max(8.0, font.pointSizeF() - 1))
            role = QPalette.ColorRole.PlaceholderText
        painter.save()
        painter.setFont(font)
        painter.setPen(option.palette.color(QPalette.ColorGroup.Active, role))
        margin = option.widget.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 4
        rect = option.rect.adjusted(margin, 0, -margin, 0)
        painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, index.data())
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        size = super().sizeHint(option, index)
        if index.data(HEADING_ROLE) == 1:
            size.setHeight(size.height() + 6)  # a little air above each group
        return size


class VoicePicker(QComboBox):
    """Pick a voice; type to search. ``choiceChanged`` carries the new :class:`VoiceChoice` (or ``None``)."""

    choiceChanged = Signal(object)  # noqa: N815 - Qt naming

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = QStandardItemModel(self)
        self.setModel(self._model)
        self._choices: dict[str, VoiceChoice] = {}
        self._current_key: str | None = None
        self._last_row = -1
        self._guarding = False

        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMaxVisibleItems(18)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(18)
        self.setItemDelegate(_Delegate(self))
        self.lineEdit().setPlaceholderText("Search voices…")
        self.lineEdit().setClearButtonEnabled(False)
        self.lineEdit().editingFinished.connect(self._restore_text)

        self._searchable = _Selectable(self)
        self._searchable.setSourceModel(self._model)
        completer = QCompleter(self._searchable, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setMaxVisibleItems(12)
        self.setCompleter(completer)

        self.setAccessibleName("Voice")
        self.setToolTip("The voice to speak with. Type to search by name or language.")
        self.currentIndexChanged.connect(self._on_index_changed)

    # -- public API ---------------------------------------------------------------------------------

    def set_choices(self, choices: list[VoiceChoice], fallback: str | None = None) -> None:
        """Show ``choices``, keeping the current voice when it is still there and usable; otherwise
        ``fallback`` (say the engine's default voice) when usable, else the first usable voice."""
        previous = self._current_key
        self._guarding = True
        try:
            self._model.clear()
            self._choices = {}
            for group, members in _grouped(choices).items():
                self._model.appendRow(_heading(group, 1))
                engines = _grouped(members, by_engine=True)
                show_engines = len(engines) > 1 and all(c.profile_id is None for c in members)
                for engine, voices in engines.items():
                    if show_engines:
                        self._model.appendRow(_heading(voices[0].engine_name or engine, 2))
                    for choice in voices:
                        self._model.appendRow(self._item(choice))
                        self._choices[choice.key] = choice
            keep = next((key for key in (previous, fallback) if key is not None and self._usable(key)), None)
            row = self._row(keep) if keep is not None else self._first_usable_row()
            self.setCurrentIndex(row)
            self._last_row = row
        finally:
            self._guarding = False
        self._settle(self._key_at(self.currentIndex()))

    def choices(self) -> list[VoiceChoice]:
        return list(self._choices.values())

    def current(self) -> VoiceChoice | None:
        return self._choices.get(self._current_key) if self._current_key is not None else None

    def select(self, key: str) -> bool:
        """Make ``key`` the current voice; False (and nothing changes) for headings, greyed-out or unknown."""
        if not self._usable(key):
            return False
        self.setCurrentIndex(self._row(key))
        return True

    def is_selectable_row(self, row: int) -> bool:
        index = self._model.index(row, 0)
        return index.isValid() and bool(self._model.flags(index) & Qt.ItemFlag.ItemIsSelectable)

    # -- internals ----------------------------------------------------------------------------------

    def _item(self, choice: VoiceChoice) -> QStandardItem:
        item = QStandardItem(choice.label)
        item.setData(choice.key, KEY_ROLE)
        item.setEditable(False)
        engine = choice.engine_name or choice.engine
        detail = " · ".join(part for part in (engine, choice.language) if part)
        if choice.available:
            item.setToolTip(choice.note or detail)
        else:
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setToolTip(choice.note or "This voice cannot speak right now.")
        item.setData(f"{choice.label}, {detail}", Qt.ItemDataRole.AccessibleTextRole)
        return item

    def _usable(self, key: str) -> bool:
        choice = self._choices.get(key)
        return choice is not None and choice.available

    def _row(self, key: str) -> int:
        for row in range(self._model.rowCount()):
            if self._model.item(row).data(KEY_ROLE) == key:
                return row
        return -1

    def _first_usable_row(self) -> int:
        return next((row for row in range(self._model.rowCount()) if self.is_selectable_row(row)), -1)

    def _key_at(self, row: int) -> str | None:
        item = self._model.item(row) if row >= 0 else None
        return item.data(KEY_ROLE) if item is not None else None

    def _on_index_changed(self, row: int) -> None:
        if self._guarding:
            return
        if row >= 0 and not self.is_selectable_row(row):
            # A heading or a greyed-out voice reached by code (or by typing its exact name): step back.
            self._guarding = True
            try:
                self.setCurrentIndex(self._last_row)
            finally:
                self._guarding = False
            return
        self._last_row = row
        self._settle(self._key_at(row))

    def _settle(self, key: str | None) -> None:
        self.lineEdit().setCursorPosition(0)  # show a long name from its start, not its end
        if key == self._current_key:
            return
        self._current_key = key
        choice = self.current()
        if choice is not None:
            engine = choice.engine_name or choice.engine
            self.setToolTip(f"{choice.label} — {engine}. Type to search by name or language.")
        self.choiceChanged.emit(choice)

    def _restore_text(self) -> None:
        """Typed text that picked nothing gives way to the current voice's name when editing ends."""
        wanted = self.itemText(self.currentIndex()) if self.currentIndex() >= 0 else ""
        if self.lineEdit().text() != wanted:
            self.lineEdit().setText(wanted)
        self.lineEdit().setCursorPosition(0)


def _heading(text: str, level: int) -> QStandardItem:
    item = QStandardItem(text)
    item.setFlags(Qt.ItemFlag.NoItemFlags)
    item.setData(level, HEADING_ROLE)
    item.setData(f"{text} (heading)", Qt.ItemDataRole.AccessibleTextRole)
    return item


def _grouped(choices: Iterable[VoiceChoice], by_engine: bool = False) -> dict[str, list[VoiceChoice]]:
    """Choices bucketed by group (or engine), in the order each bucket first appears."""
    buckets: dict[str, list[VoiceChoice]] = {}
    for choice in choices:
        buckets.setdefault(choice.engine if by_engine else choice.group, []).append(choice)
    return buckets
