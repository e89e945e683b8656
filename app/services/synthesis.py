"""The streaming synthesis use case: clean and chunk the text, run the engine, hand each chunk to a sink.

Audio reaches the sink as soon as each text chunk is spoken, while the rest is still being computed;
nothing accumulates here, so a book-length text streams in constant memory. A cancel takes effect
between engine chunks, and the sink then discards what it had (no half-written file).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np

from app.core import audio as audio_ops
from app.core.errors import EmptyTextError, TimbreError
from app.core.models import CancelToken, SynthesisRequest
from app.core.pacing import next_chunk_chars
from app.core.text import TextChunk, clean_for_speech, has_speakable_content, iter_chunks
from app.engines.base import Engine
from app.engines.registry import Registry, default_registry
from app.services.guard import guarded_pieces
from app.services.sinks import Sink

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float, int], None]
"""Called after each text chunk with (fraction of the text done, chunks done)."""

CLAUSE_PAUSE = audio_ops.PAUSES["clause"]
FIRST_CHUNK_CHARS = 120
"""The first chunk is one sentence of at most this many characters, so the first audio comes fast."""
MIN_CHUNK_CHARS = 40
MAX_CHUNK_CHARS = 400
"""Later chunks are paced between these bounds (see :mod:`app.core.pacing`). Engines pay a fixed cost per
call (Kokoro's RTF is ~0.73 for 60 characters, ~0.55 for 450 here), so long texts use long chunks."""


@dataclass
class SynthesisResult:
    """Figures for one finished job."""

    engine: str
    voice: str
    sample_rate: int
    chunks: int = 0
    frames: int = 0
    load_seconds: float = 0.0
    """Time spent loading the engine's weights (0 when it was already loaded)."""
    first_audio_seconds: float | None = None
    """From the start of synthesis (after loading) to the first samples handed to the sink."""
    total_seconds: float = 0.0
    """From the start of synthesis (after loading) to the last chunk handed to the sink."""
    waiting_seconds: float = 0.0
    """Part of ``total_seconds`` spent waiting for the sink (a full playback buffer), not computing."""
    warnings: list[str] = field(default_factory=list)
    """Plain sentences worth showing: a slow device, a runaway chunk cut and retried."""

    @property
    def audio_seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    @property
    def rtf(self) -> float:
        """Real-time factor: compute seconds per second of audio (below 1 is faster than real time)."""
        busy = self.total_seconds - self.waiting_seconds
        return busy / self.audio_seconds if self.frames else 0.0


class SynthesisService:
    """Runs synthesis requests against the registry's engines. One job at a time per instance."""

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry if registry is not None else default_registry()

    def cloning_engine(self, engine_id: str | None = None) -> str | None:
        """The engine that clones a profile's voice: ``engine_id`` if it can clone, else (none given) the
        first installed cloning engine; ``None`` when there is none."""
        if engine_id:
            return engine_id if self.registry.get(engine_id).capabilities.clone_from_reference else None
        for engine in self.registry.engines():
            if engine.capabilities.clone_from_reference and engine.availability().ok:
                return engine.id
        return None

    def prepare(self, request: SynthesisRequest) -> tuple[Engine, str, str]:
        """Validate a request without synthesizing: returns (engine, resolved voice, cleaned text)."""
        text = clean_for_speech(request.text or "")
        if not has_speakable_content(text):
            raise EmptyTextError("There is nothing to say: the text is empty or has no words in it.")
        engine, voice = self.registry.resolve(request.voice, request.engine)
        low, high = engine.capabilities.speed_range
        if not low <= float(request.speed) <= high:
            raise TimbreError(
                f"{engine.name} can speak at speeds from {low:g} to {high:g}, not {request.speed:g}."
            )
        return engine, voice, text

    def synthesize(
        self,
        request: SynthesisRequest,
        sink: Sink,
        cancel: CancelToken | None = None,
        progress: ProgressCallback | None = None,
        first_chunk_chars: int | None = None,
    ) -> SynthesisResult:
        """Speak ``request`` into ``sink``; raises (after ``sink.abort()``) on error or cancel.

        ``first_chunk_chars`` caps the first chunk (default ``FIRST_CHUNK_CHARS``): a caller that knows how
        little audio is left to play (narration, between sentences) asks for a first piece that will be
        ready in time."""
        cancel = cancel if cancel is not None else CancelToken()
        engine, voice, text = self.prepare(request)
        rate = engine.capabilities.sample_rate
        result = SynthesisResult(engine=engine.id, voice=voice, sample_rate=rate)

        load_start = time.perf_counter()
        was_loaded = engine.loaded
        self.registry.load(engine)  # also marks it recently used, for the memory-aware unloading
        if not was_loaded:
            result.load_seconds = time.perf_counter() - load_start
        cancel.raise_if_cancelled()
        slow = engine.slow_warning()
        if slow:
            result.warnings.append(slow)

        sink.open(rate)
        try:
            self._run(
                engine,
                dataclasses.replace(request, voice=voice, engine=engine.id),
                text,
                sink,
                cancel,
                progress,
                result,
                first_chunk_chars or FIRST_CHUNK_CHARS,
            )
            if result.frames == 0:
                raise EmptyTextError(f"{engine.name} produced no audio for this text.")
            sink.close()
        except BaseException:
            sink.abort()
            raise
        logger.info(
            "Spoke %.1f s of audio in %.2f s (first audio %.2f s) with %s/%s",
            result.audio_seconds,
            result.total_seconds,
            result.first_audio_seconds or 0.0,
            engine.id,
            voice,
        )
        return result

    def _run(
        self,
        engine: Engine,
        request: SynthesisRequest,
        text: str,
        sink: Sink,
        cancel: CancelToken,
        progress: ProgressCallback | None,
        result: SynthesisResult,
        first_chunk_chars: int = FIRST_CHUNK_CHARS,
    ) -> None:
        """The chunk loop: synthesize, join, hand over, and size the next chunk to keep playback ahead."""
        rate = result.sample_rate
        paced = bool(getattr(sink, "realtime", False))  # otherwise chunks grow geometrically (cheaper)
        streaming = engine.capabilities.streaming
        chunks = iter_chunks(text, first_max_chars=first_chunk_chars, max_chars=MAX_CHUNK_CHARS)
        start = time.perf_counter()
        first_audio_at: float | None = None
        waiting = 0.0  # time spent inside sink.write (a full playback buffer), which is not synthesis
        pending_pause = 0.0
        next_limit: int | None = None
        while (chunk := self._next_chunk(chunks, next_limit, result.chunks)) is not None:
            cancel.raise_if_cancelled()
            pieces = guarded_pieces(
                engine,
                dataclasses.replace(request, text=chunk.text),
                cancel,
                write_through=paced,
                report=result.warnings.append,
            )
            for piece in pieces:
                samples = self._shape(piece.samples, piece.sample_rate, rate, engine)
                if samples.size == 0:
                    continue
                if pending_pause > 0 and result.frames > 0:
                    samples = np.concatenate([np.zeros(int(pending_pause * rate), np.float32), samples])
                before_write = time.perf_counter()
                sink.write(samples)
                waiting += time.perf_counter() - before_write
                result.frames += samples.size
                if first_audio_at is None:
                    first_audio_at = before_write
                    result.first_audio_seconds = before_write - start
                # A streaming engine's pieces are one utterance; other engines' pieces are sentences.
                pending_pause = 0.0 if streaming else CLAUSE_PAUSE
                cancel.raise_if_cancelled()
            pending_pause = audio_ops.PAUSES.get(chunk.boundary, 0.0)
            result.chunks += 1
            if paced:  # someone is listening: size the next chunk to be ready before the audio runs out
                now = time.perf_counter()
                next_limit = next_chunk_chars(
                    audio_seconds=result.audio_seconds,
                    compute_seconds=now - start - waiting,
                    chars_done=chunk.end,
                    played_seconds=now - first_audio_at if first_audio_at is not None else 0.0,
                    min_chars=MIN_CHUNK_CHARS,
                    max_chars=MAX_CHUNK_CHARS,
                )
            if progress is not None:
                progress(chunk.end / len(text), result.chunks)
        result.total_seconds = time.perf_counter() - start
        result.waiting_seconds = waiting

    @staticmethod
    def _next_chunk(
        chunks: Generator[TextChunk, int | None, None], limit: int | None, done: int
    ) -> TextChunk | None:
        try:
            return next(chunks) if done == 0 else chunks.send(limit)
        except StopIteration:
            return None

    @staticmethod
    def _shape(samples: np.ndarray, source_rate: int, rate: int, engine: Engine) -> np.ndarray:
        """Make an engine piece joinable: mono float32 at the job rate; utterances trimmed and faded."""
        audio = audio_ops.resample(audio_ops.as_mono_float32(samples), source_rate, rate)
        if engine.capabilities.streaming:
            return audio
        return audio_ops.fade_edges(audio_ops.trim_silence(audio, rate), rate)
