"""Coqui XTTS v2: clone a voice from a few seconds of speech, or use a studio speaker, in 17 languages.

Weights come from the model manager (``xtts-v2``: config.json, model.pth, vocab.json and the optional
speakers_xtts.pth with the studio speakers) and load through coqui-tts's own ``XttsConfig.load_json``
and ``Xtts.load_checkpoint``. A clone's conditioning (GPT latents and speaker embedding) is computed
once per set of recordings and kept in the :class:`ConditioningCache`. Speech streams as the GPT writes
it and equals XTTS's offline ``inference`` output for the same seed (see :mod:`app.engines.xtts_support`).
XTTS runs on CUDA or the CPU: on Apple's MPS backend it hangs or hits unsupported ops, so it is not
offered there.
"""

from __future__ import annotations

import difflib
import importlib.util
import logging
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from app.core.errors import EngineUnavailableError, TimbreError, VoiceNotFoundError
from app.core.models import AudioChunk, CancelToken, Capabilities, Reference, SynthesisRequest, VoiceInfo
from app.engines.base import Availability, Engine
from app.engines.compute import DeviceChoice, choose_device, free_accelerator_memory, seed_everything
from app.engines.conditioning import ConditioningCache, conditioning_key
from app.engines.hub import Hub, default_hub

logger = logging.getLogger(__name__)

MODEL_ID = "xtts-v2"
SAMPLE_RATE = 24000
"""XTTS v2's HiFi-GAN output rate (``output_sample_rate`` in its config)."""
DEVICES = ("cuda", "cpu")
MAX_REFERENCES = 5
MIN_REFERENCE_SECONDS = 3.0
"""Coqui asks for more than 3 s of reference speech (6 s or more clones best); the total of all recordings."""
MIN_RECORDING_SECONDS = 0.5
"""Each recording must hold at least this much (XTTS drops GPT conditioning chunks under 0.33 s)."""
SAMPLING = ("temperature", "top_p", "top_k", "repetition_penalty")
SPEED_RANGE = (0.5, 2.0)
REALTIME_FACTOR = {"cpu": 4.5}
"""Measured on a 2-core x86 CPU with the real v2 architecture (random weights: the cost does not depend
on their values): 4-5.5 s of compute per second of speech (0.15 s per GPT token, 0.6 s of vocoder per
second), first audio after ~2.5 s; twice that when the CPU is busy. A CUDA GPU is faster than real time."""
SPEAKER_NOTE = "XTTS v2 studio speaker; speaks all 17 XTTS languages"


