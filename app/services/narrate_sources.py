"""Where an agent's stream comes from: standard input, or a file being written that narration follows.

Both are plain blocking iterators of lines (bytes, newline included) that the narrator reads on a thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

MAX_LINE = 64 * 1024 * 1024
"""A line longer than this (a runaway tool result with no newline) is dropped rather than held in memory."""


def stream_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of ``stream`` (standard input) as they come, until it ends.

    Read with ``os.read`` on its descriptor, not through the buffered reader: the reading thread may still
    be waiting for the agent when the program exits, and a thread blocked inside a buffered read makes
    the interpreter abort at shutdown.
    """
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        yield from iter(stream.readline, b"")
        return
    partial = b""
    while chunk := os.read(descriptor, 1 << 16):
        partial += chunk
        if b"\n" not in chunk:
            continue
        *lines, partial = partial.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if partial:
        yield partial


def follow_file(
    path: str | os.PathLike[str],
    stop: threading.Event,
    from_start: bool = False,
    poll: float = 0.1,
) -> Iterator[bytes]:
    """Complete lines appended to ``path`` from now on (or from its start), until ``stop`` is set.

    Like ``tail -F``: waits for the file to appear, holds a line until its newline arrives, starts again
    from the top when the file is truncated or replaced (an agent run writing a fresh file). "From now
    on" means from the file's size when this is called, so nothing written meanwhile is missed; a file
    that appears later is new from its first line.
    """
    target = Path(path).expanduser()
    try:
        start = 0 if from_start else target.stat().st_size
    except FileNotFoundError:
        start = 0
    return _follow(target, stop, start, poll)


def _follow(target: Path, stop: threading.Event, start: int, poll: float) -> Iterator[bytes]:
    handle: BinaryIO | None = None
    identity: tuple[int, int] | None = None
    partial = b""
    first = True
    try:
        while not stop.is_set():
            if handle is None:
                try:
                    handle = open(target, "rb")  # noqa: SIM115 - kept open across iterations
                except FileNotFoundError:
                    stop.wait(poll)
                    continue
                info = os.fstat(handle.fileno())
                identity = (info.st_dev, info.st_ino)
                if first and start <= info.st_size:
                    handle.seek(start)
                first, partial = False, b""
            chunk = handle.read(1 << 16)
            if chunk:
                partial += chunk
                *lines, partial = partial.split(b"\n")
                for line in lines:
                    yield line + b"\n"
                if len(partial) > MAX_LINE:
                    logger.warning("Dropped a line of over %d MB with no end in %s", MAX_LINE >> 20, target)
                    partial = b""
                continue
            if _replaced(target, identity, handle.tell()):
                logger.info("%s was truncated or replaced; reading it from the start", target)
                handle.close()
                handle, first = None, False
                continue
            stop.wait(poll)
    finally:
        if handle is not None:
            handle.close()


def _replaced(path: Path, identity: tuple[int, int] | None, position: int) -> bool:
    """True when ``path`` is now another file, or shorter than what has been read of it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return False  # removed: keep waiting on the open file until a new one appears
    return (info.st_dev, info.st_ino) != identity or info.st_size < position
