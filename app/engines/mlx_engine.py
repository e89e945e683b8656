"""Qwen3-TTS on MLX through ``mlx-audio``: the fast way to run it on a Mac with Apple Silicon.

The same three jobs as the PyTorch engines (:mod:`app.engines.qwen3_engine`), one checkpoint each:
``qwen3-mlx`` (CustomVoice: preset speakers; the 1.7B model also takes a style instruction),
``qwen3-clone-mlx`` (Base: a voice cloned from ``request.references``, in context when every recording
has a transcript, else from the speaker embedding alone) and ``qwen3-design-mlx`` (VoiceDesign: a voice
from a sentence describing it). mlx-audio picks the generation path from the checkpoint's type.

Audio streams: mlx-audio's ``stream=True`` decodes the new codec frames every ``chunk_frames`` steps with
the codec decoder's own state (convolution buffers, attention cache), so the pieces join into the
offline result (equal to float rounding; the tests check this). One exception: an in-context clone
decoded offline gets the reference's codes as left context, while streamed it starts from silence, so
its first frames differ. The seed goes to MLX's generator; ``max_seconds`` caps the generation steps.
"""

from __future__ import annotations

import difflib
import logging
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from app.core.errors import EngineUnavailableError, TimbreError, VoiceNotFoundError
from app.core.models import AudioChunk, CancelToken, Capabilities, SynthesisRequest, VoiceInfo
from app.engines.base import Availability, Engine
from app.engines.compute import DeviceChoice, free_accelerator_memory
from app.engines.conditioning import ConditioningCache
from app.engines.hub import Hub, default_hub
from app.engines.mlx_support import (
    DEVICES,
    load_mlx_model,
    mlx_device,
    platform_problem,
    seed_mlx,
)
from app.engines.qwen3_engine import (
    DEFAULT_MAX_SECONDS,
    FRAMES_PER_SECOND,
    LANGUAGES,
    MAX_REFERENCE_SECONDS,
    PRESET_SPEAKERS,
    SAMPLE_RATE,
    qwen_language,
)

logger = logging.getLogger(__name__)

SAMPLING = ("temperature", "top_p", "top_k", "repetition_penalty")
CHUNK_FRAMES = 4
"""Codec frames per streamed piece: 0.32 s, mlx-audio's suggested interval, for fast first audio."""
_KINDS = {"customvoice": "custom_voice", "base": "base", "voicedesign": "voice_design"}


class MlxQwen3Engine(Engine):
    """CustomVoice on MLX: preset speakers, with a style instruction on the 1.7B model."""

    id = "qwen3-mlx"
    name = "Qwen3-TTS (MLX)"
    default_voice = "ryan"
    model_kind = "customvoice"

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
        self.chunk_frames = CHUNK_FRAMES
        self.realtime_factor = {}  # not yet measured on Apple Silicon; MLX's CPU build is far slower

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            self._hub = default_hub()
        return self._hub

    @property
    def model_id(self) -> str:
        return f"qwen3-tts-{self.size}-{self.model_kind}-mlx"

    @property
    def model_ids(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.model_id,)

    @property
    def memory_bytes(self) -> int:  # type: ignore[override]
        return self.hub.spec(self.model_id).memory_bytes

    @property
    def device(self) -> str:
        return self._choice.device if self._choice is not None else "mlx"

    def _capabilities(self, **extra: Any) -> Capabilities:
        return Capabilities(
            sample_rate=SAMPLE_RATE,
            languages=tuple(LANGUAGES),
            streaming=True,
            seeded=True,
            sampling=SAMPLING,
            max_length=True,
            speed_range=(1.0, 1.0),
            devices=DEVICES,
            **extra,
        )

    @property
    def capabilities(self) -> Capabilities:
        # mlx-audio drops the instruction on the 0.6B CustomVoice model (it was not trained with one).
        return self._capabilities(style_instructions=self.size != "0.6b")

    def availability(self) -> Availability:
        problem = platform_problem()
        if problem:
            return Availability(False, problem)
        if not self.hub.is_installed(self.model_id):
            return Availability(
                False,
                f"The Qwen3-TTS MLX weights are not downloaded. Run: timbre models download {self.model_id}",
            )
        return Availability(True)

    def _load(self) -> None:
        problem = platform_problem()
        if problem:
            raise EngineUnavailableError(problem)
        folder = self.hub.require(self.model_id)
        choice = mlx_device(self._requested_device)
        logger.info("Loading %s on %s (%s)", self.model_id, choice.label, choice.reason)
        model = load_mlx_model(folder)
        kind = getattr(getattr(model, "config", None), "tts_model_type", None)
        expected = _KINDS[self.model_kind]
        if getattr(model, "model_type", "") != "qwen3_tts" or kind != expected:
            raise EngineUnavailableError(
                f"The weights in {folder} are not a Qwen3-TTS '{expected}' model. "
                f"Run: timbre models download {self.model_id}"
            )
        if model.tokenizer is None or model.speech_tokenizer is None:
            raise EngineUnavailableError(
                f"The Qwen3-TTS weights in {folder} are incomplete (text or speech tokenizer missing). "
                f"Run: timbre models download {self.model_id}"
            )
        self._model, self._choice = model, choice

    def _unload(self) -> None:
        self._model = None
        free_accelerator_memory()

    def _speaker_ids(self) -> list[str]:
        if self._model is not None:
            return [s.lower() for s in self._model.get_supported_speakers()]
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

    def _generation_kwargs(self, request: SynthesisRequest) -> dict[str, Any]:
        max_seconds = request.max_seconds or DEFAULT_MAX_SECONDS
        # Whole frames that fit: the audio never runs past max_seconds.
        kwargs: dict[str, Any] = {
            "max_tokens": max(1, math.floor(max_seconds * FRAMES_PER_SECOND)),
            "lang_code": qwen_language(request.language).lower(),
            "stream": True,
            # mlx-audio takes the interval in seconds and counts int(interval x 12.5) frames: the half
            # frame keeps float rounding from making that one frame fewer.
            "streaming_interval": (self.chunk_frames + 0.5) / FRAMES_PER_SECOND,
            "split_pattern": "",  # the synthesis service already cut the text into chunks
        }
        for name in SAMPLING:  # None leaves the checkpoint's generation_config.json default
            kwargs[name] = getattr(request, name)
        return kwargs

    def _stream(self, request: SynthesisRequest, cancel: CancelToken, **route: Any) -> Iterator[AudioChunk]:
        """Run mlx-audio's streaming generation; check ``cancel`` before each piece is computed."""
        kwargs = self._generation_kwargs(request)
        if request.seed is not None:
            seed_mlx(int(request.seed))
        pieces = self._model.generate(text=request.text, **route, **kwargs)
        try:
            while True:
                cancel.raise_if_cancelled()
                try:
                    result = next(pieces)
                except StopIteration:
                    return
                except ValueError as exc:  # mlx-audio validates speakers and inputs with ValueError
                    raise TimbreError(f"Qwen3-TTS (MLX) could not read this request: {exc}") from exc
                samples = np.asarray(result.audio, dtype=np.float32).reshape(-1)
                yield AudioChunk(samples, SAMPLE_RATE, request.text)
        finally:
            pieces.close()  # a cancel or a consumer that stopped early ends mlx-audio's loop here

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        speaker = self.resolve_voice(request.voice)
        qwen_language(request.language)  # a bad language is an error before anything loads
        self.load()
        instruct = (request.instruct or "").strip() or None
        yield from self._stream(request, cancel, voice=speaker, instruct=instruct)


