"""The History list: its model (generations fetched a page at a time), row painter and view.

The model never loads the whole library: it asks the service for 100 rows at a time as the view scrolls
(``canFetchMore``/``fetchMore``), so a library of 100,000 generations opens as fast as one of ten. Rows
it already holds are updated, removed or inserted in place, so the selection and scroll position survive a
favourite toggle, a delete or a new generation.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFontMetrics, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from app.services.history import Generation, HistoryFilter, HistoryService

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
STAR = "★"
# Gold reads on both the dark and the light palette; everything else uses palette roles.
STAR_COLOUR = QColor(230, 170, 0)

IdRole = Qt.ItemDataRole.UserRole + 1
GenerationRole = Qt.ItemDataRole.UserRole + 2
VoiceRole = Qt.ItemDataRole.UserRole + 3
DurationRole = Qt.ItemDataRole.UserRole + 4
WhenRole = Qt.ItemDataRole.UserRole + 5
FavouriteRole = Qt.ItemDataRole.UserRole + 6

_Index = QModelIndex | QPersistentModelIndex


def one_line(text: str) -> str:
    """The text with every run of whitespace (newlines included) made one space."""
    return " ".join(text.split())


def format_duration(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour), rounded to the nearest second."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def local_time(created_at: str) -> dt.datetime:
    """A stored timestamp (ISO, UTC) in the computer's time zone."""
    when = dt.datetime.fromisoformat(created_at)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone()


def format_when(created_at: str, now: dt.datetime | None = None) -> str:
    """When a generation was made, as a person says it: ``Today 14:02``, ``Yesterday``, ``12 Nov``."""
    when = local_time(created_at)
    today = (now or dt.datetime.now().astimezone()).date()
    if when.date() == today:
        return f"Today {when:%H:%M}"
    if when.date() == today - dt.timedelta(days=1):
        return "Yesterday"
    if when.year == today.year:
        return f"{when.day} {when:%b}"
    return f"{when.day} {when:%b %Y}"


def format_full_date(created_at: str) -> str:
    when = local_time(created_at)
    return f"{when.day} {when:%B %Y, %H:%M}"


DATE_CHOICES: list[tuple[str, str | int | None]] = [
    ("Any time", None),
    ("Today", "today"),
    ("Past 7 days", 7),
    ("Past 30 days", 30),
]


def since(choice: str | int | None, now: dt.datetime | None = None) -> str | None:
    """The ``HistoryFilter.since`` bound for a date choice: local midnight for "today", else N days back."""
    if choice is None:
        return None
    now = now or dt.datetime.now().astimezone()
    if choice == "today":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        start = now - dt.timedelta(days=int(choice))
    # Stored times are UTC ISO strings compared as text, so the bound is written the same way.
    return start.astimezone(dt.UTC).isoformat(timespec="microseconds")


class HistoryModel(QAbstractListModel):
    """Generations matching a search and filters, newest first, fetched lazily a page at a time."""

    loadFailed = Signal(object)  # noqa: N815 - the exception, for the panel to show

    def __init__(self, history: HistoryService, parent: Any = None) -> None:
        super().__init__(parent)
        self._history = history
        self._query = ""
        self._filters = HistoryFilter()
        self._rows: list[Generation] = []
        self._ids: set[int] = set()
        self._exhausted = True

    # --- what is shown ------------------------------------------------------------------------------
    @property
    def query(self) -> str:
        return self._query

    @property
    def filters(self) -> HistoryFilter:
        return self._filters

    @property
    def exhausted(self) -> bool:
        """True once every matching generation is loaded (so ``rowCount`` is the number of results)."""
        return self._exhausted

    def set_query(self, query: str, filters: HistoryFilter) -> None:
        """Show the first page of what matches ``query`` (may be empty) and ``filters``.

        Raises what the service raises (a :class:`TimbreError`), leaving the model as it was.
        """
        query = query.strip()
        first = self._page(query, filters, 1)
        self.beginResetModel()
        self._query, self._filters = query, filters
        self._rows = first
        self._ids = {g.id for g in first}
        self._exhausted = len(first) < PAGE_SIZE
        self.endResetModel()

    def _page(self, query: str, filters: HistoryFilter, page: int) -> list[Generation]:
        if query:
            return self._history.search(query, filters, page, PAGE_SIZE)
        return self._history.list(filters, page, PAGE_SIZE)

    def total(self) -> tuple[int, bool]:
        """How many generations match, and whether that number is exact.

        A listing is counted by the library; a search's total is only known once it is all loaded.
        """
        if self._query:
            return len(self._rows), self._exhausted
        return self._history.count(self._filters), True

    def matches(self, generation_id: int) -> bool:
        """Whether a (new) generation belongs in this listing. The service is asked, so search and filters
        mean what they mean everywhere else; new generations come first, so a short page is enough."""
        found = (
            self._history.search(self._query, self._filters, 1, 5)
            if self._query
            else self._history.list(self._filters, 1, 5)
        )
        return any(g.id == generation_id for g in found)

    # --- rows ------------------------------------------------------------------------------------------
    def generation(self, row: int) -> Generation | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, generation_id: int) -> int | None:
        if generation_id not in self._ids:
            return None
        return next(i for i, g in enumerate(self._rows) if g.id == generation_id)

    def generations(self) -> list[Generation]:
        return list(self._rows)

    def replace(self, generation: Generation) -> None:
        """Show a changed generation (a favourite toggled) where it already is."""
        row = self.row_of(generation.id)
        if row is None:
            return
        if self._filters.favourites and not generation.favourite:
            self.remove(generation.id)
            return
        self._rows[row] = generation
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def remove(self, generation_id: int) -> int | None:
        """Take a generation out of the list; returns the row it was on."""
        row = self.row_of(generation_id)
        if row is None:
            return None
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self._ids.discard(generation_id)
        self.endRemoveRows()
        return row

    def insert_top(self, generation: Generation) -> None:
        if generation.id in self._ids:
            self.replace(generation)
            return
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, generation)
        self._ids.add(generation.id)
        self.endInsertRows()

    # --- Qt's side -------------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted:
            return
        # Deletes and new generations shift the service's offsets, so the page holding row len(rows) is
        # asked for and what is already here is skipped, instead of trusting a page counter.
        page = len(self._rows) // PAGE_SIZE + 1
        fresh: list[Generation] = []
        seen = set(self._ids)
        try:
            while len(fresh) < PAGE_SIZE and not self._exhausted:
                batch = self._page(self._query, self._filters, page)
                self._exhausted = len(batch) < PAGE_SIZE
                fresh += [g for g in batch if g.id not in seen]
                seen.update(g.id for g in batch)
                page += 1
        except Exception as exc:  # noqa: BLE001 - a failed read must not escape into Qt's event loop
            self._exhausted = True
            self.loadFailed.emit(exc)
            return
        if not fresh:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows.extend(fresh)
        self._ids.update(g.id for g in fresh)
        self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        generation = self.generation(index.row()) if index.isValid() else None
        if generation is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return one_line(generation.text)
        if role == Qt.ItemDataRole.ToolTipRole:
            when = format_full_date(generation.created_at)
            details = (
                f"{generation.engine} · {generation.voice} · {format_duration(generation.duration)} · {when}"
            )
            text = html.escape(generation.text)
            return f"<p style='white-space:pre-wrap'>{text}</p><p><i>{html.escape(details)}</i></p>"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            star = ", favourite" if generation.favourite else ""
            return (
                f"{one_line(generation.text)}. {generation.voice}, {format_duration(generation.duration)}, "
                f"{format_when(generation.created_at)}{star}"
            )
        if role == IdRole:
            return generation.id
        if role == GenerationRole:
            return generation
        if role == VoiceRole:
            return generation.voice
        if role == DurationRole:
            return format_duration(generation.duration)
        if role == WhenRole:
            return format_when(generation.created_at)
        if role == FavouriteRole:
            return generation.favourite
        return None


