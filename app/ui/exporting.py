"""Export a saved take, or a selected region of the timeline, to WAV, FLAC, MP3 or M4A.

The file name is asked for on the main thread; encoding (seconds for an hour of MP3) runs on the I/O
lane, and the file appears only when complete (the core exporter writes atomically).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QWidget

from app import settings as settings_mod
from app.core.export import EXPORT_FORMATS
from app.core.track import AudioTrack
from app.ui.worker import InferenceLane, JobError

logger = logging.getLogger(__name__)


def suggested_name(text: str, suffix: str) -> str:
    """A file name from the first words of the text: ``Welcome-to-Timbre.wav``."""
    words = re.findall(r"\w+", text)[:6]
    stem = "-".join(words)[:60] or "Timbre"
    return f"{stem}{suffix}"


def file_filter() -> str:
    return ";;".join(f"{name} (*{suffix})" for suffix, name in EXPORT_FORMATS.items())


class Exporter:
    """Asks where, then writes on the I/O lane; reports through the window's status bar and errors."""

    def __init__(self, window: Any, lane: InferenceLane, context: Any) -> None:
        self.window = window
        self.lane = lane
        self.context = context
        self.choose_path: Callable[[str], Path | None] = self._ask
        """Returns where to write (``None`` = the user cancelled); tests replace it."""

    @property
    def _settings(self) -> settings_mod.Settings:
        return self.context.settings

    def _suffix(self) -> str:
        suffix = f".{self._settings.output_format}"
        return suffix if suffix in EXPORT_FORMATS else ".wav"

    def _ask(self, name: str) -> Path | None:
        folder = settings_mod.output_folder_path(self._settings)
        parent: QWidget = self.window
        chosen, _ = QFileDialog.getSaveFileName(parent, "Export", str(folder / name), file_filter())
        if not chosen:
            return None
        path = Path(chosen)
        return path if path.suffix.lower() in EXPORT_FORMATS else path.with_suffix(self._suffix())

    def _loudness(self) -> float | None:
        return self._settings.loudness_target if self._settings.normalise_exports else None

    def export_generation(self, generation_id: int) -> None:
        from app.core.export import export_file

        try:
            generation = self.context.history.show(generation_id)
            source = self.context.history.audio_path(generation)
        except Exception as exc:  # noqa: BLE001 - shown as a plain message
            self.window.show_error(JobError.from_exception(exc))
            return
        dest = self.choose_path(suggested_name(generation.text, self._suffix()))
        if dest is None:
            return
        loudness = self._loudness()
        self._run(dest, lambda _ctx: export_file(source, dest, loudness=loudness))

    def export_track(self, track: AudioTrack, start: float | None, end: float | None) -> None:
        from app.core.export import export_audio

        rate = track.sample_rate
        first = 0 if start is None else int(start * rate)
        last = track.frames if end is None else int(end * rate)
        samples = track.view(first, last).copy()
        if samples.size == 0:
            return
        dest = self.choose_path(
            suggested_name("Timbre selection" if start is not None else "Timbre", self._suffix())
        )
        if dest is None:
            return
        loudness = self._loudness()
        self._run(dest, lambda _ctx: export_audio(samples, rate, dest, loudness=loudness))

    def _run(self, dest: Path, work: Callable[[Any], Path]) -> None:
        self.window.statusBar().showMessage(f"Exporting {dest.name}…")
        self.lane.submit(
            f"Export {dest.name}",
            work,
            on_done=lambda path: self.window.statusBar().showMessage(f"Exported {Path(path).name}", 8000),
            on_error=self.window.show_error,
        )