def _normalise(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").split()).lower()


class XttsEngine(Engine):
    """XTTS v2 through coqui-tts: cloning from ``request.references`` or a studio speaker by name."""

    id = "xtts"
    name = "XTTS v2"
    default_voice = "Claribel Dervla"
    model_ids = (MODEL_ID,)

    def __init__(
        self,
        hub: Hub | None = None,
        cache: ConditioningCache | None = None,
        device: str | None = None,
        first_chunk_seconds: float = 0.3,
        chunk_seconds: float = 1.0,
    ) -> None:
        """``first_chunk_seconds`` and ``chunk_seconds``: how much audio each streamed piece holds. The
        first is short so speech starts soon; later ones are longer since each is vocoded with ~0.15 s of
        context on both sides."""
        super().__init__()
        self._hub = hub
        self._cache = cache
        self._requested_device = device
        self.first_chunk_seconds = first_chunk_seconds
        self.chunk_seconds = chunk_seconds
        self._choice: DeviceChoice | None = None
        self._model: Any = None
        self._speaker_names: list[str] | None = None
        self.realtime_factor = dict(REALTIME_FACTOR)

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            self._hub = default_hub()
        return self._hub

    @property
    def cache(self) -> ConditioningCache:
        if self._cache is None:
            from app import paths

            self._cache = ConditioningCache(paths.cache_dir() / "prompts")
        return self._cache

    @property
    def memory_bytes(self) -> int:  # type: ignore[override]
        return self.hub.spec(MODEL_ID).memory_bytes

    @property
    def device(self) -> str:
        return self._choice.device if self._choice is not None else "cpu"

    @property
    def sample_rate(self) -> int:
        """The loaded model's output rate (24 kHz for XTTS v2)."""
        if self._model is None:
            return SAMPLE_RATE
        return int(self._model.args.output_sample_rate)

    @property
    def capabilities(self) -> Capabilities:
        from app.engines.xtts_support import LANGUAGES

        return Capabilities(
            sample_rate=SAMPLE_RATE,
            languages=tuple(LANGUAGES),
            preset_voices=True,
            clone_from_reference=True,
            streaming=True,
            speed_range=SPEED_RANGE,
            seeded=True,
            sampling=SAMPLING,
            devices=DEVICES,
            max_references=MAX_REFERENCES,
            min_reference_seconds=MIN_REFERENCE_SECONDS,
            uses_transcript=False,
            max_length=True,
        )

    def availability(self) -> Availability:
        for module in ("torch", "torchaudio", "TTS"):
            if importlib.util.find_spec(module) is None:
                return Availability(False, "XTTS v2 is not installed. Run: pip install 'timbre[xtts]'")
        if not self.hub.is_installed(MODEL_ID):
            return Availability(
                False, f"The XTTS v2 weights are not downloaded. Run: timbre models download {MODEL_ID}"
            )
        return Availability(True)

    # Voices -------------------------------------------------------------------------------------------

    def _speakers(self) -> list[str]:
        """Studio speaker names: from the loaded model, else read once from speakers_xtts.pth."""
        if self._model is not None and self._model.speaker_manager is not None:
            return list(self._model.speaker_manager.speakers)
        if self._speaker_names is None:
            if not self.hub.is_installed(MODEL_ID):
                return []  # not remembered: a download later in this session must show its speakers
            names: list[str] = []
            path = self.hub.path(MODEL_ID) / "speakers_xtts.pth"
            if path.is_file() and importlib.util.find_spec("torch") is not None:
                import torch

                try:
                    names = list(torch.load(path, map_location="cpu", weights_only=True))
                except Exception as exc:  # noqa: BLE001 - a damaged file only costs the preset voices
                    logger.warning("Could not read the XTTS studio speakers in %s: %s", path, exc)
            self._speaker_names = names
        return self._speaker_names

    def voices(self) -> list[VoiceInfo]:
        names = self._speakers()
        if not names:
            return []
        state = self.availability()
        note = SPEAKER_NOTE if state.ok else state.reason
        return [VoiceInfo(name, name, self.id, "en", "", state.ok, note) for name in names]

    def resolve_voice(self, voice: str | None) -> str:
        """A studio speaker's exact name from any spelling (case, ``_`` or ``-`` for spaces)."""
        names = self._speakers()
        if not voice:
            return self.default_voice if self.default_voice in names or not names else names[0]
        if voice in names:
            return voice
        normalised = {_normalise(name): name for name in names}
        key = _normalise(voice)
        if key in normalised:
            return normalised[key]
        close = difflib.get_close_matches(key, list(normalised), n=3, cutoff=0.5)
        raise VoiceNotFoundError(voice, [normalised[c] for c in close])

    # Loading ------------------------------------------------------------------------------------------

    def _load(self) -> None:
        folder = self.hub.require(MODEL_ID)  # plain errors first, before seconds of imports
        self._choice = choose_device(DEVICES, self._requested_device)

        try:
            import torch
            from torch.nn.utils import parametrize
            from TTS.tts.configs.xtts_config import XttsConfig
            from TTS.tts.models.xtts import Xtts

            from app.engines.xtts_support import read_checkpoint
        except ImportError as exc:  # a broken or partial install: say what is missing
            raise EngineUnavailableError(
                f"XTTS v2 cannot start ({exc}). Run: pip install 'timbre[xtts]'"
            ) from exc

        logger.info("Loading %s on %s (%s)", MODEL_ID, self._choice.label, self._choice.reason)
        config = XttsConfig()
        config.load_json(str(folder / "config.json"))
        model = Xtts(config)  # what Xtts.init_from_config does (deprecated in coqui-tts 0.28)
        model._load_checkpoint = read_checkpoint  # reads model.pth without rewriting it in place
        model.load_checkpoint(config, checkpoint_dir=str(folder), eval=True)
        # Weight norm recomputes every vocoder weight on each call; inference never changes them, so
        # fold it once (the same values, computed once). Streaming calls the vocoder often.
        for module in model.hifigan_decoder.waveform_decoder.modules():
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        self._model = model.to(torch.device(self._choice.device))

    def _unload(self) -> None:
        self._model = None
        self._speaker_names = None
        free_accelerator_memory()

    # Synthesis ----------------------------------------------------------------------------------------

    def _check_references(self, request: SynthesisRequest) -> tuple[Reference, ...]:
        """The recordings XTTS will use (the first few), or a plain error when they are too short."""
        refs = request.references[:MAX_REFERENCES]
        if len(request.references) > MAX_REFERENCES:
            logger.info("XTTS uses the first %d of %d recordings", MAX_REFERENCES, len(request.references))
        total = sum(r.duration for r in refs)
        if total < MIN_REFERENCE_SECONDS:
            raise TimbreError(
                f"The recording is {total:.1f} s long; XTTS v2 needs at least {MIN_REFERENCE_SECONDS:.0f} s "
                "of speech to clone a voice (6 s or more sounds best)."
            )
        if any(r.duration < MIN_RECORDING_SECONDS for r in refs):
            raise TimbreError(
                f"A recording is shorter than {MIN_RECORDING_SECONDS} s; remove it or record it again."
            )
        return refs

    def _clone_conditioning(self, request: SynthesisRequest) -> dict[str, np.ndarray]:
        """GPT latents and speaker embedding for the request's recordings: cached, else computed."""
        from app.engines.xtts_support import reference_conditioning

        refs = self._check_references(request)
        # XTTS ignores transcripts, so editing one must not throw the cached voice away.
        key = conditioning_key(self.id, MODEL_ID, [r.content_hash() for r in refs], [])
        cached = self.cache.get(self.id, key)
        if cached is not None:
            return cached
        self.load()
        arrays = reference_conditioning(self._model, refs)
        self.cache.put(self.id, key, arrays)
        return arrays

    def conditioning(self, request: SynthesisRequest) -> tuple[Any, Any]:
        """(GPT conditioning latents, speaker embedding) as tensors on the model's device."""
        import torch

        self.load()
        device = self._model.device
        if request.references:
            arrays = self._clone_conditioning(request)
            return tuple(
                torch.from_numpy(arrays[k]).to(device) for k in ("gpt_cond_latent", "speaker_embedding")
            )
        speaker = self.resolve_voice(request.voice)
        manager = self._model.speaker_manager
        if manager is None or speaker not in manager.speakers:
            raise TimbreError(
                "XTTS v2's studio speakers (speakers_xtts.pth) are not installed: clone a voice from a "
                f"recording instead, or run: timbre models download {MODEL_ID}"
            )
        entry = manager.speakers[speaker]
        return entry["gpt_cond_latent"].to(device), entry["speaker_embedding"].to(device)

    def sampling(self, request: SynthesisRequest) -> dict[str, Any]:
        """The GPT's sampling settings: the request's, else the model config's tuned defaults."""
        config = self._model.config
        values = {
            "temperature": float(
                request.temperature if request.temperature is not None else config.temperature
            ),
            "top_p": float(request.top_p if request.top_p is not None else config.top_p),
            "top_k": int(request.top_k if request.top_k is not None else config.top_k),
            "repetition_penalty": float(
                request.repetition_penalty
                if request.repetition_penalty is not None
                else config.repetition_penalty
            ),
            "length_penalty": float(config.length_penalty),
        }
        if values["temperature"] <= 0:
            raise TimbreError("The temperature must be above 0 (XTTS sounds natural around 0.75).")
        if not 0 < values["top_p"] <= 1:
            raise TimbreError("top_p must be between 0 and 1.")
        if values["top_k"] < 0 or values["repetition_penalty"] <= 0:
            raise TimbreError("top_k cannot be negative and the repetition penalty must be above 0.")
        return values

    def max_tokens(self, max_seconds: float | None, speed: float = 1.0) -> int:
        """GPT tokens for at most ``max_seconds`` of audio (21.5 a second at speed 1), within the model's
        own bound (602 tokens, about 28 s). Each token is one code stride, so N tokens never exceed it."""
        from app.engines.xtts_support import seconds_per_token

        limit = int(self._model.gpt.max_gen_mel_tokens)
        if max_seconds is None:
            return limit
        per_token = seconds_per_token(self._model, speed)
        return max(1, min(limit, math.floor(max_seconds / per_token + 1e-9)))

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        from app.engines.xtts_support import (
            encode_text,
            require_language_reader,
            stream_speech,
            xtts_language,
        )

        # Mistakes in the request fail here, before seconds of loading.
        language = xtts_language(request.language, request.text)
        if request.references:
            self._check_references(request)
        else:
            self.resolve_voice(request.voice)
        if not request.text.strip():
            return
        low, high = SPEED_RANGE
        speed = min(high, max(low, float(request.speed)))
        self.load()
        require_language_reader(language)
        conditioning = self.conditioning(request)
        sampling = self.sampling(request)
        tokens = encode_text(self._model, request.text, language)
        # Seeded after the conditioning: computing it or reading it from the cache must not change the
        # random stream the GPT samples from.
        if request.seed is not None:
            seed_everything(int(request.seed))
        cancel.raise_if_cancelled()
        pieces = stream_speech(
            self._model,
            tokens,
            conditioning,
            sampling,
            speed=speed,
            max_tokens=self.max_tokens(request.max_seconds, speed),
            cancel=cancel,
            first_seconds=self.first_chunk_seconds,
            chunk_seconds=self.chunk_seconds,
        )
        try:
            for piece in pieces:
                cancel.raise_if_cancelled()
                yield AudioChunk(piece.astype(np.float32, copy=False), self.sample_rate, request.text)
        finally:
            pieces.close()
