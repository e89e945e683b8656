"""Moving a model's files from Hugging Face into a staging folder: resumable, checked, cancellable.

The hub's file API says which files a repository has, their sizes and (for large files kept in Git LFS)
their sha256, so every byte can be checked before a model is installed. Each file is written to
``<path>.part`` and renamed to ``<path>`` only once it is complete and its checksum matches; a small
state file remembers which files were checked, so a download that was cancelled or broke off picks up
where it stopped (an HTTP ``Range`` request for the half-done file) instead of starting again.
:meth:`app.engines.hub.Hub.download` decides what to fetch and installs the result; this module only
moves bytes and says plainly what went wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import CancelledError, disk_error
from app.core.models import CancelToken
from app.engines.download import DownloadError

logger = logging.getLogger(__name__)

BLOCK = 1 << 16
TIMEOUT = 30.0
"""Seconds a connection may stay silent before the hub counts as unreachable."""
STATE = ".timbre-staging.json"
LOCK = ".timbre-staging.lock"
PART = ".part"
RESUME_HINT = "the download can be resumed"
USER_AGENT = "timbre-model-manager/1 (python urllib)"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repository, as the hub's file list describes it."""

    path: str
    size: int
    sha256: str = ""
    """Published for Git LFS files (the big ones); empty for small files kept in Git itself."""
    git_oid: str = ""
    """The Git blob id (sha1 of ``blob <size>\\0<bytes>``): it checks the small files."""

    @property
    def identity(self) -> str:
        """What this version of the file is; a half-done file of another version is thrown away."""
        return self.sha256 or self.git_oid or f"size:{self.size}"


@dataclass(frozen=True)
class DownloadProgress:
    """Where a model download stands; sent after every block received."""

    model_id: str
    file: str
    done: int
    """Bytes of the whole model on disk so far (files finished earlier included)."""
    total: int
    """Bytes of the whole model."""
    speed: float
    """Bytes per second over the last few seconds (0 until there is enough to tell)."""
    seconds_left: float | None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[DownloadProgress], None]


def _unreachable(reason: object) -> DownloadError:
    import socket

    if isinstance(reason, socket.gaierror):
        why = "its name could not be looked up"
    elif isinstance(reason, ConnectionRefusedError):
        why = "the connection was refused"
    elif isinstance(reason, TimeoutError):
        why = "it did not answer in time"
    elif isinstance(reason, ConnectionError):
        why = "the connection broke off"
    else:
        why = str(reason) or type(reason).__name__
    return DownloadError(
        f"Could not reach Hugging Face ({why}). Check the internet connection; {RESUME_HINT}."
    )


def _http_error(code: int, repo: str, what: str, endpoint: str) -> DownloadError:
    page = f"{endpoint}/{repo}"
    if code == 401:
        return DownloadError(
            f"Hugging Face would not give out {what}: {repo} is private, gated or no longer exists. If it is "
            f"gated, accept its terms at {page} and set HF_TOKEN to your access token."
        )
    if code == 403:
        return DownloadError(
            f"Hugging Face refused access to {what}: {repo} is gated. Accept its terms at {page} "
            "and set HF_TOKEN to your access token, then try again."
        )
    if code == 404:
        return DownloadError(f"Hugging Face could not find {what}: it may have moved or been renamed.")
    return DownloadError(f"Hugging Face answered with an error (HTTP {code}) for {what}; try again later.")


class _Changed(DownloadError):
    """The server has fewer bytes than the part already here (HTTP 416): the file changed upstream."""


def _open(url: str, *, repo: str, what: str, endpoint: str, timeout: float, start: int = 0) -> Any:
    """Send a GET and return the response, turning every failure into a plain :class:`DownloadError`."""
    import http.client  # here, not at the top: the app starts faster without the HTTP stack
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if start:
        # Kept across the redirect to the CDN that serves the large files (urllib copies plain headers).
        request.add_header("Range", f"bytes={start}-")
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if token:
        # Unredirected: the token is for Hugging Face, never for whichever host a redirect names.
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - the configured hub
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416:
            raise _Changed(f"{what} changed on Hugging Face while it was downloading; run it again.") from exc
        raise _http_error(exc.code, repo, what, endpoint) from exc
    except urllib.error.URLError as exc:
        raise _unreachable(exc.reason) from exc
    except (OSError, http.client.HTTPException) as exc:  # a timeout or reset while reading the headers
        raise _unreachable(exc) from exc


def matches(path: str, pattern: str) -> bool:
    """A catalogue pattern: a path, where ``*`` stands for any part of one name (``voices/*.pt``)."""
    import fnmatch

    names, parts = path.split("/"), pattern.split("/")
    # Name by name, so that a ``*`` never reaches into a subfolder.
    return len(names) == len(parts) and all(
        fnmatch.fnmatchcase(n, p) for n, p in zip(names, parts, strict=True)
    )


