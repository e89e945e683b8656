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

    def _store_sample(self, profile_id: int, item: PreparedSample) -> Sample:
        quality = {**item.check.as_quality(), "source": Path(item.source).name}
        return self.store.add_sample(
            profile_id, item.audio, reference.TARGET_RATE, transcript=item.transcript, quality=quality
        )
