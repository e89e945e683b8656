"""Voice matching without a cloning model: which built-in Kokoro voices sound most like a profile, and
a blend of the closest ones fitted to sound more like it still.

Each Kokoro voice is heard once saying a fixed sentence and its voice print kept on disk (an ``.npz``,
no pickle) beside the models, keyed by the voice's style table and the sentence, so it is computed once
per machine. The blend is fitted in two steps: every mix of the top three voices (steps of 0.1) is
scored by mixing their voice prints, which is instant; the most promising few are then really spoken
and heard, and the best of those, or the best single voice if no blend beats it, is kept.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app import paths
from app.core.errors import TimbreError
from app.core.models import CancelToken, SynthesisRequest
from app.engines.conditioning import save_npz
from app.services import speaker

logger = logging.getLogger(__name__)

PRINT_TEXT = "The old lighthouse keeper climbed the stairs every evening to light the lamp."
TOP = 3
VERIFY = 5
"""Blends that are really spoken and heard; each costs about a second on a laptop CPU."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Match:
    """The outcome of matching a profile to the built-in voices."""

    voice: str
    """A Kokoro voice id or blend (``bf_emma:0.6,bf_alice:0.4``) to use for the profile."""
    similarity: float
    """Cosine similarity of ``voice`` (spoken) to the profile's recordings."""
    ranking: list[tuple[str, float]]
    """Every candidate voice with its similarity, best first."""
    best_single: tuple[str, float]
    """The closest single voice, spoken and heard like the blend, for comparison."""


def profile_print(recordings: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One voice print for a profile: the normalised mean of its recordings' prints."""
    if not recordings:
        raise TimbreError("The profile has no recordings to match.")
    mean = np.mean([speaker.embed(audio, rate) for audio, rate in recordings], axis=0)
    return (mean / (np.linalg.norm(mean) + 1e-12)).astype(np.float32)


def candidate_voices(engine: object, language: str | None, exclude: tuple[str, ...] = ()) -> list[str]:
    """Installed voices that speak ``language`` (all of them when it is unknown or none does)."""
    voices = [v for v in engine.voices() if v.available and v.id not in exclude]  # type: ignore[attr-defined]
    if language:
        same = [v.id for v in voices if v.language.split("-")[0] == language.split("-")[0]]
        if same:
            return same
    return [v.id for v in voices]


def _speak(engine: object, voice: str, text: str = PRINT_TEXT) -> np.ndarray:
    request = SynthesisRequest(text=text, voice=voice)
    chunks = engine.synthesize(request, CancelToken())  # type: ignore[attr-defined]
    return np.concatenate([c.samples for c in chunks])


def _print_key(engine: object, voice: str) -> str:
    table = engine.style_for(voice)  # type: ignore[attr-defined]
    return hashlib.sha256(table.tobytes() + PRINT_TEXT.encode()).hexdigest()[:24]


def voice_prints(
    engine: object, voices: list[str], progress: Progress | None = None, cancel: CancelToken | None = None
) -> dict[str, np.ndarray]:
    """Voice print of each voice, from the on-disk cache or by speaking :data:`PRINT_TEXT` once."""
    folder = paths.models_dir() / "voiceprints"
    store = folder / "kokoro.npz"
    cached: dict[str, np.ndarray] = {}
    if store.is_file():
        with np.load(store, allow_pickle=False) as npz:
            cached = {name: npz[name] for name in npz.files}
    prints: dict[str, np.ndarray] = {}
    fresh = 0
    for i, voice in enumerate(voices):
        key = _print_key(engine, voice)
        if key not in cached:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if progress is not None:
                progress(f"Listening to {voice} ({i + 1} of {len(voices)})…")
            cached[key] = speaker.embed(_speak(engine, voice), engine.capabilities.sample_rate)  # type: ignore[attr-defined]
            fresh += 1
        prints[voice] = cached[key]
    if fresh:
        save_npz(store, cached)
    return prints


def blend_spec(weights: dict[str, float]) -> str:
    kept = {v: w for v, w in weights.items() if w > 1e-6}
    if len(kept) == 1:
        return next(iter(kept))
    return ",".join(f"{v}:{w:.2g}" for v, w in sorted(kept.items(), key=lambda item: -item[1]))


def match(
    engine: object,
    target: np.ndarray,
    candidates: list[str],
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> Match:
    """Rank ``candidates`` by similarity to ``target`` and fit a blend of the closest few."""
    if not candidates:
        raise TimbreError("There are no built-in voices to match against.")
    prints = voice_prints(engine, candidates, progress, cancel)
    ranking = sorted(((v, speaker.similarity(p, target)) for v, p in prints.items()), key=lambda x: -x[1])
    top = [v for v, _ in ranking[:TOP]]
    rate = engine.capabilities.sample_rate  # type: ignore[attr-defined]

    def heard(voice: str) -> float:
        if cancel is not None:
            cancel.raise_if_cancelled()
        return speaker.similarity(speaker.embed(_speak(engine, voice), rate), target)

    single = (top[0], heard(top[0]))
    guesses = []
    for steps in itertools.product(range(11), repeat=len(top)):
        if sum(steps) != 10 or max(steps) == 10:
            continue  # weights sum to one; single voices are covered above
        weights = {v: s / 10 for v, s in zip(top, steps, strict=True)}
        mixed = sum(w * prints[v] for v, w in weights.items())
        guesses.append((speaker.similarity(mixed, target), blend_spec(weights)))
    best_voice, best_score = single
    for i, (_, spec) in enumerate(sorted(guesses, reverse=True)[:VERIFY]):
        if progress is not None:
            progress(f"Trying blend {i + 1} of {VERIFY}: {spec}")
        score = heard(spec)
        if score > best_score:
            best_voice, best_score = spec, score
    logger.info("Matched %s (%.3f); best single %s (%.3f)", best_voice, best_score, *single)
    return Match(best_voice, best_score, ranking, single)
