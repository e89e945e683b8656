"""Errors a person can act on: each message is written to be shown as it is."""

from __future__ import annotations


class TimbreError(Exception):
    """Base for every error whose message is meant for the user, in plain words."""


class EmptyTextError(TimbreError):
    """The text has nothing that can be spoken."""


class VoiceNotFoundError(TimbreError):
    """No engine offers the voice asked for."""

    def __init__(self, voice: str, suggestions: list[str] | None = None) -> None:
        self.voice = voice
        self.suggestions = list(suggestions or [])
        hint = f" Did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"There is no voice called '{voice}'.{hint} Run 'timbre voices' to list them.")


class EngineNotFoundError(TimbreError):
    """The engine asked for does not exist."""


class EngineUnavailableError(TimbreError):
    """The engine exists but cannot run here now (weights missing, package not installed)."""


class OutputError(TimbreError):
    """An output (file or audio device) cannot be written to."""


class CancelledError(TimbreError):
    """The job was cancelled; whatever it was writing has been discarded."""

    def __init__(self) -> None:
        super().__init__("Cancelled.")


class DiskError(OutputError):
    """The disk refused a write: full, read-only, or not ours to write. Nothing already saved is lost."""


def disk_error(exc: OSError, path: object) -> DiskError:
    """Turn an ``OSError`` from writing ``path`` (a file, or a folder being written into) into a message
    a person can act on."""
    import errno
    from pathlib import Path

    target = Path(str(path))
    folder = target if target.is_dir() else target.parent
    reasons = {
        errno.ENOSPC: f"The disk is full: {target} was not saved. Free some space and try again.",
        errno.EDQUOT: f"Your disk quota is used up: {target} was not saved.",
        errno.EROFS: f"{folder} is on a read-only disk, so Timbre cannot save there.",
        errno.EACCES: f"Timbre is not allowed to write to {folder}.",
        errno.EPERM: f"Timbre is not allowed to write to {folder}.",
        errno.EFBIG: f"{target} is too large for its disk.",
        errno.ENOENT: (
            f"Timbre is not allowed to write to {folder}."
            if folder.is_dir()
            else f"The folder {folder} does not exist."
        ),
    }
    reason = reasons.get(exc.errno or 0, f"{target} could not be written: {exc.strerror or exc}.")
    return DiskError(reason)


def audio_write_error(exc: Exception, path: object) -> OutputError:
    """An error from an audio library while writing ``path``, in plain words.

    libsndfile reports a full disk as a bare "System error", so the disk itself is asked what is wrong.
    """
    import errno
    import shutil
    from pathlib import Path

    if isinstance(exc, OSError):
        return disk_error(exc, path)
    target = Path(str(path))
    try:
        free: int | None = shutil.disk_usage(target if target.is_dir() else target.parent).free
    except OSError:
        free = None
    if free is not None and free < 1024 * 1024:
        return disk_error(OSError(errno.ENOSPC, "No space left on device"), path)
    return OutputError(f"{target} could not be written: {exc}.")