def select(entries: Sequence[dict[str, Any]], patterns: Sequence[str]) -> list[RemoteFile]:
    """The files of a tree listing that the patterns name, in listing order."""
    chosen = []
    for entry in entries:
        path = str(entry.get("path", ""))
        if entry.get("type") != "file" or not any(matches(path, p) for p in patterns):
            continue
        lfs = entry.get("lfs") or {}
        sha = str(lfs.get("oid") or lfs.get("sha256") or "").removeprefix("sha256:")
        size = int(lfs.get("size") or entry.get("size") or 0)
        chosen.append(RemoteFile(path, size, sha, "" if lfs else str(entry.get("oid") or "")))
    return chosen


def list_files(
    endpoint: str, repo: str, revision: str, patterns: Sequence[str], timeout: float = TIMEOUT
) -> list[RemoteFile]:
    """The repository's files that the patterns name, with sizes and checksums from the hub."""
    import re
    import urllib.parse

    url: str | None = (
        f"{endpoint}/api/models/{repo}/tree/{urllib.parse.quote(revision, safe='')}?recursive=true"
    )
    entries: list[dict[str, Any]] = []
    while url:
        with _open(url, repo=repo, what=f"the repository {repo}", endpoint=endpoint, timeout=timeout) as r:
            try:
                page = json.loads(r.read())
            except (ValueError, OSError) as exc:
                raise DownloadError(f"Hugging Face sent a file list for {repo} that makes no sense.") from exc
            # Long listings come in pages; the next one is named in a Link header.
            found = re.search(r'<([^>]+)>;\s*rel="next"', r.headers.get("Link") or "")
        entries += page if isinstance(page, list) else []
        url = urllib.parse.urljoin(endpoint + "/", found.group(1)) if found else None
    return select(entries, patterns)


