"""Qwen3-TTS clone prompts as plain arrays: built once from a voice's recordings, cached as npz.

A prompt is the reference's speech codes (for an in-context clone, which needs the transcript) and its
speaker embedding. It is stored as numpy arrays, never pickled, so a cache file runs no code on load.
Several recordings are joined (up to a limit) into one reference, with their transcripts joined too.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from app.core.models import Reference
from app.engines.conditioning import conditioning_key

logger = logging.getLogger(__name__)

CODEC_RATE = 24000
GAP_SECONDS = 0.25
"""Silence put between joined recordings, so words do not run into each other."""


def prompt_key(engine_id: str, model_id: str, refs: tuple[Reference, ...]) -> str:
    return conditioning_key(
        engine_id, model_id, [r.content_hash() for r in refs], [r.transcript for r in refs]
    )


def _resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return np.asarray(samples, dtype=np.float32)
    from scipy.signal import resample_poly

    g = np.gcd(int(rate), int(target))
    return resample_poly(np.asarray(samples, dtype=np.float32), target // g, rate // g).astype(np.float32)


def join_references(refs: tuple[Reference, ...], max_seconds: float) -> tuple[np.ndarray, str]:
    """One 24 kHz recording from the references (in order, up to ``max_seconds``) and its transcript.

    The transcript is empty unless every recording used has one: an in-context clone with a partial
    transcript would teach the model the wrong words.
    """
    parts: list[np.ndarray] = []
    texts: list[str] = []
    total = 0
    limit = int(max_seconds * CODEC_RATE)
    gap = np.zeros(int(GAP_SECONDS * CODEC_RATE), np.float32)
    for ref in refs:
        audio = _resample(ref.samples, ref.sample_rate, CODEC_RATE)
        if parts and total + len(gap) + len(audio) > limit:
            break
        if parts:
            parts.append(gap)
            total += len(gap)
        parts.append(audio[: max(0, limit - total)])
        total += len(parts[-1])
        texts.append(ref.transcript.strip())
    transcript = " ".join(texts) if texts and all(texts) else ""
    return np.concatenate(parts), transcript


def build_prompt(model: Any, refs: tuple[Reference, ...], max_seconds: float) -> dict[str, np.ndarray]:
    """Run the Base model's prompt builder on the joined references; return the prompt as arrays."""
    audio, transcript = join_references(refs, max_seconds)
    in_context = bool(transcript)
    items = model.create_voice_clone_prompt(
        ref_audio=(audio, CODEC_RATE), ref_text=transcript or None, x_vector_only_mode=not in_context
    )
    item = items[0]
    code = item.ref_code.detach().cpu().numpy().astype(np.int64) if item.ref_code is not None else None
    logger.info(
        "Built a Qwen3 clone prompt from %.1f s of audio (%s)",
        len(audio) / CODEC_RATE,
        "in context" if in_context else "speaker embedding only",
    )
    return {
        "ref_code": code if code is not None else np.zeros((0, 0), np.int64),
        "spk": item.ref_spk_embedding.detach().float().cpu().numpy(),
        "icl": np.array(in_context),
        "ref_text": np.array(transcript),
    }


def to_prompt_items(arrays: dict[str, np.ndarray], device: Any) -> list[Any]:
    """The cached arrays as the ``VoiceClonePromptItem`` list that ``generate_voice_clone`` takes."""
    import torch
    from qwen_tts import VoiceClonePromptItem

    icl = bool(arrays["icl"])
    code = torch.from_numpy(np.asarray(arrays["ref_code"])).to(device) if icl else None
    spk = torch.from_numpy(np.asarray(arrays["spk"], dtype=np.float32)).to(device)
    text = str(arrays["ref_text"]) or None
    return [
        VoiceClonePromptItem(
            ref_code=code, ref_spk_embedding=spk, x_vector_only_mode=not icl, icl_mode=icl, ref_text=text
        )
    ]
