"""The runaway guard: a sampling engine's audio for a piece of text must take about as long as the text.

Autoregressive engines (Qwen3-TTS, XTTS) sometimes fail to stop, babbling on for a minute after a
short sentence, or stop almost at once with a click of noise. For each text chunk the guard works out
how long the text should take, tells the engine to stop at a generous upper bound
(``SynthesisRequest.max_seconds``), and checks what came back. A chunk that ran to the bound or came out
far too short is cut and generated again with another seed, a bounded number of times; every retry is
reported in plain words. When every attempt fails, the attempt closest to the expected length is kept,
cut at the bound with a short fade, and the report says so.

Deterministic engines (Piper, Kokoro) do not run away and are not guarded: a retry would give the same.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from app.core.models import AudioChunk, CancelToken, SynthesisRequest
from app.engines.base import Engine

logger = logging.getLogger(__name__)

MAX_RETRIES = 2
SEED_STEP = 1_000_003
"""Retry k uses seed + k * SEED_STEP: reproducible, and far from the seeds a user would try."""

_WIDE = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
"""Kana, CJK ideographs and Hangul: one character is a syllable or more, spoken slower per character."""

ALPHABETIC_CHARS_PER_SECOND = 14.0
"""About 150 words a minute of English, counting spaces and punctuation."""
WIDE_CHARS_PER_SECOND = 5.5


@dataclass(frozen=True)
class LengthBounds:
    """How long a text should take to say, and the range the guard accepts."""

    expected: float
    low: float
    high: float


def length_bounds(text: str, speed: float = 1.0) -> LengthBounds:
    """Expected seconds for ``text`` at ``speed``, with a wide band: voices and styles differ a lot."""
    wide = len(_WIDE.findall(text))
    narrow = len(text.strip()) - wide
    expected = (narrow / ALPHABETIC_CHARS_PER_SECOND + wide / WIDE_CHARS_PER_SECOND) / max(speed, 0.1)
    expected = max(expected, 0.3)
    return LengthBounds(expected=expected, low=expected * 0.2, high=max(expected * 2.5, expected + 4.0))


def is_guarded(engine: Engine) -> bool:
    """Only engines that sample and honour ``max_seconds`` can run away, and only they can be cut."""
    return engine.capabilities.max_length


@dataclass
class Attempt:
    pieces: list[AudioChunk]
    seconds: float
    verdict: str
    """Empty when the length is plausible, else why it is not."""


def _verdict(seconds: float, bounds: LengthBounds) -> str:
    if seconds >= bounds.high * 0.98:
        return f"ran on past {bounds.high:.1f} s for text that takes about {bounds.expected:.1f} s"
    if seconds < bounds.low:
        return f"stopped after {seconds:.1f} s for text that takes about {bounds.expected:.1f} s"
    return ""


def _cut(pieces: list[AudioChunk], max_seconds: float) -> list[AudioChunk]:
    """The pieces up to ``max_seconds``, the last one faded out over 50 ms so the cut does not click."""
    kept: list[AudioChunk] = []
    total = 0.0
    for piece in pieces:
        room = max_seconds - total
        if room <= 0:
            break
        samples = piece.samples[: int(room * piece.sample_rate)]
        total += len(samples) / piece.sample_rate
        kept.append(dataclasses.replace(piece, samples=samples))
    if kept and len(kept[-1].samples):
        last = kept[-1].samples.astype(np.float32, copy=True)
        n = min(len(last), int(0.05 * kept[-1].sample_rate))
        last[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
        kept[-1] = dataclasses.replace(kept[-1], samples=last)
    return kept


def guarded_pieces(
    engine: Engine,
    request: SynthesisRequest,
    cancel: CancelToken,
    *,
    write_through: bool,
    report: Callable[[str], None],
    max_retries: int = MAX_RETRIES,
) -> Iterator[AudioChunk]:
    """Yield the engine's audio for ``request.text`` with runaways cut and retried.

    With ``write_through`` (someone is listening) pieces are passed on as they are made, so a failed
    attempt has already been heard and its retry follows it; otherwise each attempt is held until it
    has been checked, and only a good one (or the best one, cut) is passed on.
    """
    if not is_guarded(engine):
        yield from engine.synthesize(request, cancel)
        return
    bounds = length_bounds(request.text, request.speed)
    limit = bounds.high if request.max_seconds is None else min(bounds.high, request.max_seconds)
    base_seed = request.seed if request.seed is not None else int(np.random.SeedSequence().entropy % 2**31)
    attempts: list[Attempt] = []
    for attempt in range(max_retries + 1):
        seed = request.seed if attempt == 0 else (base_seed + attempt * SEED_STEP) % 2**31
        call = dataclasses.replace(request, seed=seed, max_seconds=limit)
        pieces: list[AudioChunk] = []
        seconds = 0.0
        for piece in engine.synthesize(call, cancel):
            pieces.append(piece)
            seconds += piece.duration
            if write_through:
                yield piece
        verdict = _verdict(seconds, dataclasses.replace(bounds, high=limit))
        if not verdict:
            if not write_through:
                yield from pieces
            if attempt:
                report(f'"{_short(request.text)}" came out right on attempt {attempt + 1}.')
            return
        attempts.append(Attempt(pieces, seconds, verdict))
        again = "trying again with another seed" if attempt < max_retries else "giving up"
        message = f'{engine.name} {verdict} on "{_short(request.text)}"; {again}.'
        logger.warning(message)
        report(message)
    if not write_through:
        best = min(attempts, key=lambda a: abs(a.seconds - bounds.expected))
        yield from _cut(best.pieces, limit)
        kept = f'Kept the closest of {len(attempts)} attempts for "{_short(request.text)}"'
        report(f"{kept}, cut at {limit:.1f} s.")


def _short(text: str, limit: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
