"""Generations as a user sees them: speak-and-save, and the history (list, search, show, favourite,
delete, undo). Opening the library also tidies what a crash may have left behind."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from app.core.models import CancelToken, SynthesisRequest
from app.services.sinks import FileSink, Sink, TeeSink
from app.services.synthesis import ProgressCallback, SynthesisResult, SynthesisService
from app.storage.library import Generation, HistoryFilter, Library, NotFoundError

logger = logging.getLogger(__name__)

__all__ = ["Generation", "HistoryFilter", "HistoryService", "NotFoundError"]


class HistoryService:
    """The user's library of generations. One per process is enough; it is cheap to create."""

    def __init__(self, library: Library | None = None) -> None:
        self.library = library if library is not None else Library()
        self.library.clean_orphans()

    # --- saving ---------------------------------------------------------------------------------------
    def speak_and_save(
        self,
        synthesis: SynthesisService,
        request: SynthesisRequest,
        also: Sink | None = None,
        cancel: CancelToken | None = None,
        progress: ProgressCallback | None = None,
    ) -> tuple[SynthesisResult, Generation]:
        """Synthesize into the library (and ``also``, e.g. the speakers or a file the user named).

        The audio is written atomically under ``generations/`` and only then recorded; a failed or
        cancelled job leaves neither a file nor a row.
        """
        path = self.library.new_generation_path(".wav")
        keep = FileSink(path)
        sink: Sink = keep if also is None else TeeSink(keep, also)
        result = synthesis.synthesize(request, sink, cancel=cancel, progress=progress)
        generation = self.library.add_generation(
            path,
            text=request.text,
            engine=result.engine,
            voice=result.voice,
            duration=result.audio_seconds,
            sample_rate=result.sample_rate,
            params={"speed": request.speed},
            seed=request.seed,
            language=request.language,
            timings={
                "load_s": round(result.load_seconds, 4),
                "first_audio_s": round(result.first_audio_seconds or 0.0, 4),
                "total_s": round(result.total_seconds, 4),
                "rtf": round(result.rtf, 4),
            },
        )
        return result, generation

    # --- browsing -------------------------------------------------------------------------------------
    def list(
        self, filters: HistoryFilter | None = None, page: int = 1, page_size: int = 50
    ) -> list[Generation]:
        return self.library.history(filters, page, page_size)

    def search(
        self, query: str, filters: HistoryFilter | None = None, page: int = 1, page_size: int = 50
    ) -> list[Generation]:
        return self.library.search(query, filters, page, page_size)

    def show(self, generation_id: int) -> Generation:
        return self.library.get(generation_id)

    def audio_path(self, generation: Generation) -> Path:
        return self.library.absolute(generation)

    def favourite(self, generation_id: int, on: bool = True) -> Generation:
        return self.library.set_favourite(generation_id, on)

    def delete(self, generation_id: int) -> Generation:
        return self.library.delete(generation_id)

    def undo(self) -> Generation:
        return self.library.undo_delete()


def as_dict(generation: Generation, service: HistoryService) -> dict[str, Any]:
    """JSON-ready form of a generation, with the absolute path of its audio."""
    data = dataclasses.asdict(generation)
    data["path"] = str(service.audio_path(generation))
    return data
