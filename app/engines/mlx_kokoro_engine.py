"""Kokoro-82M on MLX through ``mlx-audio``: the Kokoro voices on the Apple GPU.

The same voices, blends and readers as the PyTorch engine (:mod:`app.engines.kokoro_torch_engine`):
text becomes phonemes there (misaki, espeak-ng, pyopenjtalk; nothing downloaded at run time) and goes to
mlx-audio's Kokoro model directly. mlx-audio's own ``KokoroPipeline`` is not used: for English it builds
misaki's reader, which downloads spaCy's model at first use. Weights are ``mlx-community/Kokoro-82M-bf16``
(``timbre models download kokoro-82m-mlx``); its ``voices/*.safetensors`` and the voices ``timbre setup``
installs both work. The vocoder draws random phase and noise from MLX's generator: the seed fixes them.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from app.core.errors import EngineUnavailableError, VoiceNotFoundError
from app.core.models import AudioChunk, CancelToken, Capabilities, SynthesisRequest, VoiceInfo
from app.engines import kokoro_assets
from app.engines.base import Availability, Engine
from app.engines.compute import DeviceChoice, free_accelerator_memory
from app.engines.hub import Hub, default_hub
from app.engines.kokoro_torch_engine import MAX_PHONEMES, Reader, kokoro_language, make_reader, split_phonemes
from app.engines.kokoro_voices import (
    LANGUAGES,
    OFFICIAL_VOICES,
    describe_voice,
    own_language,
    parse_blend,
    resolve_blend,
)
from app.engines.mlx_support import (
    DEVICES,
    load_mlx_model,
    mlx_device,
    platform_problem,
    seed_mlx,
)

logger = logging.getLogger(__name__)

SAMPLE_RATE = 24000
MODEL_ID = "kokoro-82m-mlx"


class MlxKokoroEngine(Engine):
    """Kokoro-82M on MLX; voices blend by a weighted sum of their style tables."""

    id = "kokoro-mlx"
    name = "Kokoro-82M (MLX)"
    default_voice = "af_heart"
    model_ids = (MODEL_ID,)

    def __init__(self, hub: Hub | None = None, device: str | None = None) -> None:
        super().__init__()
        self._hub = hub
        self._requested_device = device
        self._choice: DeviceChoice | None = None
        self._model: Any = None
        self._styles: dict[str, Any] = {}
        self._readers: dict[str, Reader] = {}
        self.realtime_factor = {}  # not yet measured on Apple Silicon; MLX's CPU build is far slower

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            self._hub = default_hub()
        return self._hub

    @property
    def memory_bytes(self) -> int:  # type: ignore[override]
        return self.hub.spec(MODEL_ID).memory_bytes

    @property
    def device(self) -> str:
        return self._choice.device if self._choice is not None else "mlx"

    @property
    def capabilities(self) -> Capabilities:
        languages = [lang for lang, _ in LANGUAGES.values()]
        if importlib.util.find_spec("pyopenjtalk") is None:
            languages.remove("ja")
        if any(importlib.util.find_spec(m) is None for m in ("jieba", "pypinyin", "cn2an")):
            languages.remove("cmn")
        return Capabilities(
            sample_rate=SAMPLE_RATE,
            languages=tuple(languages),
            voice_blending=True,
            seeded=True,
            devices=DEVICES,
        )

    def availability(self) -> Availability:
        problem = platform_problem(("mlx", "mlx_audio", "misaki"))
        if problem:
            return Availability(False, problem)
        if not self.hub.is_installed(MODEL_ID):
            return Availability(
                False,
                f"The Kokoro-82M MLX weights are not downloaded. Run: timbre models download {MODEL_ID}",
            )
        if not self._installed_voice_ids():
            return Availability(False, "No Kokoro voices are installed. Run: timbre setup")
        return Availability(True)

    def _model_voices(self) -> Path | None:
        """The model folder's ``voices/`` (``<id>.safetensors`` tables), when the model is installed."""
        if not self.hub.is_installed(MODEL_ID):
            return None
        folder = self.hub.path(MODEL_ID) / "voices"
        return folder if folder.is_dir() else None

    def _installed_voice_ids(self) -> list[str]:
        ids: set[str] = set()
        folder = self._model_voices()
        if folder is not None:
            ids.update(p.stem for p in folder.glob("*.safetensors"))
        table = kokoro_assets.voices_file()
        if table is not None:
            with np.load(table, allow_pickle=False) as npz:
                ids.update(npz.files)
        return sorted(ids)

    def voices(self) -> list[VoiceInfo]:
        state = self.availability()
        installed = set(self._installed_voice_ids())
        result = []
        for voice_id in list(OFFICIAL_VOICES) + sorted(installed - set(OFFICIAL_VOICES)):
            label, lang, gender = describe_voice(voice_id)
            ok = state.ok and voice_id in installed
            note = "" if ok else (state.reason or "Not installed yet. Run: timbre setup")
            result.append(VoiceInfo(voice_id, label, self.id, lang, gender, ok, note))
        return result

    def resolve_voice(self, voice: str | None) -> str:
        """Single voices and blends (``af_heart:0.7,am_michael:0.3``); every name must exist."""
        if not voice:
            return self.default_voice
        return resolve_blend(voice, self._installed_voice_ids() or list(OFFICIAL_VOICES))

    def language_for(self, voice: str, requested: str | None, text: str = "") -> str:
        """As asked, else the voice's own language; a Japanese or Chinese voice given text without kana or
        ideographs reads it as English."""
        if requested:
            return kokoro_language(requested)
        return own_language(self.resolve_voice(voice), text)

    def reader(self, language: str) -> Reader:
        if language not in self._readers:
            self._readers[language] = make_reader(language)
            logger.info("Kokoro (MLX) reads %s with %s", language, self._readers[language].name)
        return self._readers[language]

    def _load(self) -> None:
        problem = platform_problem(("mlx", "mlx_audio", "misaki"))
        if problem:
            raise EngineUnavailableError(problem)
        folder = self.hub.require(MODEL_ID)
        choice = mlx_device(self._requested_device)
        logger.info("Loading Kokoro-82M on %s (%s)", choice.label, choice.reason)
        model = load_mlx_model(folder)
        if not hasattr(model, "vocab") or not hasattr(model, "predictor"):
            raise EngineUnavailableError(
                f"The weights in {folder} are not a Kokoro model. Run: timbre models download {MODEL_ID}"
            )
        self._model, self._choice = model, choice

    def _unload(self) -> None:
        self._model = None
        self._styles.clear()
        self._readers.clear()
        free_accelerator_memory()

    def _voice_table(self, name: str) -> np.ndarray:
        """One voice's (510, 1, 256) style table: the model folder's ``voices/<id>.safetensors``, else the
        npz that ``timbre setup`` installed."""
        folder = self._model_voices()
        if folder is not None and (folder / f"{name}.safetensors").is_file():
            import mlx.core as mx

            pack = mx.load(str(folder / f"{name}.safetensors"))["voice"]
            return np.asarray(pack.astype(mx.float32)).reshape(kokoro_assets.VOICE_SHAPE)
        table = kokoro_assets.voices_file()
        if table is not None:
            with np.load(table, allow_pickle=False) as npz:
                if name in npz.files:
                    return np.asarray(npz[name], dtype=np.float32).reshape(kokoro_assets.VOICE_SHAPE)
        raise VoiceNotFoundError(name, [])

    def style_for(self, voice: str) -> Any:
        """The style table of a voice or blend (weighted sum), as an MLX array."""
        import mlx.core as mx

        self.load()
        if voice not in self._styles:  # blends are mixed once per voice, not once per chunk
            table = np.zeros(kokoro_assets.VOICE_SHAPE, dtype=np.float32)
            for name, weight in parse_blend(self.resolve_voice(voice)):
                table += self._voice_table(name) * np.float32(weight)
            self._styles[voice] = mx.array(table)
        return self._styles[voice]

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        voice = self.resolve_voice(request.voice)
        reader = self.reader(self.language_for(voice, request.language, request.text))
        style = self.style_for(voice)
        vocab = self._model.vocab
        pieces = [
            piece
            for piece in split_phonemes(reader.read(request.text), MAX_PHONEMES)
            if any(symbol in vocab for symbol in piece)
        ]
        if not pieces:
            logger.warning("Kokoro skipped a chunk with nothing to pronounce: %r", request.text[:80])
            return
        if request.seed is not None:
            seed_mlx(int(request.seed))
        for piece in pieces:
            cancel.raise_if_cancelled()
            # One style vector per phoneme count: the table row for this piece's length.
            audio = self._model(piece, style[len(piece) - 1], float(request.speed))
            samples = np.asarray(audio, dtype=np.float32).reshape(-1)
            yield AudioChunk(samples, SAMPLE_RATE, request.text)