class _Speed:
    """Bytes per second over a sliding window, for a steady "seconds left"."""

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()
        self.received = 0

    def add(self, nbytes: int) -> float:
        now = time.monotonic()
        self.received += nbytes
        self.samples.append((now, self.received))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()
        (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 - t0 >= 0.2 else 0.0


@contextlib.contextmanager
def staging_lock(staging: Path) -> Iterator[None]:
    """Hold the staging folder for one download at a time (the app and the command line share it)."""
    try:
        staging.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise disk_error(exc, staging) from exc
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; Timbre runs on macOS and Linux
        yield
        return
    with open(staging / LOCK, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DownloadError(
                "This model is already being downloaded (by the app or another command)."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def is_locked(staging: Path) -> bool:
    """Whether a download holds the staging folder right now."""
    try:
        with staging_lock(staging):
            return False
    except DownloadError:
        return True


class StagedDownload:
    """Fetch ``files`` of ``repo`` into ``staging``; :meth:`run` returns each file's sha256."""

    def __init__(
        self,
        model_id: str,
        endpoint: str,
        repo: str,
        revision: str,
        staging: Path,
        files: Sequence[RemoteFile],
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.model_id, self.endpoint, self.repo, self.revision = model_id, endpoint, repo, revision
        self.staging, self.files, self.timeout = staging, list(files), timeout
        self.progress, self.cancel = progress, cancel
        self.total = sum(f.size for f in self.files)
        self.done = 0
        self.speed = _Speed()
        self.state: dict[str, dict[str, Any]] = {"verified": {}, "parts": {}}
        try:
            loaded = json.loads((staging / STATE).read_text(encoding="utf-8"))
            self.state = {key: dict(loaded.get(key) or {}) for key in self.state}
        except (OSError, ValueError, AttributeError):
            pass

    def run(self) -> dict[str, str]:
        shas: dict[str, str] = {}
        pending = []
        for remote in self.files:
            known = self.state["verified"].get(remote.path) or {}
            target = self.staging / remote.path
            if (
                known.get("id") == remote.identity
                and target.is_file()
                and target.stat().st_size == remote.size
            ):
                shas[remote.path] = str(known["sha256"])  # checked when it arrived: not fetched again
                self.done += remote.size
            else:
                pending.append(remote)
                part = self._part(remote)
                if part.is_file() and self.state["parts"].get(remote.path) == remote.identity:
                    self.done += min(part.stat().st_size, remote.size)
        self._report(pending[0].path if pending else "", 0)
        for remote in pending:
            shas[remote.path] = self._fetch(remote)
        return shas

    def _part(self, remote: RemoteFile) -> Path:
        return self.staging / (remote.path + PART)

    def _save_state(self) -> None:
        tmp = self.staging / (STATE + ".tmp")
        try:
            tmp.write_text(json.dumps(self.state, indent=1), encoding="utf-8")
            os.replace(tmp, self.staging / STATE)
        except OSError as exc:
            raise disk_error(exc, self.staging) from exc

    def _report(self, name: str, received: int) -> None:
        speed = self.speed.add(received)
        if self.progress is not None:
            left = (self.total - self.done) / speed if speed > 0 else None
            self.progress(DownloadProgress(self.model_id, name, self.done, self.total, speed, left))

    def _fetch(self, remote: RemoteFile) -> str:
        import urllib.parse

        part, target = self._part(remote), self.staging / remote.path
        target.unlink(missing_ok=True)
        if self.state["parts"].get(remote.path) != remote.identity:
            part.unlink(missing_ok=True)  # half of another version of the file: useless
            self.state["parts"][remote.path] = remote.identity
            self._save_state()
        part.parent.mkdir(parents=True, exist_ok=True)
        start = part.stat().st_size if part.is_file() else 0
        if start > remote.size:
            part.unlink()
            self.done -= remote.size
            start = 0
        sha256, sha1 = self._hash_prefix(part, start, remote.size)
        part.touch()  # an empty file needs no request, but still a name to rename
        if start < remote.size:
            url = f"{self.endpoint}/{self.repo}/resolve/{urllib.parse.quote(self.revision, safe='')}/"
            url += urllib.parse.quote(remote.path)
            what = f"{remote.path} in {self.repo}"
            try:
                response = _open(url, repo=self.repo, what=what, endpoint=self.endpoint, timeout=self.timeout,
                                 start=start)  # fmt: skip
            except _Changed:
                part.unlink(
                    missing_ok=True
                )  # not a prefix of what the server has now: start afresh next time
                raise
            with response:
                if start and not self._resumes(response, start):
                    logger.info("%s: the server sent the whole file, not the rest: starting it again", url)
                    self.done -= start
                    start = 0
                    sha256, sha1 = self._hash_prefix(part, 0, remote.size)
                received = self._stream(response, part, start, remote, sha256, sha1)
            if start + received < remote.size:
                raise DownloadError(
                    f"The connection to Hugging Face broke off during {remote.path} ({start + received} of "
                    f"{remote.size} bytes). Check the internet connection; {RESUME_HINT}."
                )
        return self._accept(remote, part, target, sha256.hexdigest(), sha1.hexdigest())

    @staticmethod
    def _resumes(response: Any, start: int) -> bool:
        """Whether the server answered the Range request with the rest of the file, not all of it."""
        content_range = response.headers.get("Content-Range") or ""
        return response.status == 206 and content_range.startswith(f"bytes {start}-")

    @staticmethod
    def _hash_prefix(part: Path, start: int, size: int) -> tuple[Any, Any]:
        """Checksums over what is already on disk, so a resumed file is still checked from its first byte."""
        sha256, sha1 = hashlib.sha256(), hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
        if start:
            with open(part, "rb") as handle:
                while block := handle.read(1 << 20):
                    sha256.update(block)
                    sha1.update(block)
        else:
            part.unlink(missing_ok=True)
        return sha256, sha1

    def _stream(
        self, response: Any, part: Path, start: int, remote: RemoteFile, sha256: Any, sha1: Any
    ) -> int:
        import http.client

        received = 0
        try:
            out = open(part, "ab" if start else "wb")  # noqa: SIM115 - closed below, whatever happens
        except OSError as exc:
            raise disk_error(exc, part) from exc
        with out:
            while start + received < remote.size:
                if self.cancel is not None and self.cancel.cancelled:
                    raise CancelledError()  # what arrived stays in the .part file for next time
                try:
                    block = response.read(min(BLOCK, remote.size - start - received))
                except (OSError, http.client.HTTPException) as exc:
                    if isinstance(exc, TimeoutError):
                        raise _unreachable(exc) from exc
                    logger.info("Transfer of %s broke off: %s", remote.path, exc)
                    break
                if not block:
                    break
                try:
                    out.write(block)
                except OSError as exc:
                    raise disk_error(exc, part) from exc
                sha256.update(block)
                sha1.update(block)
                received += len(block)
                self.done += len(block)
                self._report(remote.path, len(block))
        return received

    def _accept(self, remote: RemoteFile, part: Path, target: Path, sha256: str, sha1: str) -> str:
        """Check a complete file and give it its real name, or delete it and say so."""
        if (remote.sha256 and sha256 != remote.sha256.lower()) or (
            not remote.sha256 and remote.git_oid and sha1 != remote.git_oid.lower()
        ):
            part.unlink(missing_ok=True)
            self.state["parts"].pop(remote.path, None)
            self._save_state()
            raise DownloadError(
                f"{remote.path} from {self.repo} arrived damaged (its checksum does not match), so it was "
                "deleted. Run the download again to fetch it anew."
            )
        os.replace(part, target)
        self.state["parts"].pop(remote.path, None)
        self.state["verified"][remote.path] = {"id": remote.identity, "sha256": sha256}
        self._save_state()
        return sha256
