"""Qwen3-TTS through the ``qwen-tts`` package: preset speakers with styles, cloning, and voice design.

One checkpoint does one job, so there are three engines over one loader:
``qwen3`` (CustomVoice: 9 preset speakers, each taking a style instruction), ``qwen3-clone`` (Base: clone
a voice from a 3-second recording, in context when its transcript is known, else from the speaker
embedding alone) and ``qwen3-design`` (VoiceDesign: a voice from a sentence describing it). All three
stream (see :mod:`app.engines.qwen3_stream`), take a seed and the sampling parameters, and stop at
``max_seconds`` so a runaway cannot run on.
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
from app.core.models import AudioChunk, CancelToken, Capabilities, SynthesisRequest, VoiceInfo
from app.engines.base import Availability, Engine
from app.engines.compute import DeviceChoice, choose_device, free_accelerator_memory, seed_everything
from app.engines.conditioning import ConditioningCache
from app.engines.hub import Hub, default_hub
from app.engines.qwen3_stream import stream_generation

logger = logging.getLogger(__name__)

SAMPLE_RATE = 24000
FRAMES_PER_SECOND = 12.5
"""The 12 Hz codec: one generation step is 80 ms of audio."""
DEFAULT_MAX_SECONDS = 60.0
"""A single text chunk never needs more; the runaway guard normally sets a tighter bound."""
MAX_REFERENCE_SECONDS = 20.0
"""Longer references only slow the in-context clone down: the first 20 s are used."""

LANGUAGES = {
    "zh": "Chinese",
    "en": "English",
    "ja": "Japanese",
    "ko": "Korean",
    "de": "German",
    "fr": "French",
    "ru": "Russian",
    "pt": "Portuguese",
    "es": "Spanish",
    "it": "Italian",
}
"""Timbre's language codes -> the names qwen-tts takes ("Auto" when none is given)."""

PRESET_SPEAKERS = {
    "vivian": ("Vivian", "zh", "female", "Bright young female voice"),
    "serena": ("Serena", "zh", "female", "Warm, gentle young female voice"),
    "uncle_fu": ("Uncle Fu", "zh", "male", "Seasoned male voice, low and mellow"),
    "dylan": ("Dylan", "zh", "male", "Youthful Beijing male voice"),
    "eric": ("Eric", "zh", "male", "Lively Chengdu male voice"),
    "ryan": ("Ryan", "en", "male", "Dynamic male voice with strong rhythm"),
    "aiden": ("Aiden", "en", "male", "Sunny American male voice"),
    "ono_anna": ("Ono Anna", "ja", "female", "Playful Japanese female voice"),
    "sohee": ("Sohee", "ko", "female", "Warm Korean female voice"),
}
"""The nine CustomVoice speakers of the official release (id -> name, native language, gender, note)."""

SAMPLING = ("temperature", "top_p", "top_k", "repetition_penalty")
REALTIME_FACTOR = {"cpu": 7.5}
"""Measured for the 0.6B model on a 2-core x86 CPU (MODELS.md); GPUs and MLX are faster than real time."""


def qwen_language(code: str | None) -> str:
    """``en-us`` -> ``English``; ``None`` -> ``Auto``; anything else is a plain error."""
    if not code:
        return "Auto"
    key = code.lower().split("-")[0].split("_")[0]
    if key in ("cmn", "yue"):
        key = "zh"
    if key not in LANGUAGES:
        names = ", ".join(f"{name} ({c})" for c, name in LANGUAGES.items())
        raise TimbreError(f"Qwen3-TTS does not speak '{code}'. It speaks {names}.")
    return LANGUAGES[key]


