"""The engine contract: declared capabilities, lazy load/unload, and synthesis as a generator of chunks."""

from __future__ import annotations

import abc
import difflib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from app.core.errors import VoiceNotFoundError
from app.core.models import AudioChunk, CancelToken, Capabilities, SynthesisRequest, VoiceInfo

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Availability:
    """Whether an engine can run here now, and if not, why in plain words."""

    ok: bool
    reason: str = ""


class Engine(abc.ABC):
    """One TTS engine. Cheap to construct; ``load()`` does the heavy imports and reads the weights.

    ``synthesize`` is called with one text chunk at a time (the synthesis service does the chunking)
    and yields one or more :class:`AudioChunk`; engines check ``cancel`` between the pieces they make.
    Engines are not thread-safe: the caller serialises use (one inference lane).
    """

    id: str = ""
    name: str = ""
    default_voice: str = ""
    model_ids: tuple[str, ...] = ()
    """The model-manager entries (``engines/hub.py``) this engine's weights come from."""
    memory_bytes: int = 0
    """About how much memory the loaded engine takes; the registry makes room for it before loading."""
    realtime_factor: dict[str, float] = {}
    """Measured compute seconds per audio second on each device (``cpu``, ``cuda``...), where known: the
    registry warns before a job when it is above 1."""

    def __init__(self) -> None:
        self._load_lock = threading.Lock()
        self._loaded = False

    @property
    @abc.abstractmethod
    def capabilities(self) -> Capabilities:
        """What this engine can do."""

    @abc.abstractmethod
    def availability(self) -> Availability:
        """Whether the engine's package and weights are here, without loading them."""

    @abc.abstractmethod
    def voices(self) -> list[VoiceInfo]:
        """Every voice this engine knows, with whether each one can speak offline now."""

    @abc.abstractmethod
    def _load(self) -> None:
        """Import the heavy library and read the weights."""

    @abc.abstractmethod
    def _unload(self) -> None:
        """Drop every reference to the model so its memory can be freed."""

    @abc.abstractmethod
    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        """Yield audio for ``request.text``; raise on bad input, stop early when ``cancel`` is set."""

    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def device(self) -> str:
        """Where the engine runs (``cpu``, ``cuda``, ``mps``, ``mlx``); decided by ``load()``."""
        return "cpu"

    def expected_device(self) -> str:
        """Where the engine runs, or before loading where it would (the same choice ``load`` makes)."""
        if self.loaded:
            return self.device
        from app.core.errors import TimbreError
        from app.engines.compute import choose_device

        try:
            return choose_device(self.capabilities.devices).device
        except TimbreError:
            return self.device

    def slow_warning(self) -> str:
        """A plain sentence when this engine on its device is expected to speak slower than real time."""
        from app.engines.compute import DeviceChoice, slow_warning

        device = self.expected_device()
        return slow_warning(self.name, self.realtime_factor.get(device), DeviceChoice(device, ""))

    def load(self) -> None:
        """Load once; later calls return at once."""
        with self._load_lock:
            if not self._loaded:
                self._load()
                self._loaded = True
                logger.info("Loaded engine %s", self.id)

    def unload(self) -> None:
        """Free the model; the next ``load()`` reads it again."""
        with self._load_lock:
            if self._loaded:
                self._unload()
                self._loaded = False
                logger.info("Unloaded engine %s", self.id)

    def resolve_voice(self, voice: str | None) -> str:
        """Return the engine's id for ``voice`` (default when ``None``), or raise with close matches."""
        if not voice:
            return self.default_voice
        ids = {v.id for v in self.voices()}
        if voice in ids:
            return voice
        lowered = {v.id.lower(): v.id for v in self.voices()}
        if voice.lower() in lowered:
            return lowered[voice.lower()]
        raise VoiceNotFoundError(voice, difflib.get_close_matches(voice, sorted(ids), n=3, cutoff=0.5))
