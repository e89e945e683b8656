"""Voice profiles as a user manages them: list, show, rename, delete and undo, export and import.

Creating profiles from recordings (ingestion, validation, transcription) builds on this in ``voices``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from app.core.models import Reference
from app.storage.library import Library
from app.storage.profile_archive import SUFFIX, ArchiveError, export_profile, import_profile
from app.storage.profiles import Profile, ProfileNameError, ProfileNotFoundError, Sample

__all__ = [
    "SUFFIX",
    "ArchiveError",
    "Profile",
    "ProfileNameError",
    "ProfileNotFoundError",
    "ProfileService",
    "Sample",
    "profile_as_dict",
]


class ProfileService:
    """The user's voice profiles. Opening it tidies what a crash may have left behind."""

    def __init__(self, library: Library | None = None) -> None:
        self.library = library if library is not None else Library()
        self.library.clean_orphans()
        self.store = self.library.profiles

    def list(self) -> list[Profile]:
        return self.store.list()

    def show(self, key: int | str) -> Profile:
        return self.store.get(key)

    def rename(self, key: int | str, new_name: str) -> Profile:
        return self.store.rename(key, new_name)

    def delete(self, key: int | str) -> Profile:
        return self.store.delete(key)

    def undo(self) -> Profile:
        return self.store.undo_delete()

    def export(self, key: int | str, dest: Path) -> Path:
        return export_profile(self.store, key, Path(dest))

    def import_(self, source: Path, name: str | None = None) -> Profile:
        return import_profile(self.store, Path(source), name)

    def sample_path(self, sample: Sample) -> Path:
        return self.store.absolute(sample)

    def references(self, key: int | str) -> tuple[Reference, ...]:
        """The profile's recordings with their transcripts, ready for a cloning engine."""
        import soundfile as sf

        from app.core.errors import TimbreError

        profile = self.store.get(key)
        if not profile.samples:
            raise TimbreError(f'The profile "{profile.name}" has no recordings to clone the voice from.')
        refs = []
        for sample in profile.samples:
            audio, rate = sf.read(self.store.absolute(sample), dtype="float32", always_2d=True)
            refs.append(Reference(audio.mean(axis=1), int(rate), sample.transcript, sample.sha256))
        return tuple(refs)


def profile_as_dict(profile: Profile, service: ProfileService) -> dict[str, Any]:
    """JSON-ready form of a profile, each sample with the absolute path of its audio."""
    data = dataclasses.asdict(profile)
    for sample, item in zip(profile.samples, data["samples"], strict=True):
        item["path"] = str(service.sample_path(sample))
    data["total_seconds"] = round(profile.total_seconds, 3)
    return data
