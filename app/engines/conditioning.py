"""Speaker-conditioning cache: what an engine derives from a voice's recordings (Qwen3 clone prompts,
XTTS latents, voice prints...), kept so it is computed once.

The key is a hash of (engine, model, the recordings' content, their transcripts), so editing a sample
or a transcript simply makes a new key: stale entries are never returned. Entries live in a small
in-memory LRU and on disk as ``cache/prompts/<engine>/<key>.npz``, a format that runs no code when
loaded (``allow_pickle=False``); writes are atomic.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import re
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

Arrays = dict[str, np.ndarray]
_SAFE = re.compile(r"^[a-z0-9_.-]+$")


def conditioning_key(engine: str, model: str, audio_hashes: list[str], transcripts: list[str]) -> str:
    """A stable key for (engine, model, recordings, transcripts); order of recordings matters."""
    digest = hashlib.sha256()
    for part in (engine, model, *audio_hashes, "\x00", *transcripts):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def save_npz(path: Path, arrays: Arrays) -> None:
    """Write ``arrays`` to ``path`` as an ``.npz`` atomically (temp file beside it, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".entry-", suffix=".npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


class ConditioningCache:
    """Memory (LRU, ``capacity`` entries) in front of ``folder/<engine>/<key>.npz``."""

    def __init__(self, folder: Path, capacity: int = 16) -> None:
        self.folder = folder
        self.capacity = capacity
        self._memory: collections.OrderedDict[tuple[str, str], Arrays] = collections.OrderedDict()
        self._lock = threading.Lock()

    def _path(self, engine: str, key: str) -> Path:
        if not _SAFE.match(engine) or not _SAFE.match(key):
            raise ValueError(f"Unsafe cache name: {engine}/{key}")
        return self.folder / engine / f"{key}.npz"

    def is_cached(self, engine: str, key: str) -> bool:
        """Whether ``get`` would answer without computing anything (the UI's cached indicator)."""
        with self._lock:
            if (engine, key) in self._memory:
                return True
        return self._path(engine, key).is_file()

    def get(self, engine: str, key: str) -> Arrays | None:
        with self._lock:
            if (engine, key) in self._memory:
                self._memory.move_to_end((engine, key))
                return self._memory[(engine, key)]
        path = self._path(engine, key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:  # damaged: dropped, recomputed
            logger.warning("Dropping damaged conditioning cache %s: %s", path, exc)
            path.unlink(missing_ok=True)
            return None
        self._remember(engine, key, arrays)
        return arrays

    def put(self, engine: str, key: str, arrays: Arrays) -> None:
        path = self._path(engine, key)
        try:
            save_npz(path, arrays)
        except OSError as exc:  # a cache that cannot be written only costs time
            logger.warning("Conditioning cache not written (%s); it stays in memory only", exc)
        self._remember(engine, key, arrays)

    def _remember(self, engine: str, key: str, arrays: Arrays) -> None:
        with self._lock:
            self._memory[(engine, key)] = arrays
            self._memory.move_to_end((engine, key))
            while len(self._memory) > self.capacity:
                self._memory.popitem(last=False)
