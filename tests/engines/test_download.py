"""Downloads against a loopback HTTP server: progress, checksum, cancel, unreachable host."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from app.core.errors import CancelledError
from app.core.models import CancelToken
from app.engines.download import DownloadError, download

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path == "/missing":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_reports_progress_and_verifies(server, tmp_path):
    seen = []
    dest = download(
        f"{server}/file",
        tmp_path / "f.bin",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert dest.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert len(seen) > 4 and all(a[0] < b[0] for a, b in zip(seen, seen[1:], strict=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_checksum_mismatch_keeps_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match="damaged"):
        download(f"{server}/file", tmp_path / "f.bin", sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_cancel_keeps_nothing(server, tmp_path):
    cancel = CancelToken()

    def progress(done: int, total: int) -> None:
        if done > 100_000:
            cancel.cancel()

    with pytest.raises(CancelledError):
        download(f"{server}/file", tmp_path / "f.bin", progress=progress, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_http_error_and_unreachable_host_are_plain_errors(server, tmp_path):
    with pytest.raises(DownloadError, match="Could not download"):
        download(f"{server}/missing", tmp_path / "f.bin")
    with pytest.raises(DownloadError, match="internet connection"):
        download("http://127.0.0.1:9/none", tmp_path / "g.bin", timeout=2)
    assert list(tmp_path.iterdir()) == []
