"""A loopback stand-in for Hugging Face: the file-list API and file downloads for one fake repository.

It serves real files made in a temporary folder, answers ``Range`` requests like the real hub (and its
CDN, which the large files are redirected to), and has knobs to misbehave: break the connection after
some bytes, send a damaged file, ignore ``Range``, answer with an HTTP error, or trickle slowly. It
records every request so tests can see what was asked for and how many bytes went out.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

REPO = "timbre-test/tiny-model"
REVISION = "main"


def git_blob_id(data: bytes) -> str:
    """The id Git (and the hub's file list) gives a small file: sha1 of a header and the bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Seen:
    """One request the server answered."""

    path: str
    range: str | None


@dataclass
class Knobs:
    """How the server misbehaves; tests change these between downloads."""

    drop_after: int | None = None
    """Close the connection after this many body bytes of each file response."""
    corrupt: set[str] = field(default_factory=set)
    """Files sent with one byte changed (the file list still gives the true checksum)."""
    ignore_range: bool = False
    status: int | None = None
    """Answer every request with this HTTP error."""
    delay: float = 0.0
    """Seconds to wait before each 16 KiB block of a file."""


class FakeHub:
    """``with FakeHub(folder) as hub:`` serves ``hub.files`` at ``hub.endpoint``."""

    LFS = ("model.bin", "voices/a.pt", "voices/b.pt", "voices/nested/c.pt")

    def __init__(self, folder: Path, page_size: int = 3) -> None:
        self.folder = folder
        self.page_size = page_size
        self.knobs = Knobs()
        self.seen: list[Seen] = []
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self.files: dict[str, bytes] = {
            "config.json": json.dumps({"model": "tiny", "layers": 2}).encode(),
            "README.md": b"# Not needed by Timbre\n",
            "model.bin": os.urandom(400_000),
            "voices/a.pt": os.urandom(200_000),
            "voices/b.pt": os.urandom(250_000),
            "voices/nested/c.pt": os.urandom(1000),
        }
        for name, data in self.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def tree(self) -> list[dict[str, object]]:
        """The listing the hub's API gives: files (LFS ones with their sha256) and folders."""
        entries: list[dict[str, object]] = [
            {"type": "directory", "path": "voices", "oid": "0" * 40, "size": 0}
        ]
        for name, data in self.files.items():
            entry: dict[str, object] = {
                "type": "file",
                "path": name,
                "size": len(data),
                "oid": git_blob_id(data),
            }
            if name in self.LFS:
                sha = hashlib.sha256(data).hexdigest()
                entry["oid"] = hashlib.sha1(sha.encode()).hexdigest()  # the pointer file's id, not the data's
                entry["lfs"] = {"oid": sha, "size": len(data), "pointerSize": 134}
            entries.append(entry)
        return entries

    def file_requests(self, name: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith("/" + name)]

    def __enter__(self) -> FakeHub:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def _handler(hub: FakeHub) -> type[http.server.BaseHTTPRequestHandler]:
    tree_prefix = f"/api/models/{REPO}/tree/{REVISION}"
    resolve_prefix = f"/{REPO}/resolve/{REVISION}/"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            url = urllib.parse.urlsplit(self.path)
            with hub._lock:
                hub.seen.append(Seen(url.path, self.headers.get("Range")))
            if hub.knobs.status is not None:
                self._send(hub.knobs.status, b'{"error": "no"}')
            elif url.path == tree_prefix and "recursive=true" in url.query:
                self._tree(urllib.parse.parse_qs(url.query))
            elif url.path.startswith(resolve_prefix):
                name = urllib.parse.unquote(url.path[len(resolve_prefix) :])
                if name in hub.LFS:  # like the hub: large files come from the CDN
                    self.send_response(302)
                    self.send_header("Location", f"/cdn/{urllib.parse.quote(name)}?signed=1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._file(name)
            elif url.path.startswith("/cdn/"):
                self._file(urllib.parse.unquote(url.path[len("/cdn/") :]))
            else:
                self._send(404, b'{"error": "Repository not found"}')

        def _tree(self, query: dict[str, list[str]]) -> None:
            entries = hub.tree()
            start = int(query.get("cursor", ["0"])[0])
            page = entries[start : start + hub.page_size]
            headers = {}
            if start + hub.page_size < len(entries):
                nxt = f"{tree_prefix}?recursive=true&cursor={start + hub.page_size}"
                headers["Link"] = f'<{hub.endpoint}{nxt}>; rel="next"'
            self._send(200, json.dumps(page).encode(), headers)

        def _file(self, name: str) -> None:
            if name not in hub.files:
                self._send(404, b"Entry not found")
                return
            data = hub.files[name]
            if name in hub.knobs.corrupt:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            start, status, headers = 0, 200, {}
            wanted = self.headers.get("Range")
            if wanted and not hub.knobs.ignore_range:
                start = int(wanted.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                    return
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            body = data[start:]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            limit = hub.knobs.drop_after
            sent = 0
            for offset in range(0, len(body), 16384):
                if hub.knobs.delay:
                    time.sleep(hub.knobs.delay)
                block = body[offset : offset + 16384]
                if limit is not None and sent + len(block) > limit:
                    block = block[: limit - sent]
                try:
                    self.wfile.write(block)
                    self.wfile.flush()
                except OSError:  # the client hung up (a cancelled download)
                    break
                sent += len(block)
                with hub._lock:
                    hub.bytes_sent += len(block)
                if limit is not None and sent >= limit:
                    break
            self.close_connection = True

        def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler
