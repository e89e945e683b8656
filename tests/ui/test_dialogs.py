"""The error box and the download dialog: real message boxes, a real HTTP server on loopback, the real
downloader, on the real inference lane."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.core.errors import OutputError
from app.engines.download import download
from app.ui.dialogs import downloads
from app.ui.dialogs.downloads import DownloadDialog
from app.ui.dialogs.error import BUG_NOTE, COPY_TEXT, error_box, show_error
from app.ui.worker import JobError

PAYLOAD = random.Random(7).randbytes(3_000_000)


# --- error box ---------------------------------------------------------------------------------------
def _copy_button(box: QMessageBox):
    found = [b for b in box.buttons() if b.text() == COPY_TEXT]
    return found[0] if found else None


def test_expected_error_shows_its_message_and_hides_the_details(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    error = JobError("The disk is full: take.wav was not saved.", "Traceback: ENOSPC", expected=True)
    box = error_box(parent, error)
    assert box.text() == error.message
    assert box.informativeText() == ""
    assert box.detailedText() == "Traceback: ENOSPC"
    assert box.icon() == QMessageBox.Icon.Warning
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert _copy_button(box) is not None
    assert not box.isVisible(), "error_box builds; it does not show"


def test_unexpected_error_says_it_is_a_bug(qtbot):
    try:
        {}["missing"]
    except KeyError as exc:
        error = JobError.from_exception(exc)
    box = error_box(None, error)
    qtbot.addWidget(box)
    assert box.text() == "Something went wrong: 'missing'."
    assert box.informativeText() == BUG_NOTE
    assert "KeyError" in box.detailedText() and "Traceback" in box.detailedText()
    assert box.icon() == QMessageBox.Icon.Critical


def test_plain_text_and_exceptions_are_accepted(qtbot):
    box = error_box(None, "No microphone is connected.")
    qtbot.addWidget(box)
    assert box.text() == "No microphone is connected."
    assert box.detailedText() == "" and box.informativeText() == ""
    assert _copy_button(box) is None, "nothing to copy without details"
    typed = error_box(None, OutputError("Cannot write to /nowhere."))
    qtbot.addWidget(typed)
    assert typed.text() == "Cannot write to /nowhere." and typed.informativeText() == ""


def test_show_error_does_not_block_and_copy_keeps_it_open(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    box = show_error(
        parent, JobError("Something went wrong: boom.", "Traceback (most recent call last)", False)
    )
    # open() returned at once (exec() would not have), and the box is up.
    qtbot.waitUntil(box.isVisible, timeout=2000)
    copy = _copy_button(box)
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert box.isVisible(), "copying must not close the box"
    assert (
        QApplication.clipboard().text() == "Something went wrong: boom.\n\nTraceback (most recent call last)"
    )
    assert copy.text() == "Copied"
    with qtbot.waitSignal(box.finished, timeout=2000):
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)


# --- download dialog: a real server on loopback --------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    """Serves PAYLOAD in blocks, sleeping between them so a download takes a measurable time."""

    routes = {"/voices.bin": (32 * 1024, 0.004), "/slow.bin": (16 * 1024, 0.05)}

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self.path not in self.routes:
            self.send_error(404, "Not Found")
            return
        block, pause = self.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        try:
            for start in range(0, len(PAYLOAD), block):
                self.wfile.write(PAYLOAD[start : start + block])
                self.wfile.flush()
                time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client cancelled

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch) -> Iterator[str]:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _fetch(url: str, dest: Path):
    """The real downloader, shaped like app.services.setup.install_offline_voices."""

    def fn(report, progress, cancel):
        report(f"Downloading {dest.name}…")
        download(url, dest, progress=progress, cancel=cancel, timeout=5)
        report(f"{dest.name} ready")
        return dest

    return fn


def _dialog(qtbot, lane) -> DownloadDialog:
    dialog = DownloadDialog(lane)
    qtbot.addWidget(dialog)
    return dialog


def test_download_reports_bytes_and_finishes(qtbot, lane, server, tmp_path):
    dest = tmp_path / "models" / "voices.bin"
    dialog = _dialog(qtbot, lane)
    values = []
    dialog.bar.valueChanged.connect(values.append)
    with qtbot.waitSignal(dialog.finished_ok, timeout=8000):
        job = dialog.start("Installing voices", _fetch(f"{server}/voices.bin", dest))
        dialog.open()
        assert dialog.isVisible() and dialog.cancel_button.isVisible()
        assert job.name == "Installing voices" and lane.busy
    assert dest.read_bytes() == PAYLOAD
    assert [p.name for p in dest.parent.iterdir()] == ["voices.bin"]
    assert any(0 < v < dialog.bar.maximum() for v in values), "progress arrived before the end"
    assert dialog.bar.value() == dialog.bar.maximum() == downloads.STEPS
    assert dialog.step.text() == "Done"
    assert dialog.detail.text().startswith("3.0 MB of 3.0 MB · ") and dialog.detail.text().endswith("/s")
    assert dialog.close_button.isVisible() and not dialog.cancel_button.isVisible()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)  # closes itself after a moment


def test_cancel_midway_keeps_nothing(qtbot, lane, server, tmp_path):
    folder = tmp_path / "models"
    dialog = _dialog(qtbot, lane)
    dialog.start("Installing voices", _fetch(f"{server}/slow.bin", folder / "voices.bin"))
    dialog.open()
    qtbot.waitUntil(lambda: dialog.bar.value() > 0, timeout=5000)
    with pytest.raises(RuntimeError):
        dialog.start("Again", _fetch(f"{server}/slow.bin", folder / "other.bin"))
    with qtbot.waitSignal(dialog.cancelled, timeout=5000):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert dialog.step.text() == "Cancelling…"
    assert dialog.step.text() == "Cancelled — nothing was kept."
    assert list(folder.iterdir()) == [], "neither the file nor a .part is left"
    assert dialog.isVisible() and dialog.retry_button.isVisible() and dialog.close_button.isVisible()
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_escape_cancels_first_then_closes(qtbot, lane, server, tmp_path):
    folder = tmp_path / "models"
    dialog = _dialog(qtbot, lane)
    dialog.start("Installing voices", _fetch(f"{server}/slow.bin", folder / "voices.bin"))
    dialog.open()
    qtbot.waitUntil(lambda: dialog.bar.value() > 0, timeout=5000)
    with qtbot.waitSignal(dialog.cancelled, timeout=5000):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert dialog.isVisible(), "Escape while downloading cancels; it does not walk away"
    assert list(folder.iterdir()) == []
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_missing_file_fails_with_a_plain_message_and_retry(qtbot, lane, server, tmp_path):
    dest = tmp_path / "models" / "voices.bin"
    dialog = _dialog(qtbot, lane)
    dialog.open()
    with qtbot.waitSignal(dialog.failed, timeout=5000) as failed:
        dialog.start("Installing voices", _fetch(f"{server}/missing.bin", dest))
    error = failed.args[0]
    assert isinstance(error, JobError) and error.expected
    assert error.message.startswith("Could not download") and "Not Found" in error.message
    assert "Traceback" not in error.message
    assert dialog.step.text() == error.message
    assert dialog.retry_button.isVisible() and not dialog.cancel_button.isVisible()
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    with qtbot.waitSignal(dialog.failed, timeout=5000):
        qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible(), "a failure stays up to be read"


def test_fast_progress_is_throttled(qtbot, lane):
    """A download that reports every block must not flood the window with queued signals."""
    delivered = []
    lane.signals.chunk.connect(lambda _job, data: delivered.append(data))

    def fast(report, progress, cancel):
        total = 50_000
        for done in range(1, total + 1):
            cancel.raise_if_cancelled()
            progress(done, total)

    dialog = _dialog(qtbot, lane)
    with qtbot.waitSignal(dialog.finished_ok, timeout=5000):
        dialog.start("Counting", fast)
    assert 1 <= len(delivered) < 200, len(delivered)
    assert delivered[-1].done == delivered[-1].total == 50_000, "the last count always gets through"
    assert dialog.bar.value() == downloads.STEPS


def test_unknown_size_shows_a_busy_bar(qtbot, lane):
    def unknown(report, progress, cancel):
        report("Fetching the list of voices…")
        progress(1_500_000, 0)
        time.sleep(0.1)
        progress(3_000_000, 0)

    dialog = _dialog(qtbot, lane)
    with qtbot.waitSignal(dialog.finished_ok, timeout=5000):
        dialog.start("Fetching", unknown)
        assert dialog.bar.maximum() == 0, "busy until the size is known"
    assert dialog.detail.text().startswith("3.0 MB · ") and " of " not in dialog.detail.text()


def test_describe_reads_like_a_sentence():
    assert downloads.describe(12_300_000, 27_000_000, 4_100_000) == "12.3 MB of 27.0 MB · 4.1 MB/s · 4 s left"
    assert downloads.describe(500_000, 0, None) == "500 KB"
    assert downloads.describe(1_000_000, 600_000_000, 1_000_000).endswith("about 10 min left")
