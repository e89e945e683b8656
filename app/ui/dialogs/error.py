"""Showing a failed job to a person: the plain message first, the technical details one click away.

Expected errors (:class:`~app.core.errors.TimbreError`: bad input, missing weights, a full disk) say what
to do in their message. Anything else is a bug, so the box says so and offers the traceback to copy into
a report. The box is window-modal (a sheet on macOS) and never blocks the event loop.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from app.ui.worker import JobError

logger = logging.getLogger(__name__)

BUG_NOTE = "This looks like a bug in Timbre. The details below help fix it."
COPY_TEXT = "Copy details"
COPIED_TEXT = "Copied"


def _as_job_error(error: JobError | str | BaseException) -> JobError:
    if isinstance(error, JobError):
        return error
    if isinstance(error, BaseException):
        return JobError.from_exception(error)
    return JobError(str(error))


def error_box(parent: QWidget | None, error: JobError | str | BaseException) -> QMessageBox:
    """Build (without showing) the message box for ``error``."""
    job_error = _as_job_error(error)
    box = QMessageBox(parent)
    box.setWindowTitle("Timbre")
    box.setIcon(QMessageBox.Icon.Warning if job_error.expected else QMessageBox.Icon.Critical)
    box.setTextFormat(Qt.TextFormat.PlainText)  # messages quote file names and text, never markup
    box.setText(job_error.message or "Something went wrong.")
    box.setAccessibleName("Error")
    box.setAccessibleDescription(job_error.message)
    if not job_error.expected:
        box.setInformativeText(BUG_NOTE)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setDefaultButton(QMessageBox.StandardButton.Ok)
    if job_error.details:
        box.setDetailedText(job_error.details)  # Qt keeps it collapsed behind "Show Details…"
        copy = QPushButton(COPY_TEXT)
        copy.setToolTip("Copy the message and the technical details, to paste into a bug report")
        copy.setAccessibleName(COPY_TEXT)
        box.addButton(copy, QMessageBox.ButtonRole.ActionRole)
        # Every message-box button closes the box; copying should not, so the button's own connection
        # to the box is dropped and replaced by ours.
        copy.clicked.disconnect()
        copy.clicked.connect(lambda: _copy(copy, job_error))
    return box


def _copy(button: QPushButton, error: JobError) -> None:
    QGuiApplication.clipboard().setText(f"{error.message}\n\n{error.details}".strip())
    button.setText(COPIED_TEXT)
    QTimer.singleShot(2000, button, lambda: button.setText(COPY_TEXT))
    logger.debug("Error details copied to the clipboard")


def show_error(parent: QWidget | None, error: JobError | str | BaseException) -> QMessageBox:
    """Show ``error`` without blocking (``open()``, not ``exec()``); returns the box, deleted on close."""
    box = error_box(parent, error)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
