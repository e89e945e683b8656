"""Plain values passed between layers: requests, audio chunks, voices, capabilities, cancel tokens."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from app.core.errors import CancelledError


@dataclass(frozen=True)
class AudioChunk:
    """A piece of mono audio, float32 in [-1, 1]."""

    samples: np.ndarray
    """Mono float32 samples."""
    sample_rate: int
    """Samples per second."""
    text: str = ""
    """The text this audio speaks, when known (one text chunk)."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0


@dataclass(frozen=True)
class Reference:
    """A recording of the voice to clone, with what it says when known (cloning engines read it)."""

    samples: np.ndarray
    """Mono float32 samples."""
    sample_rate: int
    transcript: str = ""
    """What the recording says; Qwen3-TTS clones more faithfully with it, XTTS ignores it."""
    sha256: str = ""
    """Content hash of the recording, the key of cached speaker conditioning; empty = hash the samples."""

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0

    def content_hash(self) -> str:
        """``sha256`` when given, else a hash of the samples and rate (stable across runs)."""
        if self.sha256:
            return self.sha256
        import hashlib

        digest = hashlib.sha256(np.ascontiguousarray(self.samples, dtype=np.float32).tobytes())
        digest.update(str(self.sample_rate).encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class SynthesisRequest:
    """What to say and how; engines read the fields they support and ignore the rest."""

    text: str
    voice: str | None = None
    """Voice id as the engine knows it (Kokoro also takes blends such as ``af_heart:0.7,am_michael:0.3``)."""
    engine: str | None = None
    """Engine id; ``None`` lets the registry pick the engine that owns ``voice``."""
    speed: float = 1.0
    """1.0 is the voice's natural pace; 2.0 is twice as fast."""
    language: str | None = None
    """BCP-47-ish language code (``en-us``, ``ja``); ``None`` means the voice's own language."""
    seed: int | None = None
    temperature: float | None = None
    """Sampling parameters for engines that sample (see ``Capabilities.sampling``); ``None`` = the
    engine's default. Engines that do not sample ignore them."""
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    references: tuple[Reference, ...] = ()
    """Recordings to clone the voice from (engines with ``Capabilities.clone_from_reference``)."""
    instruct: str | None = None
    """A style instruction ("Very happy.") for preset speakers, or the description of the voice to
    design ("A calm, deep male voice.") for voice-design engines."""
    max_seconds: float | None = None
    """The most audio one call may produce; sampling engines stop there (the runaway guard sets it)."""


SAMPLING_PARAMS = ("temperature", "top_p", "top_k", "repetition_penalty")
"""The generation parameters a sampling engine may take (beyond speed and seed)."""


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine offers."""

    id: str
    name: str
    engine: str
    language: str
    gender: str = ""
    available: bool = True
    """Whether it can speak now, offline, with nothing more to download."""
    note: str = ""
    """Why it is unavailable, or anything else worth showing."""


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, so callers (and the UI) can grey out what does not apply."""

    sample_rate: int
    languages: tuple[str, ...]
    preset_voices: bool = True
    voice_blending: bool = False
    clone_from_reference: bool = False
    voice_design: bool = False
    style_instructions: bool = False
    streaming: bool = False
    """Yields audio while one text chunk is still being computed (not just per chunk)."""
    speed_range: tuple[float, float] = (0.5, 2.0)
    seeded: bool = False
    """Whether the same seed gives identical audio."""
    sampling: tuple[str, ...] = ()
    """Which of :data:`SAMPLING_PARAMS` the engine honours (the UI greys out the rest)."""
    devices: tuple[str, ...] = ("cpu",)
    """Where the engine can run: ``mlx``, ``mps``, ``cuda``, ``cpu``."""
    max_references: int = 0
    """How many reference recordings a clone may use (0 = it does not clone)."""
    min_reference_seconds: float = 0.0
    uses_transcript: bool = False
    """Whether the reference's transcript improves the clone (the UI asks for it)."""
    max_length: bool = False
    """Whether ``SynthesisRequest.max_seconds`` is honoured (sampling engines that could run away)."""


@dataclass
class CancelToken:
    """A flag shared between whoever starts a job and the code doing it; checked between chunks."""

    _event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`CancelledError` if :meth:`cancel` was called."""
        if self._event.is_set():
            raise CancelledError()
