"""The model manager as the app sees it: JSON-ready rows, and download, remove, verify and import.

The UI may not import ``app.engines``, so this service is its door to :class:`app.engines.hub.Hub`.
Rows are plain dicts (the window and any future ``--json`` output read the same thing); progress events
are :class:`DownloadProgress` objects, re-exported here so the UI can name their type. Licences are the
caller's business: :meth:`ModelService.download` accepts the licence, so the window asks first.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.models import CancelToken
from app.engines.hub import Hub, ModelStatus, default_hub
from app.engines.hub_transfer import DownloadProgress

logger = logging.getLogger(__name__)

__all__ = ["DownloadProgress", "ModelService", "size_text"]

INSTALLED = "installed"
PARTIAL = "partial"
NOT_INSTALLED = "not installed"


def size_text(nbytes: float) -> str:
    """Decimal units, as the Finder counts them: 850 KB, 412.3 MB, 1.87 GB."""
    if nbytes < 1_000_000:
        return f"{max(nbytes, 0) / 1000:.0f} KB"
    if nbytes < 1_000_000_000:
        return f"{nbytes / 1_000_000:.1f} MB"
    return f"{nbytes / 1_000_000_000:.2f} GB"


def _row(status: ModelStatus) -> dict[str, Any]:
    from app.engines.translation import translator_ids

    spec = status.spec
    return {
        "id": spec.id,
        "engine": spec.engine,
        "used_by": "translation" if spec.engine in translator_ids() else f"{spec.engine} engine",
        "repo": spec.repo,
        "description": spec.description,
        "size_bytes": spec.size_bytes,
        "size": size_text(spec.size_bytes),
        "memory_bytes": spec.memory_bytes,
        "state": status.state,
        "bytes_on_disk": status.bytes_on_disk,
        "licence": spec.licence,
        "licence_url": spec.licence_url,
        "commercial_use": spec.commercial_use,
        "licence_notice": spec.licence_notice,
    }


class ModelService:
    """Lists the catalogue's models as they stand on disk and changes them; every call may be slow
    (downloads, checksums, copies of gigabytes) except :meth:`list` and :meth:`row`, so the UI runs the
    others on a lane."""

    def __init__(self, hub: Hub | None = None) -> None:
        self.hub = hub if hub is not None else default_hub()

    @property
    def folder(self) -> Path:
        """Where installed models live."""
        return self.hub.folder

    def list(self) -> list[dict[str, Any]]:
        """Every catalogue model, in catalogue order, as a JSON-ready row."""
        return [_row(status) for status in self.hub.list_models()]

    def row(self, model_id: str) -> dict[str, Any]:
        """One model's row (reads the disk: its state may have changed)."""
        return _row(self.hub.status(model_id))

    def download(
        self,
        model_id: str,
        progress: Callable[[DownloadProgress], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> str:
        """Fetch and install the model, resuming a partial download; returns its folder.

        The licence counts as accepted: whoever calls this has shown it (the window does, first).
        Cancelling raises :class:`~app.core.errors.CancelledError` and keeps what arrived.
        """
        return str(self.hub.download(model_id, progress=progress, cancel=cancel, accept_licence=True))

    def remove(self, model_id: str) -> int:
        """Delete the model and any partial download of it; returns the bytes freed."""
        return self.hub.remove(model_id)

    def verify(self, model_id: str) -> dict[str, Any]:
        """Check the installed files; ``ok`` and a plain ``message`` say how it went."""
        report = self.hub.verify(model_id)
        problems: builtins.list[str] = [
            *(f"{name} is missing" for name in report.missing),
            *(f"{name} has the wrong size" for name in report.wrong_size),
            *(f"{name} is damaged (its checksum does not match)" for name in report.wrong_sha256),
        ]
        if report.ok:
            message = f"All {report.checked} files of {report.model_id} are present and intact."
        else:
            message = f"{report.model_id} is damaged: {'; '.join(problems)}. Remove it and download it again."
        return {
            "model_id": report.model_id,
            "ok": report.ok,
            "checked": report.checked,
            "missing": builtins.list(report.missing),
            "wrong_size": builtins.list(report.wrong_size),
            "wrong_sha256": builtins.list(report.wrong_sha256),
            "message": message,
        }

    def import_folder(self, model_id: str, folder: str | Path) -> str:
        """Copy a model already on disk (a Hugging Face snapshot) into place; returns its new folder."""
        return str(self.hub.import_folder(model_id, Path(folder)))
