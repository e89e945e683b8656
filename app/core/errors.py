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