class Qwen3Engine(Engine):
    """The shared loader and generation path; subclasses choose the checkpoint and the voice."""

    model_kind = ""
    """``customvoice``, ``base`` or ``voicedesign``."""
    devices = ("cuda", "mps", "cpu")

    def __init__(
        self,
        size: str = "0.6b",
        hub: Hub | None = None,
        cache: ConditioningCache | None = None,
        device: str | None = None,
    ) -> None:
        super().__init__()
        self.size = size.lower()
        self._hub = hub
        self._cache = cache
        self._requested_device = device
        self._choice: DeviceChoice | None = None
        self._model: Any = None
        self.realtime_factor = dict(REALTIME_FACTOR)

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            self._hub = default_hub()
        return self._hub

    @property
    def model_id(self) -> str:
        return f"qwen3-tts-{self.size}-{self.model_kind}"

    @property
    def model_ids(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.model_id,)

    @property
    def memory_bytes(self) -> int:  # type: ignore[override]
        return self.hub.spec(self.model_id).memory_bytes

    @property
    def device(self) -> str:
        return self._choice.device if self._choice is not None else "cpu"

    def _capabilities(self, **extra: Any) -> Capabilities:
        return Capabilities(
            sample_rate=SAMPLE_RATE,
            languages=tuple(LANGUAGES),
            streaming=True,
            seeded=True,
            sampling=SAMPLING,
            max_length=True,
            speed_range=(1.0, 1.0),
            devices=self.devices,
            **extra,
        )

    def availability(self) -> Availability:
        if importlib.util.find_spec("qwen_tts") is None:
            return Availability(False, "Qwen3-TTS is not installed. Run: pip install 'timbre[qwen]'")
        if not self.hub.is_installed(self.model_id):
            return Availability(
                False,
                f"The Qwen3-TTS weights are not downloaded. Run: timbre models download {self.model_id}",
            )
        return Availability(True)

    def _load(self) -> None:
        import torch  # noqa: F401 - fails here, with the reason, if the install is broken

        # qwen-tts imports the `sox` package, which warns that the SoX program is missing (Timbre never
        # uses it), and transformers warns about the pad token on every call: noise for a user.
        logging.getLogger("sox").setLevel(logging.ERROR)
        logging.getLogger("transformers.generation.utils").setLevel(logging.ERROR)
        from qwen_tts import Qwen3TTSModel

        from app.engines.compute import torch_dtype

        folder = self.hub.require(self.model_id)
        self._choice = choose_device(self.devices, self._requested_device)
        logger.info("Loading %s on %s (%s)", self.model_id, self._choice.label, self._choice.reason)
        self._model = Qwen3TTSModel.from_pretrained(
            str(folder), device_map=self._choice.device, dtype=torch_dtype(self._choice.device)
        )
        kind = getattr(self._model.model, "tts_model_type", "")
        expected = {"customvoice": "custom_voice", "base": "base", "voicedesign": "voice_design"}[
            self.model_kind
        ]
        if kind != expected:
            self._model = None
            raise EngineUnavailableError(
                f"The weights in {folder} are a Qwen3-TTS '{kind}' model, not '{expected}'. "
                f"Run: timbre models download {self.model_id}"
            )

    def _unload(self) -> None:
        self._model = None
        free_accelerator_memory()

    def _generation_kwargs(self, request: SynthesisRequest) -> dict[str, Any]:
        max_seconds = request.max_seconds or DEFAULT_MAX_SECONDS
        kwargs: dict[str, Any] = {"max_new_tokens": max(1, math.ceil(max_seconds * FRAMES_PER_SECOND))}
        for name in ("temperature", "top_p", "top_k"):
            value = getattr(request, name)
            if value is not None:
                kwargs[name] = value
                kwargs[f"subtalker_{name}"] = value  # the code predictor samples the other codebooks
        if request.repetition_penalty is not None:
            kwargs["repetition_penalty"] = request.repetition_penalty
        return kwargs

    def _stream(
        self, request: SynthesisRequest, cancel: CancelToken, call: Any, prefix: Any = None
    ) -> Iterator[AudioChunk]:
        if request.seed is not None:
            seed_everything(int(request.seed))
        cancel.raise_if_cancelled()
        try:
            for piece in stream_generation(self._model, call, cancel, prefix_codes=prefix):
                yield AudioChunk(piece.astype(np.float32, copy=False), SAMPLE_RATE, request.text)
        except ValueError as exc:  # qwen-tts validates languages and speakers with ValueError
            raise TimbreError(f"Qwen3-TTS could not read this request: {exc}") from exc

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        raise NotImplementedError


class Qwen3PresetEngine(Qwen3Engine):
    """CustomVoice: nine preset speakers, each taking a style instruction ("Very happy.")."""

    id = "qwen3"
    name = "Qwen3-TTS"
    default_voice = "ryan"
    model_kind = "customvoice"

    @property
    def capabilities(self) -> Capabilities:
        # qwen-tts ignores instructions on the 0.6B CustomVoice model: only 1.7B takes a style.
        return self._capabilities(style_instructions=self.size == "1.7b")

    def _speaker_ids(self) -> list[str]:
        if self._model is not None:
            speakers = self._model.get_supported_speakers() or []
            return [s.lower() for s in speakers]
        return list(PRESET_SPEAKERS)

    def voices(self) -> list[VoiceInfo]:
        state = self.availability()
        result = []
        for voice_id in self._speaker_ids():
            name, lang, gender, note = PRESET_SPEAKERS.get(voice_id, (voice_id.title(), "", "", ""))
            result.append(
                VoiceInfo(voice_id, name, self.id, lang, gender, state.ok, note if state.ok else state.reason)
            )
        return result

    def resolve_voice(self, voice: str | None) -> str:
        if not voice:
            return self.default_voice
        key = voice.strip().lower().replace(" ", "_")
        known = self._speaker_ids()
        if key in known:
            return key
        raise VoiceNotFoundError(voice, difflib.get_close_matches(key, known, n=3, cutoff=0.5))

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        if request.instruct and not self.capabilities.style_instructions:
            raise TimbreError(
                "Style instructions need the 1.7B Qwen3-TTS model: run 'timbre models download "
                "qwen3-tts-1.7b-customvoice' and choose 1.7B in Preferences, or leave the style empty."
            )
        self.load()
        speaker = self.resolve_voice(request.voice)
        language = qwen_language(request.language)
        kwargs = self._generation_kwargs(request)

        def call() -> Any:
            return self._model.generate_custom_voice(
                text=request.text,
                speaker=speaker,
                language=language,
                instruct=request.instruct or "",
                **kwargs,
            )

        yield from self._stream(request, cancel, call)


