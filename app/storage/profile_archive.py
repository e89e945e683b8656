"""Portable voice-profile archives (``.timbrevoice``): a zip of ``manifest.json`` plus the FLAC samples.

Another Timbre imports it as a new profile. Import trusts nothing in the file: the manifest is checked
field by field, only the sample paths it names are read (no path from the zip ever reaches the disk),
sizes are bounded, and every sample's checksum must match. Either the whole profile arrives or nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

from app import __version__
from app.core.errors import TimbreError, disk_error
from app.storage.profiles import Profile, ProfileStore

logger = logging.getLogger(__name__)

SUFFIX = ".timbrevoice"
FORMAT = "timbre-voice-profile"
VERSION = 1
MAX_SAMPLE_BYTES = 200 * 1024 * 1024
MAX_SAMPLES = 64
_SHA = re.compile(r"^[0-9a-f]{64}$")


class ArchiveError(TimbreError):
    """A profile archive that cannot be read or written; the message says why."""


def export_profile(store: ProfileStore, key: int | str, dest: Path) -> Path:
    """Write profile ``key`` and its samples to ``dest`` (atomically; adds ``.timbrevoice`` if absent)."""
    profile = store.get(key)
    dest = Path(dest).expanduser()
    if dest.suffix.lower() != SUFFIX:
        dest = dest.with_name(dest.name + SUFFIX)
    if not dest.parent.is_dir():
        raise ArchiveError(f"The folder {dest.parent} does not exist.")
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "exported_by": f"Timbre {__version__}",
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "profile": {
            "name": profile.name,
            "description": profile.description,
            "language": profile.language,
            "tags": profile.tags,
            "preferred_engine": profile.preferred_engine,
            "preferred_voice": profile.preferred_voice,
            "created_at": profile.created_at,
        },
        "samples": [
            {
                "file": f"samples/{s.sha256}.flac",
                "sha256": s.sha256,
                "transcript": s.transcript,
                "duration": s.duration,
                "sample_rate": s.sample_rate,
                "quality": s.quality,
            }
            for s in profile.samples
        ],
    }
    fd, tmp_name = tempfile.mkstemp(prefix=".export-", suffix=SUFFIX, dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
            written = set()
            for sample in profile.samples:
                if sample.sha256 in written:
                    continue
                # FLAC is already compressed: store it as it is.
                archive.write(store.absolute(sample), f"samples/{sample.sha256}.flac", zipfile.ZIP_STORED)
                written.add(sample.sha256)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        raise disk_error(exc, dest) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The archive's manifest, checked: right format, a version this Timbre reads, well-formed samples."""
    try:
        info = archive.getinfo("manifest.json")
    except KeyError as exc:
        raise ArchiveError("This is not a Timbre voice profile (it has no manifest).") from exc
    if info.file_size > 1024 * 1024:
        raise ArchiveError("The profile's manifest is implausibly large.")
    try:
        manifest = json.loads(archive.read(info).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError("The profile's manifest is damaged.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("This is not a Timbre voice profile.")
    version = manifest.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ArchiveError(f"This profile was saved by a newer Timbre (format {version}); please update.")
    profile, samples = manifest.get("profile"), manifest.get("samples")
    if not isinstance(profile, dict) or not isinstance(profile.get("name"), str):
        raise ArchiveError("The profile's manifest has no name.")
    if not isinstance(samples, list) or len(samples) > MAX_SAMPLES:
        raise ArchiveError("The profile's list of samples is damaged.")
    for sample in samples:
        sha = sample.get("sha256") if isinstance(sample, dict) else None
        if not isinstance(sha, str) or not _SHA.match(sha):
            raise ArchiveError("A sample in the profile has no valid checksum.")
    return manifest


def import_profile(store: ProfileStore, source: Path, name: str | None = None) -> Profile:
    """Add the profile in archive ``source`` as a new profile (named ``name``, or its own name made unique).

    On any failure nothing is left: no profile row, no sample row, no new sample file.
    """
    source = Path(source).expanduser()
    if not source.is_file():
        raise ArchiveError(f"There is no file {source}.")
    try:
        with zipfile.ZipFile(source) as archive:
            return _import(store, archive, name)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise ArchiveError(f"{source.name} is damaged or is not a Timbre voice profile.") from exc


def _import(store: ProfileStore, archive: zipfile.ZipFile, name: str | None) -> Profile:
    manifest = read_manifest(archive)
    meta = manifest["profile"]
    tags = meta.get("tags") if isinstance(meta.get("tags"), list) else []
    shas = [entry["sha256"] for entry in manifest["samples"]]
    store.samples_dir.mkdir(parents=True, exist_ok=True)
    try:
        # One transaction: a crash or an error anywhere leaves no profile and no sample rows; sample files
        # written before the failure are removed below (or by start-up cleaning after a crash).
        scratch = tempfile.TemporaryDirectory(prefix=".import-", dir=store.samples_dir)
        with store.transaction(), scratch as tmp:
            profile = store.create(
                name=store.free_name(name or meta["name"]),
                description=str(meta.get("description") or ""),
                language=_opt_str(meta.get("language")),
                tags=[str(t) for t in tags],
                preferred_engine=_opt_str(meta.get("preferred_engine")),
                preferred_voice=_opt_str(meta.get("preferred_voice")),
                created_at=_opt_str(meta.get("created_at")),
            )
            for entry, sha in zip(manifest["samples"], shas, strict=True):
                staged = _extract(archive, sha, Path(tmp))
                quality = entry.get("quality") if isinstance(entry.get("quality"), dict) else {}
                store.add_sample_file(
                    profile.id,
                    staged,
                    transcript=str(entry.get("transcript") or ""),
                    quality=quality,
                    expected_sha256=sha,
                )
    except OSError as exc:
        store.forget_unreferenced([f"samples/{sha}.flac" for sha in shas])
        raise disk_error(exc, store.samples_dir) from exc
    except BaseException:
        store.forget_unreferenced([f"samples/{sha}.flac" for sha in shas])
        raise
    logger.info("Imported profile %r with %d samples", profile.name, len(shas))
    return store.get(profile.id)


def _extract(archive: zipfile.ZipFile, sha: str, folder: Path) -> Path:
    """Copy one sample out of the archive by the name the manifest gives, never a path from the zip."""
    try:
        info = archive.getinfo(f"samples/{sha}.flac")
    except KeyError as exc:
        raise ArchiveError("The profile archive is missing one of its samples.") from exc
    if info.file_size > MAX_SAMPLE_BYTES:
        raise ArchiveError("A sample in the profile is implausibly large.")
    staged = folder / f"{sha}.flac"
    with archive.open(info) as src, open(staged, "wb") as dst:
        _copy_bounded(src, dst)
    return staged


def _copy_bounded(src: Any, dst: Any) -> None:
    total = 0
    for block in iter(lambda: src.read(1 << 20), b""):
        total += len(block)
        if total > MAX_SAMPLE_BYTES:
            raise ArchiveError("A sample in the profile is implausibly large.")
        dst.write(block)


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
