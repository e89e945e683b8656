"""The model manager: which weights each engine needs, where they live, and getting them there.

Each :class:`ModelSpec` names a Hugging Face repository, the files Timbre needs from it, their rough
size and the licence (shown before a download: XTTS v2 is non-commercial). A model is installed in
``<models folder>/<model id>/`` and counts as installed only once its manifest
(``.timbre-model.json``, written last) is there, so a half-finished download or import never looks
usable. Engines call :meth:`Hub.require` in ``load()``.

A download gathers its files in ``<models folder>/.<model id>.partial/`` (see :mod:`hub_transfer`), so a
cancelled or broken download resumes where it stopped, and the folder is renamed into place only when
every file is there and checked.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import EngineUnavailableError, TimbreError
from app.engines.model_catalog import CATALOG, ModelSpec

if TYPE_CHECKING:
    from app.core.models import CancelToken
    from app.engines.hub_transfer import ProgressCallback

logger = logging.getLogger(__name__)

MANIFEST = ".timbre-model.json"


class ModelNotFoundError(TimbreError):
    """No model in the catalogue has that id."""


class LicenceNotAcceptedError(TimbreError):
    """The model's licence restricts its use and the person did not agree to it."""


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


@dataclass(frozen=True)
class ModelStatus:
    """One catalogue model as it stands on this computer."""

    spec: ModelSpec
    state: str
    """``installed``, ``partial`` (a download was started) or ``not installed``."""
    bytes_on_disk: int
    """The installed folder's size, or what a partial download has so far."""

    def as_dict(self) -> dict[str, object]:
        s = self.spec
        return {
            "id": s.id,
            "engine": s.engine,
            "repo": s.repo,
            "description": s.description,
            "state": self.state,
            "bytes_on_disk": self.bytes_on_disk,
            "size_bytes": s.size_bytes,
            "licence": s.licence,
            "licence_url": s.licence_url,
            "commercial_use": s.commercial_use,
        }


@dataclass
class VerifyReport:
    """What :meth:`Hub.verify` found wrong with an installed model (nothing, ideally)."""

    model_id: str
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    wrong_size: list[str] = field(default_factory=list)
    wrong_sha256: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.wrong_size or self.wrong_sha256)


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def _partial_bytes(staging: Path) -> int:
    """What a download has gathered so far, its bookkeeping files aside."""
    if not staging.is_dir():
        return 0
    from app.engines.hub_transfer import LOCK, STATE

    return sum(
        p.stat().st_size for p in staging.rglob("*") if p.is_file() and not p.name.startswith((LOCK, STATE))
    )


def sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


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

    def staging(self, model_id: str) -> Path:
        """Where a download gathers its files until every one is there."""
        return self.folder / f".{self.spec(model_id).id}.partial"

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
                f"{source} does not look like {spec.repo}: it lacks {', '.join(missing)}. "
                "Nothing was imported."
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.id}.", suffix=".import", dir=self.folder))
        try:
            shutil.copytree(
                source, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(MANIFEST, ".git")
            )
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

    def status(self, model_id: str) -> ModelStatus:
        """Installed, partly downloaded or not installed, with the bytes on disk."""
        spec = self.spec(model_id)
        if self.is_installed(spec.id):
            return ModelStatus(spec, "installed", _folder_bytes(self.path(spec.id)))
        staging = self.staging(spec.id)
        partial = _partial_bytes(staging)
        if partial:  # a download that never got a byte (offline, say) is no download at all
            return ModelStatus(spec, "partial", partial)
        return ModelStatus(spec, "not installed", 0)

    def list_models(self) -> list[ModelStatus]:
        """Every catalogue model, in catalogue order."""
        return [self.status(model_id) for model_id in self.catalog]

    def download(
        self,
        model_id: str,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        accept_licence: bool | Callable[[ModelSpec], bool] = False,
    ) -> Path:
        """Fetch the model from Hugging Face and install it; returns its folder.

        A licence that forbids commercial use must be agreed to first (``accept_licence``: True, or a
        function asked with the spec). Cancelling raises :class:`CancelledError` and keeps what arrived,
        so the next call resumes; so does a network failure (a plain ``DownloadError``).
        """
        from app.engines import hub_transfer as transfer

        spec = self.spec(model_id)
        if self.is_installed(spec.id):
            return self.path(spec.id)
        if not spec.commercial_use:
            agreed = accept_licence(spec) if callable(accept_licence) else accept_licence
            if not agreed:
                raise LicenceNotAcceptedError(
                    f"{spec.licence_notice} Nothing was downloaded: the licence was not accepted."
                )
        staging, target = self.staging(spec.id), self.path(spec.id)
        with transfer.staging_lock(staging):
            try:
                count = self._download_into(spec, staging, progress, cancel)
            except BaseException:
                if not _partial_bytes(staging):  # nothing arrived: leave no trace of the attempt
                    shutil.rmtree(staging, ignore_errors=True)
                raise
        logger.info("Downloaded %s (%d files) into %s", spec.id, count, target)
        return target

    def _download_into(
        self, spec: ModelSpec, staging: Path, progress: ProgressCallback | None, cancel: CancelToken | None
    ) -> int:
        """Fetch into the staging folder (the caller holds its lock), then rename it into place."""
        from app.engines import hub_transfer as transfer

        files = transfer.list_files(self.endpoint, spec.repo, spec.revision, spec.files)
        missing = [name for name in spec.required if name not in {f.path for f in files}]
        if missing:
            raise transfer.DownloadError(
                f"{spec.repo} on Hugging Face lacks {', '.join(missing)}, so Timbre cannot use it."
            )
        job = transfer.StagedDownload(
            spec.id, self.endpoint, spec.repo, spec.revision, staging, files, progress, cancel
        )
        shas = job.run()
        entries = {f.path: {"size": f.size, "sha256": shas[f.path]} for f in files}
        manifest = Manifest(spec.id, spec.repo, spec.revision, "download", entries, time.time())
        (staging / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=1), encoding="utf-8")
        for bookkeeping in (transfer.STATE, transfer.STATE + ".tmp", transfer.LOCK):
            (staging / bookkeeping).unlink(missing_ok=True)  # the open handle keeps the lock till the rename
        target = self.path(spec.id)
        if target.exists():
            shutil.rmtree(target)  # an unfinished import or a damaged install: replaced whole
        os.replace(staging, target)
        return len(files)
        logger.info("Downloaded %s (%d files) into %s", spec.id, len(files), target)
        return target

    def remove(self, model_id: str) -> int:
        """Delete the installed model and any partial download of it; returns the bytes freed."""
        from app.engines.hub_transfer import DownloadError, is_locked

        spec = self.spec(model_id)
        staging = self.staging(spec.id)
        if staging.is_dir() and is_locked(staging):
            raise DownloadError(f"{spec.id} is being downloaded right now; cancel that first.")
        freed = 0
        for folder in (self.path(spec.id), staging):
            if folder.is_dir():
                freed += _folder_bytes(folder)
                shutil.rmtree(folder)
        logger.info("Removed %s (%d bytes)", spec.id, freed)
        return freed

    def verify(self, model_id: str) -> VerifyReport:
        """Check every file the manifest lists: there, the right size, and the right sha256 where known."""
        spec = self.spec(model_id)
        manifest = self.manifest(spec.id)
        if manifest is None:
            raise TimbreError(f"{spec.id} is not installed, so there is nothing to check.")
        root, report = self.path(spec.id), VerifyReport(spec.id)
        expected = dict(manifest.files)
        for name in spec.required:
            expected.setdefault(name, {})
        for name, entry in sorted(expected.items()):
            report.checked += 1
            file = root / name
            if not file.is_file():
                report.missing.append(name)
            elif "size" in entry and file.stat().st_size != entry["size"]:
                report.wrong_size.append(name)
            elif entry.get("sha256") and sha256_file(file) != entry["sha256"]:
                report.wrong_sha256.append(name)
        return report


def default_hub() -> Hub:
    """A hub on the configured models folder (``TIMBRE_MODELS_DIR`` or the data folder's ``models``)."""
    return Hub()