class HistoryDelegate(QStyledItemDelegate):
    """One line per generation: star, text (elided), then voice, duration and date in quieter columns."""

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(320, QFontMetrics(option.font).height() + 12)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        # The selection and hover background and the focus frame come from the style, so they look native.
        base = QStyleOptionViewItem(option)
        self.initStyleOption(base, index)
        base.text = ""
        if option.widget is not None:
            option.widget.style().drawControl(
                QStyle.ControlElement.CE_ItemViewItem, base, painter, option.widget
            )

        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        active = option.state & QStyle.StateFlag.State_Active
        group = QPalette.ColorGroup.Active if active else QPalette.ColorGroup.Inactive
        role = QPalette.ColorRole
        strong = option.palette.color(group, role.HighlightedText if selected else role.Text)
        quiet = strong if selected else option.palette.color(group, role.PlaceholderText)
        fm = QFontMetrics(option.font)
        rect = option.rect.adjusted(8, 0, -8, 0)
        top, height, gap = rect.top(), rect.height(), 12
        middle, right_align = Qt.AlignmentFlag.AlignVCenter, Qt.AlignmentFlag.AlignRight

        painter.save()
        painter.setFont(option.font)
        star_w = fm.horizontalAdvance(STAR) + 6
        if index.data(FavouriteRole):
            painter.setPen(strong if selected else STAR_COLOUR)
            painter.drawText(QRect(rect.left(), top, star_w, height), middle, STAR)
        voice = str(index.data(VoiceRole) or "")
        # Fixed column widths, so voices, durations and dates line up from row to row.
        columns = [  # right to left: text, width, alignment
            (str(index.data(WhenRole) or ""), fm.horizontalAdvance("30 Sep 2000") + 4, right_align),
            (str(index.data(DurationRole) or ""), fm.horizontalAdvance("0:00:00") + 4, right_align),
            (voice, min(max(60, rect.width() // 5), 160), Qt.AlignmentFlag.AlignLeft),
        ]
        painter.setPen(quiet)
        right = rect.right()
        for text, width, align in columns:
            elided = fm.elidedText(text, Qt.TextElideMode.ElideRight, width)
            painter.drawText(QRect(right - width, top, width, height), middle | align, elided)
            right -= width + gap
        painter.setPen(strong)
        left = rect.left() + star_w
        width = max(0, right - left)
        text = fm.elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole) or ""), Qt.TextElideMode.ElideRight, width
        )
        painter.drawText(QRect(left, top, width, height), middle, text)
        painter.restore()


class HistoryView(QListView):
    """The list of generations; letters typed into it are handed on (to the search field) as ``typed``."""

    typed = Signal(str)

    def __init__(self, model: HistoryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setItemDelegate(HistoryDelegate(self))
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setAccessibleName("Generations")

    def selected_id(self) -> int | None:
        rows = self.selectionModel().selectedRows()
        return int(rows[0].data(IdRole)) if rows else None

    def select_row(self, row: int) -> None:
        index = self.model().index(row, 0)
        self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.scrollTo(index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        plain = not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
        if plain and text and text.isprintable() and not text.isspace():
            self.typed.emit(text)
            return
        super().keyPressEvent(event)
