"""The model manager: which weights each engine needs, where they live, and getting them there.

Each :class:`ModelSpec` names a Hugging Face repository, the files Timbre needs from it, their rough
size and the licence (shown before a download: XTTS v2 is non-commercial). A model is installed in
``<models folder>/<model id>/`` and counts as installed only once its manifest
(``.timbre-model.json``, written last) is there, so a half-finished download or import never looks
usable. Engines call :meth:`Hub.require` in ``load()``.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.core.errors import EngineUnavailableError, TimbreError

logger = logging.getLogger(__name__)

MANIFEST = ".timbre-model.json"


class ModelNotFoundError(TimbreError):
    """No model in the catalogue has that id."""


@dataclass(frozen=True)
class ModelSpec:
    """One downloadable model: a repository and the files of it that an engine reads."""

    id: str
    engine: str
    repo: str
    description: str
    files: tuple[str, ...]
    """Paths in the repository; a trailing ``*`` matches any name in that folder (``voices/*.pt``)."""
    required: tuple[str, ...]
    """Files that must be present for the model to load (checked after a download or an import)."""
    size_bytes: int
    """About how much it downloads (the exact sizes come from the hub's file list)."""
    licence: str
    licence_url: str
    commercial_use: bool = True
    revision: str = "main"
    memory_bytes: int = 0
    """About how much memory the engine takes with these weights loaded."""

    @property
    def licence_notice(self) -> str:
        """The licence in one or two sentences, said before a download."""
        text = f"{self.repo} is licensed under the {self.licence} ({self.licence_url})."
        if not self.commercial_use:
            text += " It may not be used for commercial purposes."
        return text


_QWEN_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "preprocessor_config.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "speech_tokenizer/config.json",
    "speech_tokenizer/preprocessor_config.json",
    "speech_tokenizer/model.safetensors",
)
_QWEN_REQUIRED = ("config.json", "model.safetensors", "speech_tokenizer/model.safetensors")
_APACHE = ("Apache License 2.0", "https://www.apache.org/licenses/LICENSE-2.0")
GB = 1_000_000_000


def _qwen(size: str, kind: str, repo_kind: str, description: str, nbytes: float) -> ModelSpec:
    return ModelSpec(
        id=f"qwen3-tts-{size.lower()}-{kind}",
        engine="qwen3",
        repo=f"Qwen/Qwen3-TTS-12Hz-{size}-{repo_kind}",
        description=description,
        files=_QWEN_FILES,
        required=_QWEN_REQUIRED,
        size_bytes=int(nbytes * GB),
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        memory_bytes=int(nbytes * 1.3 * GB),
    )


CATALOG: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        _qwen("0.6B", "base", "Base", "Qwen3-TTS 0.6B: clone a voice from a 3-second recording", 2.5),
        _qwen("1.7B", "base", "Base", "Qwen3-TTS 1.7B: clone a voice (higher quality, slower)", 4.5),
        _qwen("0.6B", "customvoice", "CustomVoice", "Qwen3-TTS 0.6B: 9 preset speakers with styles", 2.5),
        _qwen("1.7B", "customvoice", "CustomVoice", "Qwen3-TTS 1.7B: 9 preset speakers with styles", 4.5),
        _qwen("1.7B", "voicedesign", "VoiceDesign", "Qwen3-TTS 1.7B: design a voice from a description", 4.5),
        ModelSpec(
            id="xtts-v2",
            engine="xtts",
            repo="coqui/XTTS-v2",
            description="Coqui XTTS v2: clone a voice in 17 languages; 58 studio speakers",
            files=("config.json", "model.pth", "vocab.json", "speakers_xtts.pth"),
            required=("config.json", "model.pth", "vocab.json"),
            size_bytes=int(1.9 * GB),
            licence="Coqui Public Model License 1.0.0",
            licence_url="https://coqui.ai/cpml",
            commercial_use=False,
            memory_bytes=int(2.5 * GB),
        ),
        ModelSpec(
            id="kokoro-82m",
            engine="kokoro-torch",
            repo="hexgrad/Kokoro-82M",
            description="Kokoro-82M full precision for PyTorch (CPU, CUDA, Apple GPU)",
            files=("config.json", "kokoro-v1_0.pth", "voices/*.pt"),
            required=("config.json", "kokoro-v1_0.pth"),
            size_bytes=int(0.36 * GB),
            licence=_APACHE[0],
            licence_url=_APACHE[1],
            memory_bytes=int(0.6 * GB),
        ),
    )
}


@dataclass
class Manifest:
    """What ``.timbre-model.json`` records about an installed model."""

    id: str
    repo: str
    revision: str
    source: str
    """``download`` or ``import:<folder>``."""
    files: dict[str, dict[str, object]] = field(default_factory=dict)
    """Path -> {"size": bytes, "sha256": hex or ""}."""
    installed_at: float = 0.0


class Hub:
    """The models folder and the catalogue: status, require, download, verify, import, remove."""

    def __init__(
        self,
        folder: Path | None = None,
        endpoint: str | None = None,
        catalog: dict[str, ModelSpec] | None = None,
    ) -> None:
        from app import paths

        self.folder = Path(folder) if folder is not None else paths.models_dir()
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
        self.catalog = dict(catalog if catalog is not None else CATALOG)

    def spec(self, model_id: str) -> ModelSpec:
        """The catalogue entry, or an error that names close ids."""
        key = model_id.strip().lower()
        if key in self.catalog:
            return self.catalog[key]
        close = difflib.get_close_matches(key, list(self.catalog), n=3, cutoff=0.4)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ModelNotFoundError(f"There is no model called '{model_id}'.{hint} Run 'timbre models list'.")

    def path(self, model_id: str) -> Path:
        """The folder the model lives in (whether or not it is installed)."""
        return self.folder / self.spec(model_id).id

    def manifest(self, model_id: str) -> Manifest | None:
        """The manifest of an installed model, ``None`` when it is not (fully) installed."""
        target = self.path(model_id) / MANIFEST
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
            return Manifest(**data)
        except (OSError, ValueError, TypeError):
            return None

    def is_installed(self, model_id: str) -> bool:
        spec = self.spec(model_id)
        if self.manifest(spec.id) is None:
            return False
        root = self.path(spec.id)
        return all((root / name).is_file() for name in spec.required)

    def require(self, model_id: str) -> Path:
        """The installed model's folder, or a plain error saying how to get it."""
        spec = self.spec(model_id)
        if not self.is_installed(spec.id):
            raise EngineUnavailableError(
                f"The model {spec.id} ({spec.description}) is not installed. "
                f"Run: timbre models download {spec.id}"
            )
        return self.path(spec.id)

    def import_folder(self, model_id: str, source: Path) -> Path:
        """Copy a model already on disk (a Hugging Face snapshot, say) into the models folder.

        The copy is made in a temporary folder beside the target and renamed into place only when every
        required file is there, so a failed import leaves nothing behind.
        """
        spec = self.spec(model_id)
        source = Path(source).expanduser()
        if not source.is_dir():
            raise TimbreError(f"{source} is not a folder.")
        missing = [name for name in spec.required if not (source / name).is_file()]
        if missing:
            raise TimbreError(
                f"{source} does not look like {spec.repo}: it lacks {', '.join(missing)}. Nothing was imported."
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.id}.", suffix=".import", dir=self.folder))
        try:
            shutil.copytree(source, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(MANIFEST, ".git"))
            files = {
                str(p.relative_to(staging)): {"size": p.stat().st_size, "sha256": ""}
                for p in staging.rglob("*")
                if p.is_file()
            }
            manifest = Manifest(spec.id, spec.repo, spec.revision, f"import:{source}", files, time.time())
            (staging / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=1), encoding="utf-8")
            target = self.path(spec.id)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        logger.info("Imported %s from %s", spec.id, source)
        return self.path(spec.id)


def default_hub() -> Hub:
    """A hub on the configured models folder (``TIMBRE_MODELS_DIR`` or the data folder's ``models``)."""
    return Hub()
