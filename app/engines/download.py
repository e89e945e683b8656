"""Fetch a file over HTTPS with progress, a checksum, cancel, and an atomic rename at the end."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from app.core.errors import CancelledError, TimbreError
from app.core.models import CancelToken

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total or 0 when unknown)."""

_BLOCK = 1 << 16


class DownloadError(TimbreError):
    """A download failed; the message says why in plain words."""


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``dest``; ``dest`` appears only when complete and verified."""
    import urllib.error  # here, not at the top: the app starts faster without the HTTP stack
    import urllib.request

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - https URLs we pin
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DownloadError(
                f"Could not download {url}: {getattr(exc, 'reason', exc)}. Check the internet connection."
            ) from exc
        with response, os.fdopen(fd, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while True:
                if cancel is not None and cancel.cancelled:
                    raise CancelledError()
                block = response.read(_BLOCK)
                if not block:
                    break
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if total and done != total:
            raise DownloadError(f"The download of {url} stopped after {done} of {total} bytes.")
        if sha256 and digest.hexdigest() != sha256:
            raise DownloadError(f"The file from {url} is damaged (checksum mismatch); it was not kept.")
        os.replace(tmp, dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)
