"""The Models window: every model the cloning engines can use, its size, state and licence, and the
buttons to download (or resume), cancel, remove, verify and import one.

Everything that touches the models folder runs on the lane it is given (the I/O lane), one operation at a
time: downloads move gigabytes, verifying hashes them, importing copies them. Progress travels like in
:mod:`app.ui.dialogs.downloads` (at most ``UPDATES_PER_SECOND`` events, the same byte-level text), and a
failure is said in plain words inside the window with a Retry button, not in a box that blocks. A model
that may not be used commercially shows its licence and asks before a single byte is fetched. Closing the
window stops a download; what arrived is kept, so the next download resumes it.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.models import DownloadProgress, ModelService, size_text
from app.ui.dialogs.downloads import STEPS, UPDATES_PER_SECOND, describe
from app.ui.worker import InferenceLane, JobContext, JobError

logger = logging.getLogger(__name__)

COLUMNS = ("Model", "Engine", "Size", "Status", "Licence")
MODEL, ENGINE, SIZE, STATUS, LICENCE = range(len(COLUMNS))
WARN_ON_DARK = "#ff9f0a"
"""macOS's dark-mode orange; on a light background the darker orange below keeps a 5:1 contrast."""
WARN_ON_LIGHT = "#b25000"
STOPPED_TEXT = "Download of {id} stopped — nothing is lost: it resumes next time."
HEADLINES = {
    "download": "Downloading {id}…",
    "resume": "Resuming {id}…",
    "remove": "Removing {id}…",
    "verify": "Checking {id}…",
    "import": "Importing {id}…",
}
NO_SELECTION_TEXT = "Select a model to see its licence and download it."


