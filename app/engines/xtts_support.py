"""XTTS v2 helpers: language codes, speaker conditioning from recordings, and exact streaming.

Streaming. ``Xtts.inference_stream`` re-runs the vocoder over the whole utterance so far at every chunk
(quadratic work) and joins chunks with a 1024-sample cross-fade, while XTTS's HiFi-GAN sees about
±12.7 frames (±3 250 samples) around each output frame, so every seam differs from what ``inference``
would have produced. :func:`stream_speech` drives the same GPT token generator ``inference_stream``
uses, but vocodes each new stretch once, with :data:`CONTEXT_FRAMES` of real input on both sides: a
streamed utterance has exactly ``inference``'s length and matches it to float rounding (the GPT's
cached hidden states against ``inference``'s recomputed ones). Torch is imported inside the functions.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from app.core.audio import as_mono_float32
from app.core.errors import EngineUnavailableError, TimbreError
from app.core.models import CancelToken, Reference

logger = logging.getLogger(__name__)

LANGUAGES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "pl": "Polish",
    "tr": "Turkish",
    "ru": "Russian",
    "nl": "Dutch",
    "cs": "Czech",
    "ar": "Arabic",
    "zh-cn": "Chinese",
    "hu": "Hungarian",
    "ko": "Korean",
    "ja": "Japanese",
    "hi": "Hindi",
}
"""The 17 languages of XTTS v2, by the codes its tokenizer takes."""

_LANGUAGE_PACKAGES = {"ja": ("cutlet", "fugashi"), "zh-cn": ("pypinyin",)}
"""Readers coqui-tts needs for these languages but does not install by default (its ja / zh extras)."""

_SCRIPTS = (
    ("ja", re.compile("[\u3040-\u30ff]")),  # kana before ideographs: Japanese uses both
    ("ko", re.compile("[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh-cn", re.compile("[\u4e00-\u9fff]")),
    ("ru", re.compile("[\u0400-\u04ff]")),
    ("ar", re.compile("[\u0600-\u06ff]")),
    ("hi", re.compile("[\u0900-\u097f]")),
)

CONTEXT_FRAMES = 14
"""Vocoder frames of real input needed on each side of a window for its middle to equal a whole decode.
The HiFi-GAN (conv_pre k7; transposed convs 16/8, 16/8, 4/2, 4/2; MRF blocks with kernels 3, 7, 11 and
dilations 1, 3, 5; conv_post k7) reaches ±12.7 frames: measured by changing one frame, and checked by
``tests/engines/test_xtts_engine.py``."""


def xtts_language(code: str | None, text: str = "") -> str:
    """``en-us`` -> ``en``, ``zh``/``cmn`` -> ``zh-cn``; ``None`` -> guessed from the script of ``text``."""
    if not code:
        for lang, pattern in _SCRIPTS:
            if pattern.search(text):
                return lang
        return "en"
    key = code.strip().lower().replace("_", "-")
    if key in LANGUAGES:
        return key
    base = key.split("-")[0]
    if base in ("zh", "cmn"):
        return "zh-cn"
    if base in LANGUAGES:
        return base
    names = ", ".join(f"{name} ({c})" for c, name in LANGUAGES.items())
    raise TimbreError(f"XTTS v2 does not speak '{code}'. It speaks {names}.")


def require_language_reader(language: str) -> None:
    """Raise a plain error when coqui-tts lacks the optional reader for Japanese or Chinese text."""
    missing = [m for m in _LANGUAGE_PACKAGES.get(language, ()) if importlib.util.find_spec(m) is None]
    if missing:
        extra = "ja" if language == "ja" else "zh"
        raise EngineUnavailableError(
            f"Reading {LANGUAGES[language]} text with XTTS v2 needs {', '.join(missing)}. "
            f"Run: pip install 'coqui-tts[{extra}]'"
        )


def read_checkpoint(model_path: Any) -> dict[str, Any]:
    """``model.pth``'s state dict, read the way ``Xtts._load_checkpoint`` reads it but never written.

    The official file pickles an ``XttsConfig`` beside the weights; coqui-tts reads it through its
    legacy allow-list and then saves the file again without the config, in place. Timbre's models
    folder is checked against the download's sizes and hashes (and may be read-only), so the engine
    installs this reader on the model instead (``load_checkpoint`` is otherwise unchanged).
    """
    import pickle

    import torch
    from TTS.tts.models.xtts import _legacy_safe_globals

    try:
        checkpoint = torch.load(model_path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        with _legacy_safe_globals():
            checkpoint = torch.load(model_path, map_location="cpu", weights_only=True)
    return checkpoint["model"]


def reference_conditioning(model: Any, refs: tuple[Reference, ...]) -> dict[str, np.ndarray]:
    """XTTS's voice from recordings, as ``Xtts.get_conditioning_latents`` makes it from files.

    Each recording is cut at ``max_ref_len`` seconds (and peak-normalised when the config says so);
    the speaker embedding is the mean of each recording's embedding (16 kHz), and the GPT's
    conditioning latents come from the recordings joined end to end (22.05 kHz), of which XTTS reads
    ``gpt_cond_len`` seconds in ``gpt_cond_chunk_len``-second chunks. Audio is resampled here from
    numpy samples, so coqui-tts never opens a file.
    """
    import torch
    import torchaudio.functional as AF

    config = model.config
    embeddings = []
    joined = []
    for ref in refs:
        audio = torch.from_numpy(as_mono_float32(ref.samples)).unsqueeze(0)
        audio = audio[:, : int(ref.sample_rate * config.max_ref_len)]
        if config.sound_norm_refs:
            audio = audio / audio.abs().max().clamp(min=1e-8) * 0.75
        at16k = AF.resample(audio, ref.sample_rate, 16000).clamp(-1, 1)
        at22k = AF.resample(audio, ref.sample_rate, 22050).clamp(-1, 1)
        embeddings.append(model.get_speaker_embedding(at16k, 16000))
        joined.append(at22k)
    latent = model.get_gpt_cond_latents(
        torch.cat(joined, dim=-1), 22050, length=config.gpt_cond_len, chunk_length=config.gpt_cond_chunk_len
    )
    embedding = torch.stack(embeddings).mean(dim=0)
    return {
        "gpt_cond_latent": latent.float().cpu().numpy(),
        "speaker_embedding": embedding.float().cpu().numpy(),
    }


def seconds_per_token(model: Any, speed: float = 1.0) -> float:
    """Audio one GPT token becomes: one code stride (1024 samples at 22.05 kHz, ~46 ms), over ``speed``."""
    args = model.args
    return args.gpt_code_stride_len / args.input_sample_rate / max(speed, 0.05)


def _interpolated(n_in: int, k_in: int, scale: float, final: bool) -> tuple[int, int]:
    """Length of ``F.interpolate(mode="linear", scale_factor=scale)`` on ``n_in`` inputs, and how many of
    its first outputs are final when only the first ``k_in`` inputs are and more may follow.

    Output ``j`` reads inputs ``floor(s)`` and ``floor(s) + 1``, ``s = (j + 0.5) / scale - 0.5`` whatever
    the length (the last input stands in for the missing one at the end), so it is final once both are;
    one input more is kept for rounding.
    """
    n_out = math.floor(n_in * scale)
    if final:
        return n_out, n_out
    return n_out, max(0, min(n_out, math.ceil((k_in - 1.5) * scale - 0.5)))


class _Vocoder:
    """XTTS's latents -> audio path (speed, the decoder's two resamplings, HiFi-GAN), in windows."""

    def __init__(self, model: Any, speaker_embedding: Any, length_scale: float) -> None:
        decoder = model.hifigan_decoder
        self.generator = decoder.waveform_decoder
        self.speaker_embedding = speaker_embedding
        # The order and factors of Xtts.inference (speed) then HifiDecoder.forward (code stride to
        # vocoder hop, 22.05 to 24 kHz).
        self.scales = [length_scale] if length_scale != 1.0 else []
        self.scales.append(decoder.ar_mel_length_compression / decoder.output_hop_length)
        if decoder.output_sample_rate != decoder.input_sample_rate:
            self.scales.append(decoder.output_sample_rate / decoder.input_sample_rate)
        self.hop = math.prod(int(up.stride[0]) for up in self.generator.ups)

    def frames(self, n_latents: int, final: bool) -> tuple[int, int]:
        """(vocoder frames, frames that more latents will not change) for ``n_latents`` GPT latents."""
        total = stable = n_latents  # a latent never changes once generated; interpolation edges do
        for scale in self.scales:
            total, stable = _interpolated(total, stable, scale, final)
        return total, stable

    def features(self, latents: list[Any]) -> Any:
        """The vocoder's input frames, as ``inference`` computes them (element by element, so a frame's
        value does not depend on how many follow it)."""
        import torch
        import torch.nn.functional as F

        z = torch.cat(latents, dim=0)[None].transpose(1, 2)  # (1, channels, n)
        for scale in self.scales:
            z = F.interpolate(z, scale_factor=scale, mode="linear")
        return z

    def decode(self, z: Any, first: int, last: int) -> np.ndarray:
        """Samples of frames ``[first, last)``: vocodes them with up to CONTEXT_FRAMES of ``z`` each side."""
        start = max(0, first - CONTEXT_FRAMES)
        stop = min(z.shape[-1], last + CONTEXT_FRAMES)
        wav = self.generator(z[:, :, start:stop], g=self.speaker_embedding).reshape(-1)
        return wav[(first - start) * self.hop : (last - start) * self.hop].float().cpu().numpy()


def encode_text(model: Any, text: str, language: str) -> Any:
    """Token ids as ``Xtts.inference`` makes them (stripped, lower-cased), or a plain error if too long."""
    import torch

    ids = model.tokenizer.encode(text.strip().lower(), lang=language)
    limit = int(model.args.gpt_max_text_tokens)
    if len(ids) >= limit:
        raise TimbreError(
            f"This piece of text is too long for XTTS v2 ({len(ids)} tokens; it reads fewer than {limit} "
            "at once). Split it into shorter sentences."
        )
    return torch.IntTensor(ids).unsqueeze(0).to(model.device)


def _token_generator(gpt: Any, inputs: Any, sampling: dict[str, Any], max_tokens: int) -> Any:
    """XTTS's streaming GPT sampler (the one ``inference_stream`` uses), stopping after ``max_tokens``.

    ``get_generator`` takes its length bound from ``gpt.max_gen_mel_tokens`` when called (and passes
    ``max_length`` itself, so it cannot be given as an argument): lowered for this call only.
    """
    saved = gpt.max_gen_mel_tokens
    gpt.max_gen_mel_tokens = max(1, min(saved, int(max_tokens)))
    try:
        return gpt.get_generator(
            fake_inputs=inputs,
            do_sample=True,
            num_beams=1,
            num_return_sequences=1,
            output_attentions=False,
            output_hidden_states=True,
            return_dict_in_generate=True,
            **sampling,
        )
    finally:
        gpt.max_gen_mel_tokens = saved


def stream_speech(
    model: Any,
    tokens: Any,
    conditioning: tuple[Any, Any],
    sampling: dict[str, Any],
    *,
    speed: float,
    max_tokens: int,
    cancel: CancelToken,
    first_seconds: float,
    chunk_seconds: float,
) -> Iterator[np.ndarray]:
    """Float32 pieces of the utterance as the GPT writes it: the first once ``first_seconds`` of audio
    are final, then every ``chunk_seconds``; together exactly ``inference``'s audio.

    ``cancel`` is checked after every token; leaving early closes the GPT's generator.
    """
    import torch

    latent, embedding = conditioning
    vocoder = _Vocoder(model, embedding, 1.0 / max(speed, 0.05))
    frames_per_second = model.args.output_sample_rate / vocoder.hop
    first_frames = max(1, round(first_seconds * frames_per_second))
    chunk_frames = max(1, round(chunk_seconds * frames_per_second))
    with torch.inference_mode():
        inputs = model.gpt.compute_embeddings(latent, tokens)
        generator = _token_generator(model.gpt, inputs, sampling, max_tokens)
    latents: list[Any] = []
    emitted, target = 0, first_frames
    try:
        for _token, hidden in generator:  # (sampled token, the GPT's final-norm hidden state before it)
            cancel.raise_if_cancelled()
            latents.append(hidden)
            ready = vocoder.frames(len(latents), final=False)[1] - CONTEXT_FRAMES
            if ready - emitted >= target:
                with torch.inference_mode():
                    piece = vocoder.decode(vocoder.features(latents), emitted, ready)
                yield piece
                emitted, target = ready, chunk_frames
        cancel.raise_if_cancelled()
        if latents:
            with torch.inference_mode():
                z = vocoder.features(latents)
                piece = vocoder.decode(z, emitted, z.shape[-1]) if z.shape[-1] > emitted else None
            if piece is not None:
                yield piece
    finally:
        generator.close()