class MlxQwen3DesignEngine(MlxQwen3Engine):
    """VoiceDesign on MLX: the voice comes from ``request.instruct``, a sentence describing it."""

    id = "qwen3-design-mlx"
    name = "Qwen3-TTS Voice Design (MLX)"
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
        return self.default_voice

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        description = (request.instruct or "").strip()
        if not description:
            raise TimbreError(
                "Describe the voice to design, for example: 'A calm, deep male voice with a slight rasp.'"
            )
        qwen_language(request.language)
        self.load()
        yield from self._stream(request, cancel, instruct=description)


class MlxQwen3CloneEngine(MlxQwen3Engine):
    """Base on MLX: a voice cloned from ``request.references``.

    The joined 24 kHz reference and, for an in-context clone, its speech codes are kept in the
    conditioning cache, so after a restart the reference is not encoded again.
    """

    id = "qwen3-clone-mlx"
    name = "Qwen3-TTS Clone (MLX)"
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
        return self.default_voice

    @property
    def cache(self) -> ConditioningCache:
        if self._cache is None:
            from app import paths

            self._cache = ConditioningCache(paths.cache_dir() / "prompts")
        return self._cache

    def clone_prompt(self, request: SynthesisRequest) -> dict[str, np.ndarray]:
        """The reference as mlx-audio takes it (24 kHz audio, transcript, speech codes): cached per voice."""
        from app.engines.qwen3_prompt import join_references, prompt_key

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
        audio, transcript = join_references(refs, MAX_REFERENCE_SECONDS)
        codes = np.zeros((0, 0, 0), np.int32)
        if transcript:
            import mlx.core as mx

            self.load()
            encoded = self._model.speech_tokenizer.encode(mx.array(audio)[None, None, :])
            codes = np.asarray(encoded)
        arrays = {"audio": audio.astype(np.float32), "ref_text": np.array(transcript), "ref_codes": codes}
        self.cache.put(self.id, key, arrays)
        return arrays

    def _prime_codes(self, audio: Any, transcript: str, codes: np.ndarray) -> None:
        """Hand cached speech codes to mlx-audio's in-memory reference cache, so it does not encode the
        reference again. That cache (``_icl_cache``, keyed by transcript and an audio fingerprint) is
        mlx-audio's internal: when a future version changes it, nothing is primed and mlx-audio simply
        encodes the reference itself, once per load."""
        import mlx.core as mx

        cache = getattr(self._model, "_icl_cache", None)
        if not isinstance(cache, dict) or codes.size == 0:
            return
        key = (transcript, (audio.size, float(audio.sum())))
        if key not in cache:
            ids = mx.array(self._model.tokenizer.encode(f"<|im_start|>assistant\n{transcript}<|im_end|>\n"))
            cache[key] = (mx.array(codes), ids[None, 3:-2])  # the transcript's tokens, without the template

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        import mlx.core as mx

        qwen_language(request.language)
        arrays = self.clone_prompt(request)
        self.load()
        audio = mx.array(np.asarray(arrays["audio"], dtype=np.float32))
        transcript = str(arrays["ref_text"]) or None
        if transcript:
            self._prime_codes(audio, transcript, np.asarray(arrays["ref_codes"]))
        # mlx-audio clones in context when it has a transcript, else from the speaker embedding alone.
        yield from self._stream(request, cancel, ref_audio=audio, ref_text=transcript)