def warning_colour(palette: QPalette) -> QColor:
    """An orange that reads on this palette's background, dark or light."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return QColor(WARN_ON_DARK if dark else WARN_ON_LIGHT)


def status_text(row: dict[str, Any]) -> str:
    """``Installed · 1.80 GB``, ``Partly downloaded · 412.0 MB — Resume`` or ``Not installed``."""
    if row["state"] == "installed":
        return f"Installed · {size_text(row['bytes_on_disk'])}"
    if row["state"] == "partial":
        return f"Partly downloaded · {size_text(row['bytes_on_disk'])} — Resume"
    return "Not installed"


def _label(name: str, quiet: bool = False) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(name)
    label.setEnabled(not quiet)  # disabled: the palette's quiet text colour, not a hard-coded grey
    return label


class _Throttle:
    """Lane side: passes on at most ``UPDATES_PER_SECOND`` progress events, and always the last one (a
    fast connection reports every 64 KB block, and thousands of queued signals would stall the window)."""

    def __init__(self, ctx: JobContext) -> None:
        self._ctx, self._last = ctx, float("-inf")

    def __call__(self, event: DownloadProgress) -> None:
        now = time.monotonic()
        if now - self._last >= 1.0 / UPDATES_PER_SECOND or (event.total and event.done >= event.total):
            self._last = now
            self._ctx.emit(event)


class ModelsDialog(QDialog):
    """Lists the models of a :class:`ModelService` and runs its operations on ``lane``."""

    modelsChanged = Signal()  # noqa: N815 - a model was installed, removed or imported
    statusMessage = Signal(str)  # noqa: N815 - a sentence for the main window's status bar

    def __init__(self, service: ModelService, lane: InferenceLane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service, self.lane = service, lane
        self.rows: dict[str, dict[str, Any]] = {}
        self.operation: tuple[str, str] | None = None
        """(kind, model id) of the operation running on the lane: download, remove, verify or import."""
        self._token: Any = None  # the running job's cancel token (the Job holds callbacks: not kept)
        self._percent: int | None = None
        self._retry: Callable[[], None] | None = None
        self.confirm_box: QMessageBox | None = None
        """The licence or removal question being asked, if any."""
        self.setWindowTitle("Models")
        self.setAccessibleName("Models")
        self.setMinimumSize(820, 480)
        self.resize(1080, 600)
        self._build()
        self.refresh()
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))

    # --- building -------------------------------------------------------------------------------------
    def _build(self) -> None:
        intro = _label("Models folder", quiet=True)
        intro.setText(f"Weights for the voice engines and the translator, kept in {self.service.folder}.")

        tree = self.tree = QTreeWidget()
        tree.setHeaderLabels(COLUMNS)
        tree.setRootIsDecorated(False)
        tree.setUniformRowHeights(True)
        tree.setAlternatingRowColors(True)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        tree.setAccessibleName("Models")
        tree.setToolTip("↩ downloads the selected model, ⌫ removes it")
        header = tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(MODEL, QHeaderView.ResizeMode.Stretch)
        for column in (ENGINE, SIZE, STATUS, LICENCE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        tree.currentItemChanged.connect(lambda *_: self._show_selection())
        tree.installEventFilter(self)

        self.title = _label("Selected model")
        self.title.setStyleSheet("font-weight: 600")
        self.meta = _label("Model details", quiet=True)
        self.licence = _label("Licence")
        self.licence.setOpenExternalLinks(True)
        self.licence.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)

        self.download_button = self._button("Download", "Download the selected model (↩)", self.download)
        self.remove_button = self._button(
            "Remove…", "Delete the selected model to free space (⌫)", self.remove
        )
        self.verify_button = self._button(
            "Verify", "Check that every file of the model is there and intact", self.verify
        )
        self.import_button = self._button(
            "Import Folder…", "Install the model from a folder already on this computer", self.import_folder
        )
        actions = QHBoxLayout()
        for button in (self.download_button, self.remove_button, self.verify_button, self.import_button):
            actions.addWidget(button)
        actions.addStretch(1)

        self.headline = _label("Current operation")
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setRange(0, STEPS)
        self.bar.setAccessibleName("Download progress")
        self.cancel_button = self._button("Cancel", "Stop the download; it resumes next time", self.cancel)
        self.progress_text = _label("Bytes, speed and time left", quiet=True)
        bar_row = QHBoxLayout()
        bar_row.addWidget(self.bar, 1)
        bar_row.addWidget(self.cancel_button)

        self.message_icon = QLabel()
        self.message = _label("Message")
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # errors quote paths, never markup
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.retry_button = self._button("Retry", "Try again", self.retry)
        message_row = QHBoxLayout()
        message_row.addWidget(self.message_icon, 0, Qt.AlignmentFlag.AlignTop)
        message_row.addWidget(self.message, 1)
        message_row.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)

        self.close_button = self._button(
            "Close", "Close the window (stops a download; it resumes later)", self.reject
        )
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(tree, 1)
        for widget in (self.title, self.meta, self.licence):
            layout.addWidget(widget)
        layout.addLayout(actions)
        layout.addLayout(message_row)
        layout.addSpacing(4)
        layout.addWidget(self.headline)
        layout.addLayout(bar_row)
        layout.addWidget(self.progress_text)
        layout.addLayout(bottom)
        self._show_activity(False)
        self._say("")

    @staticmethod
    def _button(text: str, tip: str, slot: Callable[[], Any]) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setAccessibleName(text.rstrip("…"))
        button.setAutoDefault(False)  # Return belongs to the list: it downloads the selected model
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # --- the list -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read every model's state from disk and redraw the rows (quick: file sizes only)."""
        current = self.selected_id()
        self.rows = {row["id"]: row for row in self.service.list()}
        self.tree.clear()
        for row in self.rows.values():
            item = QTreeWidgetItem()
            item.setData(MODEL, Qt.ItemDataRole.UserRole, row["id"])
            self.tree.addTopLevelItem(item)
            self._paint(item, row)
            if row["id"] == current:
                self.tree.setCurrentItem(item)
        self._show_selection()

    def _paint(self, item: QTreeWidgetItem, row: dict[str, Any]) -> None:
        running = self.operation == ("download", row["id"])
        status = status_text(row)
        if running:
            status = "Downloading…" if self._percent is None else f"Downloading · {self._percent}%"
        texts = (row["description"], row["engine"], row["size"], status, row["licence"])
        for column, text in enumerate(texts):
            item.setText(column, text)
        item.setToolTip(MODEL, f"{row['id']} ({row['repo']})")
        item.setToolTip(SIZE, f"About {row['size']} to download")
        item.setToolTip(LICENCE, row["licence_notice"])
        quiet = self.palette().color(QPalette.ColorRole.PlaceholderText)
        item.setData(
            STATUS, Qt.ItemDataRole.ForegroundRole, quiet if row["state"] == "not installed" else None
        )
        if not row["commercial_use"]:
            item.setIcon(LICENCE, self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
            item.setData(LICENCE, Qt.ItemDataRole.ForegroundRole, warning_colour(self.palette()))
        item.setData(STATUS, Qt.ItemDataRole.AccessibleTextRole, f"{row['description']}: {status}")
        restricted = "" if row["commercial_use"] else ", not for commercial use"
        item.setData(LICENCE, Qt.ItemDataRole.AccessibleTextRole, f"{row['licence']}{restricted}")

    def _item(self, model_id: str) -> QTreeWidgetItem | None:
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            if item.data(MODEL, Qt.ItemDataRole.UserRole) == model_id:
                return item
        return None

    def select(self, model_id: str) -> None:
        item = self._item(model_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def selected_id(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(MODEL, Qt.ItemDataRole.UserRole)

    def _selected(self) -> dict[str, Any] | None:
        model_id = self.selected_id()
        return self.rows.get(model_id) if model_id else None

    def _show_selection(self) -> None:
        row = self._selected()
        if row is None:
            self.title.setText(NO_SELECTION_TEXT)
            self.meta.setText("")
            self.licence.setText("")
        else:
            self.title.setText(row["description"])
            meta = [row["id"], row["used_by"], f"about {row['size']} to download"]
            if row["memory_bytes"]:
                meta.append(f"needs about {size_text(row['memory_bytes'])} of memory")
            self.meta.setText(" · ".join(meta))
            link = f'<a href="{html.escape(row["licence_url"])}">{html.escape(row["licence"])}</a>'
            text = f"Licence: {link}"
            if not row["commercial_use"]:
                colour = warning_colour(self.palette()).name()
                text += f' — <span style="color:{colour}">⚠ not for commercial use</span>'
            self.licence.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        row, busy = self._selected(), self.operation is not None
        state = row["state"] if row else None
        self.download_button.setText("Resume" if state == "partial" else "Download")
        self.download_button.setAccessibleName(self.download_button.text())
        self.download_button.setEnabled(not busy and state in ("partial", "not installed"))
        self.remove_button.setEnabled(not busy and state in ("installed", "partial"))
        self.verify_button.setEnabled(not busy and state == "installed")
        self.import_button.setEnabled(not busy and row is not None)
        downloading = busy and self.operation is not None and self.operation[0] == "download"
        self.cancel_button.setVisible(downloading)
        self.cancel_button.setEnabled(downloading and not self._stopping)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.operation is None:
            self.refresh()  # reopened: the command line may have changed the models meanwhile

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "tree"):
            self.refresh()  # the warning orange follows the light or dark palette

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.tree and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.download()
                return True
            if event.key() in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete):
                self.remove()
                return True
        return super().eventFilter(watched, event)

    # --- what the buttons do --------------------------------------------------------------------------
    def download(self) -> None:
        """Download (or resume) the selected model; a non-commercial licence is shown and agreed first."""
        row = self._selected()
        if row is None or self.operation is not None or row["state"] == "installed":
            return
        if row["commercial_use"]:
            self._start_download(row["id"])
            return
        link = f'<a href="{html.escape(row["licence_url"])}">{html.escape(row["licence_url"])}</a>'
        notice = html.escape(row["licence_notice"]).replace(html.escape(row["licence_url"]), link)
        self._ask(
            "Non-commercial licence",
            f"<b>Download {html.escape(row['id'])}?</b><p>{notice}</p>"
            f"<p>About {row['size']}. Downloading it means you agree to its licence.</p>",
            "Download",
            QMessageBox.ButtonRole.AcceptRole,
            lambda: self._start_download(row["id"]),
        )

    def remove(self) -> None:
        """Ask, then delete the selected model (or its partial download), saying how much space it frees."""
        row = self._selected()
        if row is None or self.operation is not None or row["state"] == "not installed":
            return
        what = "the partly downloaded " if row["state"] == "partial" else ""
        self._ask(
            "Remove model",
            f"<b>Remove {what}{html.escape(row['id'])}?</b><p>This frees {size_text(row['bytes_on_disk'])}. "
            "You can download it again at any time.</p>",
            "Remove",
            QMessageBox.ButtonRole.DestructiveRole,
            lambda: self._run("remove", row["id"]),
        )

    def verify(self) -> None:
        row = self._selected()
        if row is not None and self.operation is None and row["state"] == "installed":
            self._run("verify", row["id"])

    def import_folder(self) -> None:
        """Pick a folder holding the selected model's files and copy it into the models folder."""
        row = self._selected()
        if row is None or self.operation is not None:
            return
        folder = QFileDialog.getExistingDirectory(self, f"Choose the folder that holds {row['id']}")
        if folder:
            self._run("import", row["id"], folder)

    def cancel(self) -> None:
        """Stop the running download; what arrived is kept for next time."""
        if self.operation is not None and self.operation[0] == "download" and not self._stopping:
            self._token.cancel()
            self.headline.setText("Stopping…")
            self._update_buttons()

    @property
    def _stopping(self) -> bool:
        return self._token is not None and self._token.cancelled

    def retry(self) -> None:
        retry, self._retry = self._retry, None
        if retry is not None and self.operation is None:
            retry()

    def reject(self) -> None:
        """Escape, Close or the close box: a running download stops (and resumes next time)."""
        if self.operation is not None and self.operation[0] == "download" and not self._stopping:
            text = STOPPED_TEXT.format(id=self.operation[1])
            self.cancel()
            self._say(text)
            self.statusMessage.emit(text)
        super().reject()

    # --- running on the lane --------------------------------------------------------------------------
    def _ask(self, title: str, text: str, yes: str, role: QMessageBox.ButtonRole, then: Callable) -> None:
        box = self.confirm_box = QMessageBox(self)
        box.setWindowTitle(title)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        box.setText(text)
        box.setAccessibleName(title)
        agree = box.addButton(yes, role)
        refuse = box.addButton(QMessageBox.StandardButton.Cancel)
        # A licence is agreed to with a deliberate click; so is deleting gigabytes.
        box.setDefaultButton(refuse)
        box.setEscapeButton(refuse)

        def answered(_result: int) -> None:
            self.confirm_box = None
            box.deleteLater()
            if box.clickedButton() is agree:
                then()

        box.finished.connect(answered)
        box.open()

    def _start_download(self, model_id: str) -> None:
        self._percent = None
        self._run("download", model_id)
        self.bar.setRange(0, 0)  # busy until the first event says how big it is

    def _run(self, kind: str, model_id: str, *args: Any) -> None:
        """Run one operation on the lane; its outcome comes back to :meth:`_finished` or :meth:`_failed`."""
        service = self.service  # the job holds the service, never the window
        if kind == "download":

            def fn(ctx: JobContext) -> Any:
                return service.download(model_id, progress=_Throttle(ctx), cancel=ctx.cancel)

        else:
            method = {"remove": service.remove, "verify": service.verify}.get(kind, service.import_folder)

            def fn(_ctx: JobContext) -> Any:
                return method(model_id, *args)

        resuming = kind == "download" and self.rows.get(model_id, {}).get("state") == "partial"
        headline = HEADLINES["resume" if resuming else kind].format(id=model_id)
        self.operation = (kind, model_id)
        self._retry = None
        self._say("")
        self.headline.setText(headline)
        self.progress_text.setText("")
        self.bar.setRange(0, 0)
        self._show_activity(True)
        job = self.lane.submit(
            headline.rstrip("…"),
            fn,
            on_done=lambda result: self._finished(kind, model_id, result),
            on_error=lambda error: self._failed(error, kind, model_id, args),
            on_chunk=self._progress,
            on_cancelled=self._cancelled,
        )
        self._token = job.cancel_token
        self._repaint(model_id)
        self._update_buttons()

    def _progress(self, event: DownloadProgress) -> None:
        if self.operation is None or self.operation[0] != "download":
            return
        if event.total > 0:
            self.bar.setRange(0, STEPS)
            self.bar.setValue(min(STEPS, event.done * STEPS // event.total))
            percent = min(100, event.done * 100 // event.total)
            if percent != self._percent:
                self._percent = percent
                self._repaint(event.model_id)
        self.progress_text.setText(describe(event.done, event.total, event.speed or None))

    def _finished(self, kind: str, model_id: str, result: Any) -> None:
        self.operation = None
        self.refresh()
        row = self.rows.get(model_id, {})
        if kind == "download":
            self.bar.setRange(0, STEPS)
            self.bar.setValue(STEPS)
            self.headline.setText(f"Installed {model_id}.")
            self.progress_text.setText(f"{size_text(row.get('bytes_on_disk', 0))} downloaded and checked.")
            self._update_buttons()
            self.statusMessage.emit(self.headline.text())
            self.modelsChanged.emit()
            return
        self._show_activity(False)
        if kind == "verify":
            self._say(result["message"], warn=not result["ok"])
            return
        if kind == "remove":
            self._say(f"Removed {model_id}: {size_text(result)} freed.")
        else:
            self._say(f"Imported {model_id} into {result}.")
        self.statusMessage.emit(self.message.text())
        self.modelsChanged.emit()

    def _failed(self, error: JobError, kind: str, model_id: str, args: tuple[Any, ...]) -> None:
        self.operation = None
        self._show_activity(False)
        self.refresh()
        if kind == "download":
            self._retry = lambda: self._start_download(model_id)
        else:
            self._retry = lambda: self._run(kind, model_id, *args)
        self._say(error.message, warn=True, retry=True)
        self.retry_button.setFocus()

    def _cancelled(self) -> None:
        model_id = self.operation[1] if self.operation else ""
        self.operation = None
        self._show_activity(False)
        self.refresh()
        kept = self.rows.get(model_id, {}).get("state") == "partial"
        self._say(STOPPED_TEXT.format(id=model_id) if kept else f"Download of {model_id} stopped.")

    # --- showing --------------------------------------------------------------------------------------
    def _repaint(self, model_id: str) -> None:
        item, row = self._item(model_id), self.rows.get(model_id)
        if item is not None and row is not None:
            self._paint(item, row)

    def _show_activity(self, visible: bool) -> None:
        for widget in (self.headline, self.bar, self.progress_text):
            widget.setVisible(visible)
        self._update_buttons()

    def _say(self, text: str, warn: bool = False, retry: bool = False) -> None:
        """A sentence under the progress: an outcome, or (``warn``) what went wrong, in plain words."""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        icon = (
            QStyle.StandardPixmap.SP_MessageBoxWarning
            if warn
            else QStyle.StandardPixmap.SP_MessageBoxInformation
        )
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self.message_icon.setPixmap(self.style().standardIcon(icon).pixmap(size, size))
        self.message_icon.setVisible(bool(text))
        self.retry_button.setVisible(retry)
