"""Kokoro's voices, shared by its three engines (ONNX, PyTorch, MLX): names, languages and blends."""

from __future__ import annotations

import re

import numpy as np

from app.core.errors import TimbreError

SAMPLE_RATE = 24000

OFFICIAL_VOICES = (
    "af_alloy af_aoede af_bella af_heart af_jessica af_kore af_nicole af_nova af_river af_sarah af_sky "
    "am_adam am_echo am_eric am_fenrir am_liam am_michael am_onyx am_puck am_santa "
    "bf_alice bf_emma bf_isabella bf_lily bm_daniel bm_fable bm_george bm_lewis "
    "ef_dora em_alex em_santa ff_siwis hf_alpha hf_beta hm_omega hm_psi if_sara im_nicola "
    "jf_alpha jf_gongitsune jf_nezumi jf_tebukuro jm_kumo pf_dora pm_alex pm_santa "
    "zf_xiaobei zf_xiaoni zf_xiaoxiao zf_xiaoyi zm_yunjian zm_yunxi zm_yunxia zm_yunyang"
).split()
"""The 54 voices of Kokoro v1.0, in the order of the official release."""

LANGUAGES = {
    "a": ("en-us", "US English"),
    "b": ("en-gb", "British English"),
    "e": ("es", "Spanish"),
    "f": ("fr-fr", "French"),
    "h": ("hi", "Hindi"),
    "i": ("it", "Italian"),
    "j": ("ja", "Japanese"),
    "p": ("pt-br", "Brazilian Portuguese"),
    "z": ("cmn", "Mandarin Chinese"),
}
"""Voice-name prefix letter -> (espeak-ng language code, language name)."""

CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
"""Kana and CJK ideographs: text that a Japanese or Chinese reader is needed for."""


def parse_blend(spec: str) -> list[tuple[str, float]]:
    """Parse ``af_heart:0.7,am_michael:0.3`` (weights optional, default 1) into normalised weights."""
    parts: list[tuple[str, float]] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        name, _, weight_text = item.partition(":")
        try:
            weight = float(weight_text) if weight_text.strip() else 1.0
        except ValueError:
            raise TimbreError(f"'{weight_text}' in the voice blend '{spec}' is not a number.") from None
        if not np.isfinite(weight) or weight <= 0:
            raise TimbreError(f"Each weight in the voice blend '{spec}' must be a positive number.")
        parts.append((name.strip(), weight))
    if not parts:
        raise TimbreError(f"The voice blend '{spec}' names no voice.")
    total = sum(w for _, w in parts)
    return [(name, w / total) for name, w in parts]


def describe_voice(voice_id: str) -> tuple[str, str, str]:
    """(display name, language code, gender) for an official-style voice id."""
    prefix, _, short = voice_id.partition("_")
    lang_code, lang_name = LANGUAGES.get(prefix[:1], ("en-us", "English"))
    gender = {"f": "female", "m": "male"}.get(prefix[1:2], "")
    return f"{short.replace('_', ' ').title()} ({lang_name}, {gender})", lang_code, gender


def resolve_blend(voice: str, known: list[str]) -> str:
    """A voice or blend (``af_heart:0.7,am_michael:0.3``) with every name checked against ``known``
    (case-insensitive) and the weights normalised; unknown names raise with close matches."""
    import difflib

    from app.core.errors import VoiceNotFoundError

    lowered = {v.lower(): v for v in known}
    resolved = []
    for name, weight in parse_blend(voice):
        if name.lower() not in lowered:
            raise VoiceNotFoundError(name, difflib.get_close_matches(name, known, n=3, cutoff=0.5))
        resolved.append((lowered[name.lower()], weight))
    if len(resolved) == 1:
        return resolved[0][0]
    return ",".join(f"{name}:{weight:.4g}" for name, weight in resolved)


def own_language(resolved_voice: str, text: str = "") -> str:
    """The language of a (resolved) voice or blend's first voice; a Japanese or Chinese voice given text
    without kana or ideographs reads it as English (Kokoro's CJK voices speak English well)."""
    first = parse_blend(resolved_voice)[0][0]
    lang = LANGUAGES.get(first[:1], ("en-us", ""))[0]
    if lang in ("ja", "cmn") and text and not CJK.search(text):
        return "en-us"
    return lang
