"""Generations as a user sees them: speak-and-save, and the history (list, search, show, play, export,
regenerate, favourite, delete, undo). Opening the library also tidies what a crash may have left behind."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from pathlib import Path
from typing import Any

from app.core.models import SAMPLING_PARAMS, CancelToken, SynthesisRequest
from app.services.playback import BufferedOutput
from app.services.sinks import FileSink, PlaybackSink, Sink, TeeSink
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
        regenerated_from: int | None = None,
        profile_id: int | None = None,
    ) -> tuple[SynthesisResult, Generation]:
        """Synthesize into the library (and ``also``, e.g. the speakers or a file the user named).

        The audio is written atomically under ``generations/`` and only then recorded; a failed or
        cancelled job leaves neither a file nor a row. A seed is always chosen and kept, so that
        ``regenerate`` can ask a sampling engine for the same take again.
        """
        if request.seed is None:
            request = dataclasses.replace(request, seed=secrets.randbelow(2**31))
        if profile_id is not None and not request.references and request.engine:
            if synthesis.registry.get(request.engine).capabilities.clone_from_reference:
                from app.services.profiles import ProfileService

                references = ProfileService(self.library).references(profile_id)
                request = dataclasses.replace(request, references=references)
        params: dict[str, Any] = {"speed": request.speed}
        params.update({k: getattr(request, k) for k in SAMPLING_PARAMS if getattr(request, k) is not None})
        if request.instruct:
            params["instruct"] = request.instruct
        if request.references:
            params["cloned_from"] = [ref.content_hash() for ref in request.references]
        if regenerated_from is not None:
            params["regenerated_from"] = regenerated_from
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
            params=params,
            profile_id=profile_id,
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

    def regenerate(
        self,
        synthesis: SynthesisService,
        generation_id: int,
        also: Sink | None = None,
        cancel: CancelToken | None = None,
        progress: ProgressCallback | None = None,
    ) -> tuple[SynthesisResult, Generation]:
        """Say a saved generation's text again with its engine, voice, parameters and seed; saved anew."""
        old = self.library.get(generation_id)
        request = SynthesisRequest(
            text=old.text,
            voice=old.voice,
            engine=old.engine,
            speed=float(old.params.get("speed", 1.0)),
            language=old.language,
            seed=old.seed,
            **{k: old.params[k] for k in SAMPLING_PARAMS if old.params.get(k) is not None},
            instruct=old.params.get("instruct"),
        )
        if old.params.get("cloned_from") and old.profile_id is not None:
            from app.services.profiles import ProfileService

            references = ProfileService(self.library).references(old.profile_id)
            request = dataclasses.replace(request, references=references)
        return self.speak_and_save(
            synthesis,
            request,
            also,
            cancel=cancel,
            progress=progress,
            regenerated_from=old.id,
            profile_id=old.profile_id,
        )

    # --- listening and exporting ----------------------------------------------------------------------
    def play(
        self, generation_id: int, output: BufferedOutput | None = None, cancel: CancelToken | None = None
    ) -> float:
        """Play a saved generation (on ``output``, the speakers by default); returns its length in seconds."""
        import soundfile as sf

        generation = self.library.get(generation_id)
        sink = PlaybackSink(output)
        cancel = cancel or CancelToken()
        with sf.SoundFile(self.library.absolute(generation)) as audio:
            sink.open(audio.samplerate)
            try:
                for block in audio.blocks(blocksize=audio.samplerate // 2, dtype="float32"):
                    cancel.raise_if_cancelled()
                    sink.write(block if block.ndim == 1 else block.mean(axis=1))
            except BaseException:
                sink.abort()
                raise
            sink.close()
        return generation.duration

    def export(
        self, generation_id: int, dest: Path, loudness: float | None = None, bitrate: int | None = None
    ) -> Path:
        """Write a generation as WAV, FLAC, MP3 or M4A (by ``dest``'s suffix), optionally to a LUFS target."""
        from app.core.export import export_file

        generation = self.library.get(generation_id)
        return export_file(
            self.library.absolute(generation), Path(dest).expanduser(), loudness=loudness, bitrate=bitrate
        )

    # --- browsing -------------------------------------------------------------------------------------
    def list(
        self, filters: HistoryFilter | None = None, page: int = 1, page_size: int = 50
    ) -> list[Generation]:
        return self.library.history(filters, page, page_size)

    def search(
        self, query: str, filters: HistoryFilter | None = None, page: int = 1, page_size: int = 50
    ) -> list[Generation]:
        return self.library.search(query, filters, page, page_size)

    def count(self, filters: HistoryFilter | None = None) -> int:
        """How many live generations pass ``filters``."""
        return self.library.count(filters)

    def facets(self) -> tuple[list[str], list[str]]:
        """(engines, voices) that the history uses, for filter menus."""
        return self.library.facets()

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