class Qwen3DesignEngine(Qwen3Engine):
    """VoiceDesign: the voice comes from ``request.instruct``, a sentence describing it."""

    id = "qwen3-design"
    name = "Qwen3-TTS Voice Design"
    default_voice = "designed"
    model_kind = "voicedesign"

    def __init__(self, size: str = "1.7b", **kwargs: Any) -> None:
        super().__init__(size="1.7b", **kwargs)  # the official release has VoiceDesign at 1.7B only

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities(preset_voices=False, voice_design=True)

    def voices(self) -> list[VoiceInfo]:
        state = self.availability()
        note = "Describe the voice in the instruction box" if state.ok else state.reason
        return [VoiceInfo("designed", "Designed voice", self.id, "", "", state.ok, note)]

    def resolve_voice(self, voice: str | None) -> str:
        """Only its own placeholder voice: a name meant for another engine must not land here."""
        if voice and voice.strip().lower() != self.default_voice:
            raise VoiceNotFoundError(voice, [])
        return self.default_voice

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        description = (request.instruct or "").strip()
        if not description:
            raise TimbreError(
                "Describe the voice to design, for example: 'A calm, deep male voice with a slight rasp.'"
            )
        self.load()
        language = qwen_language(request.language)
        kwargs = self._generation_kwargs(request)

        def call() -> Any:
            return self._model.generate_voice_design(
                text=request.text, instruct=description, language=language, **kwargs
            )

        yield from self._stream(request, cancel, call)


class Qwen3CloneEngine(Qwen3Engine):
    """Base: a voice cloned from ``request.references``; the clone prompt is cached per reference."""

    id = "qwen3-clone"
    name = "Qwen3-TTS Clone"
    default_voice = "clone"
    model_kind = "base"
    min_reference_seconds = 3.0

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities(
            preset_voices=False,
            clone_from_reference=True,
            max_references=4,
            min_reference_seconds=self.min_reference_seconds,
            uses_transcript=True,
        )

    def voices(self) -> list[VoiceInfo]:
        return []

    def resolve_voice(self, voice: str | None) -> str:
        """Only its own placeholder voice: a name meant for another engine must not land here."""
        if voice and voice.strip().lower() != self.default_voice:
            raise VoiceNotFoundError(voice, [])
        return self.default_voice

    @property
    def cache(self) -> ConditioningCache:
        if self._cache is None:
            from app import paths

            self._cache = ConditioningCache(paths.cache_dir() / "prompts")
        return self._cache

    def clone_prompt(self, request: SynthesisRequest) -> dict[str, np.ndarray]:
        """The clone prompt for the request's references: from the cache, else computed and cached."""
        from app.engines.qwen3_prompt import build_prompt, prompt_key

        refs = request.references
        if not refs:
            raise TimbreError("Cloning needs a recording of the voice: add one to the profile first.")
        total = sum(r.duration for r in refs)
        if total < self.min_reference_seconds:
            raise TimbreError(
                f"The recording is {total:.1f} s long; Qwen3-TTS needs at least "
                f"{self.min_reference_seconds:.0f} s of speech to clone a voice."
            )
        key = prompt_key(self.id, self.model_id, refs)
        cached = self.cache.get(self.id, key)
        if cached is not None:
            return cached
        self.load()
        arrays = build_prompt(self._model, refs, MAX_REFERENCE_SECONDS)
        self.cache.put(self.id, key, arrays)
        return arrays

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        from app.engines.qwen3_prompt import to_prompt_items

        arrays = self.clone_prompt(request)
        self.load()
        language = qwen_language(request.language)
        kwargs = self._generation_kwargs(request)
        items = to_prompt_items(arrays, self._model.device)
        prefix = items[0].ref_code if items[0].icl_mode else None

        def call() -> Any:
            return self._model.generate_voice_clone(
                text=request.text, language=language, voice_clone_prompt=items, **kwargs
            )

        yield from self._stream(request, cancel, call, prefix=prefix)
