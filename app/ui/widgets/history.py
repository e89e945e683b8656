"""The History panel: every generation, newest first, searchable as you type, with the actions a person
takes on one (play, show in the timeline, regenerate, favourite, export, copy, delete with undo).

Favourite, delete and undo are done here through the :class:`HistoryService` (quick SQLite writes); play,
show, regenerate and export need the rest of the window, so they are signals carrying the generation's id.
Errors never open a dialog here: they leave as ``errorRaised(message)`` for the window to show.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import TimbreError
from app.services.history import Generation, HistoryFilter, HistoryService, NotFoundError
from app.ui.widgets.history_model import (
    DATE_CHOICES,
    STAR,
    STAR_COLOUR,
    HistoryModel,
    HistoryView,
    IdRole,
    one_line,
    since,
)

logger = logging.getLogger(__name__)

SEARCH_DELAY_MS = 150
UNDO_SECONDS = 8
_PLAY_KEY = "⌘↩" if sys.platform == "darwin" else "Ctrl+Enter"
EMPTY_LIBRARY = f"No generations yet. Type some text and press {_PLAY_KEY} to hear it."
NO_FILTER_MATCH = "No generations match these filters."


def nothing_matches(query: str) -> str:
    return f"Nothing matches “{query}”."


def _keys(standard: QKeySequence.StandardKey) -> str:
    return QKeySequence(standard).toString(QKeySequence.SequenceFormat.NativeText)


def _glyph_icon(glyph: str, colour: Any) -> QIcon:
    """An icon drawn from a text glyph (Qt has no standard star icon)."""
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    font = painter.font()
    font.setPixelSize(26)
    painter.setFont(font)
    painter.setPen(colour)
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, glyph)
    painter.end()
    return QIcon(pixmap)


class HistoryPanel(QWidget):
    """Browse, search and act on saved generations. Construct with the window's :class:`HistoryService`."""

    playRequested = Signal(int)  # noqa: N815
    showRequested = Signal(int)  # noqa: N815
    regenerateRequested = Signal(int)  # noqa: N815
    exportRequested = Signal(int)  # noqa: N815
    errorRaised = Signal(str)  # noqa: N815
    selectionChanged = Signal(object)  # noqa: N815 - the selected id, or None

    def __init__(self, history: HistoryService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._history = history
        self._model = HistoryModel(history, self)
        self._model.loadFailed.connect(self._fail)
        self._deleted: list[int] = []
        """Ids this panel moved to the trash, newest last: what Undo may bring back."""
        self._engines: set[str] = set()
        self._voices: set[str] = set()
        self._last_selected: int | None = None
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply)
        self._undo_timer = QTimer(self, singleShot=True, interval=UNDO_SECONDS * 1000)
        self._undo_timer.timeout.connect(self._hide_undo)
        self._build()
        self._build_actions()
        self._fill(self.engine, "All engines", set())
        self._fill(self.voice, "All voices", set())
        self._refresh_choices()
        self._apply()

    # --- building ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.setAccessibleName("History")
        self.search = QLineEdit(self, placeholderText="Search history", clearButtonEnabled=True)
        self.search.setAccessibleName("Search history")
        self.search.setToolTip(f"Find generations by their words ({_keys(QKeySequence.StandardKey.Find)})")
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.search.installEventFilter(self)
        self.favourites = QToolButton(self, text=f"{STAR} Favourites", checkable=True)
        self.favourites.setAccessibleName("Only favourites")
        self.favourites.setToolTip("Show only favourites")
        self.engine = self._combo("Engine", "Only generations made with this engine")
        self.voice = self._combo("Voice", "Only generations in this voice")
        self.date = self._combo("Date", "Only generations made in this time")
        for label, value in DATE_CHOICES:
            self.date.addItem(label, value)
        filters = QHBoxLayout()
        filters.setSpacing(6)
        filters.addWidget(self.favourites)
        for combo in (self.engine, self.voice, self.date):
            filters.addWidget(combo, 1)

        self.view = HistoryView(self._model, self)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(lambda index: self._emit(self.showRequested, index.data(IdRole)))
        self.view.selectionModel().selectionChanged.connect(self._selection_moved)
        self.view.typed.connect(self._type_into_search)
        # The engine and voice menus also learn from every page scrolled into view.
        self._model.rowsInserted.connect(
            lambda _parent, first, last: self._note_generations(self._model.generations()[first : last + 1])
        )
        self.empty = QLabel(self, alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True, margin=24)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)

        self.undo_bar = QFrame(self, frameShape=QFrame.Shape.StyledPanel, autoFillBackground=True)
        self.undo_bar.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.undo_label = QLabel(self.undo_bar)
        self.undo_button = QPushButton("Undo", self.undo_bar)
        self.undo_button.setAccessibleName("Undo delete")
        self.undo_button.setToolTip(f"Bring it back ({_keys(QKeySequence.StandardKey.Undo)})")
        self.undo_button.clicked.connect(self.undo)
        dismiss = QToolButton(self.undo_bar, text="✕", autoRaise=True, toolTip="Dismiss")
        dismiss.setAccessibleName("Dismiss")
        dismiss.clicked.connect(self._hide_undo)
        bar = QHBoxLayout(self.undo_bar)
        bar.setContentsMargins(8, 2, 2, 2)
        bar.addWidget(self.undo_label, 1)
        bar.addWidget(self.undo_button)
        bar.addWidget(dismiss)
        self.undo_bar.hide()

        self.count = QLabel(self)
        self.count.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.count.setAccessibleName("Number of generations")
        small = self.count.font()
        small.setPointSizeF(max(small.pointSizeF() - 1.5, 8.0))
        self.count.setFont(small)
        self._footer = QHBoxLayout()
        self._footer.setSpacing(2)
        self._footer.addWidget(self.count, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        for part in (self.search, filters, self.stack, self.undo_bar, self._footer):
            if isinstance(part, QWidget):
                layout.addWidget(part, 1 if part is self.stack else 0)
            else:
                layout.addLayout(part)
        self.favourites.toggled.connect(self._apply)
        for combo in (self.engine, self.voice, self.date):
            combo.currentIndexChanged.connect(self._apply)
        within = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence.StandardKey.Find, self, self.focus_search, within)
        # QLineEdit claims ⌘Z for itself, so in the search field it still undoes typing.
        QShortcut(QKeySequence.StandardKey.Undo, self, self.undo, within)

    def _combo(self, name: str, tip: str) -> QComboBox:
        combo = QComboBox(self, toolTip=tip)
        combo.setAccessibleName(name)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
        return combo

    def _build_actions(self) -> None:
        icon, key, std = self.style().standardIcon, Qt.Key, QStyle.StandardPixmap

        def action(
            text: str, slot: Callable[[], None], keys: list[Any], tip: str, icon: Any = None
        ) -> QAction:
            act = QAction(text, self.view)
            if icon is not None:
                act.setIcon(icon)
            act.setShortcuts([QKeySequence(k) for k in keys])
            # Only while the list has focus: Space and letters must still type into the search field.
            act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            hint = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            act.setToolTip(f"{tip} ({hint})" if hint else tip)
            act.triggered.connect(slot)
            self.view.addAction(act)
            return act

        def emit(signal: Any) -> Callable[[], None]:
            return lambda: self._emit(signal, self.selected_id())

        play_keys = [key.Key_Space, key.Key_Return, key.Key_Enter]
        delete_keys = [key.Key_Delete, key.Key_Backspace, "Ctrl+Backspace"]
        self.play_action = action("Play", emit(self.playRequested), play_keys, "Play", icon(std.SP_MediaPlay))
        self.show_action = action("Show in Timeline", emit(self.showRequested), [], "Show in the timeline")
        self.regenerate_action = action(
            "Regenerate", emit(self.regenerateRequested), [], "Say it again: same voice, settings and seed",
            icon(std.SP_BrowserReload),
        )  # fmt: skip
        self.favourite_action = action(
            "Favourite", self._toggle_favourite, [key.Key_F], "Favourite", _glyph_icon(STAR, STAR_COLOUR)
        )
        self.favourite_action.setCheckable(True)
        self.export_action = action(
            "Export…", emit(self.exportRequested), [], "Save a copy as WAV, FLAC, MP3 or M4A",
            icon(std.SP_DialogSaveButton),
        )  # fmt: skip
        self.copy_action = action("Copy Text", self._copy, [QKeySequence.StandardKey.Copy], "Copy the text")
        self.delete_action = action("Delete", self._delete, delete_keys, "Delete", icon(std.SP_TrashIcon))
        self._row_actions = [
            self.play_action, self.show_action, self.regenerate_action, self.favourite_action,
            self.export_action, self.copy_action, self.delete_action,
        ]  # fmt: skip
        for act in self._row_actions:
            if not act.icon().isNull():
                button = QToolButton(self, autoRaise=True)
                button.setDefaultAction(act)
                button.setAccessibleName(act.text().rstrip("…"))
                self._footer.addWidget(button)

    # --- public -----------------------------------------------------------------------------------------
    def focus_search(self) -> None:
        """Put the cursor in the search field with its text selected (what ⌘F does)."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def selected_id(self) -> int | None:
        return self.view.selected_id()

    def selected(self) -> Generation | None:
        gid = self.selected_id()
        row = self._model.row_of(gid) if gid is not None else None
        return self._model.generation(row) if row is not None else None

    def select(self, generation_id: int, max_pages: int = 10) -> bool:
        """Select (and scroll to) a generation, loading up to ``max_pages`` more pages to find it."""
        row = self._model.row_of(generation_id)
        for _ in range(max_pages):
            if row is not None or not self._model.canFetchMore():
                break
            self._model.fetchMore()
            row = self._model.row_of(generation_id)
        if row is not None:
            self.view.select_row(row)
        return row is not None

    def reload(self) -> None:
        """Ask the library again, keeping the search, the filters and (when still listed) the selection."""
        self._refresh_choices()
        self._apply()

    def add_generation(self, generation: Generation) -> None:
        """A generation was just saved: list it on top and select it, if it fits the search and filters."""
        self._note_generations([generation])
        if self._attempt(self._model.matches, generation.id):
            self._model.insert_top(generation)
            self.view.select_row(0)
        self._update_state()

    def undo(self) -> None:
        """Bring back what this panel deleted last."""
        if not self._deleted:
            return
        restored = self._attempt(self._history.undo)
        if restored is None:
            return
        if restored.id in self._deleted:
            self._deleted.remove(restored.id)
        self._hide_undo()
        self._apply()
        self.select(restored.id)

    def current_filter(self) -> HistoryFilter:
        return HistoryFilter(
            voice=self.voice.currentData(),
            engine=self.engine.currentData(),
            since=since(self.date.currentData()),
            favourites=self.favourites.isChecked(),
        )

    # --- querying ---------------------------------------------------------------------------------------
    def _attempt(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call the service; on failure tell the window (``errorRaised``) and return None."""
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never raised into Qt's event loop
            self._fail(exc)
            return None

    def _fail(self, exc: BaseException) -> None:
        if isinstance(exc, TimbreError):
            message = str(exc)
        else:
            logger.error("History action failed", exc_info=exc)
            message = f"Something went wrong with the history: {exc or type(exc).__name__}."
        self.errorRaised.emit(message)
        if isinstance(exc, NotFoundError):
            # Someone else (the command line, another window) changed the library: show it as it is now.
            self._apply()

    def _apply(self) -> None:
        """Query again with the current search and filters; the selection stays if its row is still listed."""
        self._search_timer.stop()
        keep = self.selected_id()
        self._attempt(self._model.set_query, self.search.text(), self.current_filter())
        if keep is not None:
            self.select(keep, max_pages=0)
        self._update_state()

    def _refresh_choices(self) -> None:
        engines, voices = self._attempt(self._history.facets) or ([], [])
        self._note_choices(set(engines), set(voices))

    def _note_generations(self, generations: list[Generation]) -> None:
        self._note_choices({g.engine for g in generations}, {g.voice for g in generations})

    def _note_choices(self, engines_used: set[str], voices_used: set[str]) -> None:
        engines = self._engines | engines_used
        voices = self._voices | voices_used
        if engines != self._engines:
            self._engines = engines
            self._fill(self.engine, "All engines", engines)
        if voices != self._voices:
            self._voices = voices
            self._fill(self.voice, "All voices", voices)

    @staticmethod
    def _fill(combo: QComboBox, everything: str, names: set[str]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, None)
        for name in sorted(names, key=str.casefold):
            combo.addItem(name, name)
        combo.setCurrentIndex(max(0, combo.findData(current)) if current is not None else 0)
        combo.blockSignals(False)

    def _update_state(self) -> None:
        query, empty = self._model.query, self._model.rowCount() == 0
        if empty:
            filtered = self.favourites.isChecked() or any(
                c.currentIndex() > 0 for c in (self.engine, self.voice, self.date)
            )
            self.empty.setText(
                nothing_matches(query) if query else NO_FILTER_MATCH if filtered else EMPTY_LIBRARY
            )
        self.stack.setCurrentWidget(self.empty if empty else self.view)
        try:
            total, exact = self._model.total()
        except Exception:  # noqa: BLE001 - the count is a nicety; the list itself is already shown
            logger.exception("Could not count the history")
            total, exact = self._model.rowCount(), False
        noun = (
            ("match" if total == 1 else "matches")
            if query
            else ("generation" if total == 1 else "generations")
        )
        self.count.setText(f"{total:,}{'' if exact else '+'} {noun}")
        self._selection_moved()

    # --- acting on the selection ------------------------------------------------------------------------
    def _selection_moved(self, *_: Any) -> None:
        generation = self.selected()
        for act in self._row_actions:
            act.setEnabled(generation is not None)
        self.favourite_action.setChecked(bool(generation and generation.favourite))
        current = generation.id if generation else None
        if current != self._last_selected:
            self._last_selected = current
            self.selectionChanged.emit(current)

    @staticmethod
    def _emit(signal: Any, generation_id: int | None) -> None:
        if generation_id is not None:
            signal.emit(int(generation_id))

    def _copy(self) -> None:
        generation = self.selected()
        if generation is not None:
            QGuiApplication.clipboard().setText(generation.text)

    def _toggle_favourite(self) -> None:
        generation = self.selected()
        if generation is None:
            return
        changed = self._attempt(self._history.favourite, generation.id, not generation.favourite)
        if changed is None:
            return
        row = self._model.row_of(changed.id)
        self._model.replace(changed)  # with only favourites shown, an unfavourited row leaves the list
        if self._model.row_of(changed.id) is None and row is not None:
            self._select_near(row)
        self._update_state()

    def _delete(self) -> None:
        generation = self.selected()
        if generation is None or self._attempt(self._history.delete, generation.id) is None:
            return
        self._deleted.append(generation.id)
        row = self._model.remove(generation.id)
        if row is not None:
            self._select_near(row)
        text = one_line(generation.text)
        self.undo_label.setText(f"Deleted “{text if len(text) <= 40 else text[:39] + '…'}”")
        self.undo_label.setToolTip(text)
        self.undo_bar.show()
        self._undo_timer.start()
        self._update_state()

    def _select_near(self, row: int) -> None:
        if self._model.rowCount():
            self.view.select_row(min(row, self._model.rowCount() - 1))

    def _hide_undo(self) -> None:
        self._undo_timer.stop()
        self.undo_bar.hide()

    # --- keyboard and menus -----------------------------------------------------------------------------
    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        self.view.select_row(index.row())
        menu = QMenu(self)
        for act in self._row_actions:
            if act is self.copy_action or act is self.delete_action:
                menu.addSeparator()
            menu.addAction(act)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _type_into_search(self, text: str) -> None:
        self.search.setFocus(Qt.FocusReason.OtherFocusReason)
        self.search.insert(text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if key == Qt.Key.Key_Down and self._model.rowCount():
                # Down from the search field walks into the results, as in Finder and Mail.
                self.view.setFocus(Qt.FocusReason.OtherFocusReason)
                if self.selected_id() is None:
                    self.view.select_row(0)
                return True
            if key == Qt.Key.Key_Escape and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(watched, event)
