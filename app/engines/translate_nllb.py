"""NLLB-200 (distilled, 600M) through transformers: translation between the languages Timbre names.

Meta's No Language Left Behind model translates directly between any two of its 200 languages; Timbre
maps its own language codes to the ~55 most asked for. Weights come from the model manager
(``timbre models download nllb-200-distilled-600m``, 2.5 GB, non-commercial licence). The tokenizer is
read from ``tokenizer.json`` by the fast tokenizer, so sentencepiece is not needed. Decoding is greedy,
so the same text always gives the same translation.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from typing import TYPE_CHECKING, Any

from app.core.errors import EngineUnavailableError
from app.engines.base import Availability
from app.engines.compute import DeviceChoice, choose_device, free_accelerator_memory
from app.engines.translation import LANGUAGE_NAMES, TranslationError, Translator, normalize_language

if TYPE_CHECKING:
    from app.engines.hub import Hub

logger = logging.getLogger(__name__)

MODEL_ID = "nllb-200-distilled-600m"
DEVICES = ("cuda", "mps", "cpu")
MAX_INPUT_TOKENS = 400
"""NLLB was trained on sentences; far longer inputs lose words, so longer text is translated in pieces."""

NLLB_CODES: dict[str, str] = {
    "en": "eng_Latn",
    "pt-br": "por_Latn",
    "pt-pt": "por_Latn",
    "es": "spa_Latn",
    "fr": "fra_Latn",
    "de": "deu_Latn",
    "it": "ita_Latn",
    "nl": "nld_Latn",
    "pl": "pol_Latn",
    "ru": "rus_Cyrl",
    "uk": "ukr_Cyrl",
    "cs": "ces_Latn",
    "sv": "swe_Latn",
    "da": "dan_Latn",
    "nb": "nob_Latn",
    "fi": "fin_Latn",
    "el": "ell_Grek",
    "tr": "tur_Latn",
    "ro": "ron_Latn",
    "hu": "hun_Latn",
    "bg": "bul_Cyrl",
    "hr": "hrv_Latn",
    "sr": "srp_Cyrl",
    "sk": "slk_Latn",
    "sl": "slv_Latn",
    "lt": "lit_Latn",
    "lv": "lvs_Latn",
    "et": "est_Latn",
    "ca": "cat_Latn",
    "gl": "glg_Latn",
    "eu": "eus_Latn",
    "ar": "arb_Arab",
    "he": "heb_Hebr",
    "fa": "pes_Arab",
    "hi": "hin_Deva",
    "bn": "ben_Beng",
    "ur": "urd_Arab",
    "ta": "tam_Taml",
    "te": "tel_Telu",
    "mr": "mar_Deva",
    "gu": "guj_Gujr",
    "pa": "pan_Guru",
    "ja": "jpn_Jpan",
    "zh": "zho_Hans",
    "zh-hant": "zho_Hant",
    "yue": "yue_Hant",
    "ko": "kor_Hang",
    "vi": "vie_Latn",
    "th": "tha_Thai",
    "id": "ind_Latn",
    "ms": "zsm_Latn",
    "tl": "tgl_Latn",
    "sw": "swh_Latn",
    "af": "afr_Latn",
    "cy": "cym_Latn",
    "ga": "gle_Latn",
    "is": "isl_Latn",
    "eo": "epo_Latn",
}
"""Timbre's canonical language codes -> NLLB's FLORES-200 codes."""

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def max_new_tokens(input_tokens: int) -> int:
    """Room for the translation: about twice the source (scripts differ in tokens per word), plus slack."""
    return 2 * input_tokens + 16


class NllbTranslator(Translator):
    """NLLB-200 distilled 600M: many languages, each to any other, on CUDA, Apple's GPU or the CPU."""

    id = "nllb"
    name = "NLLB-200"
    model_ids = (MODEL_ID,)
    memory_bytes = 2_500_000_000

    def __init__(self, hub: Hub | None = None, device: str | None = None) -> None:
        super().__init__()
        self._hub = hub
        self._requested_device = device
        self._model: Any = None
        self._tokenizer: Any = None
        self._choice: DeviceChoice | None = None

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            from app.engines.hub import default_hub

            self._hub = default_hub()
        return self._hub

    @property
    def device(self) -> str:
        """Where the model runs once loaded (``cpu`` before)."""
        return self._choice.device if self._choice else "cpu"

    def availability(self) -> Availability:
        for module in ("torch", "transformers", "tokenizers"):
            if importlib.util.find_spec(module) is None:
                return Availability(
                    False,
                    "NLLB translation needs PyTorch and transformers. "
                    "Run: make engines, or pip install 'timbre[translate]'",
                )
        if not self.hub.is_installed(MODEL_ID):
            return Availability(
                False,
                f"The NLLB-200 translation model is not downloaded. Run: timbre models download {MODEL_ID}",
            )
        return Availability(True)

    def languages(self) -> tuple[str, ...]:
        return tuple(code for code in LANGUAGE_NAMES if code in NLLB_CODES)

    # Loading ------------------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            folder = self.hub.require(MODEL_ID)  # plain errors first, before seconds of imports
            choice = choose_device(DEVICES, self._requested_device)
        except EngineUnavailableError as exc:
            raise TranslationError(str(exc)) from exc
        try:
            from transformers import AutoModelForSeq2SeqLM, NllbTokenizerFast
        except ImportError as exc:
            raise TranslationError(
                f"NLLB translation needs PyTorch and transformers ({exc}). "
                "Run: make engines, or pip install 'timbre[translate]'"
            ) from exc
        from app.engines.compute import torch_dtype

        logger.info("Loading %s on %s (%s)", MODEL_ID, choice.label, choice.reason)
        tokenizer = NllbTokenizerFast.from_pretrained(str(folder))
        model = AutoModelForSeq2SeqLM.from_pretrained(str(folder), dtype=torch_dtype(choice.device))
        model.to(choice.device).eval()
        missing = [code for code in sorted(set(NLLB_CODES.values())) if _token_id(tokenizer, code) is None]
        if missing:
            raise TranslationError(
                f"The model in {folder} is not NLLB-200: its tokenizer lacks {', '.join(missing[:5])}. "
                f"Run: timbre models download {MODEL_ID}"
            )
        self._model, self._tokenizer, self._choice = model, tokenizer, choice

    def _unload(self) -> None:
        self._model = None
        self._tokenizer = None
        free_accelerator_memory()

    # Translating --------------------------------------------------------------------------------------

    def language_token_id(self, code: str) -> int:
        """The id of the token that tells NLLB a language (``pt-br`` -> the id of ``por_Latn``)."""
        canonical = normalize_language(code)
        if canonical not in NLLB_CODES:
            raise TranslationError(f"{self.name} does not know {LANGUAGE_NAMES[canonical]}.")
        self.load()
        token_id = _token_id(self._tokenizer, NLLB_CODES[canonical])
        if token_id is None:  # _load checked every mapped language, so only a swapped tokenizer gets here
            raise TranslationError(f"The NLLB-200 tokenizer lacks {NLLB_CODES[canonical]}.")
        return token_id

    def generate_ids(self, text: str, source: str, target: str) -> list[int]:
        """The decoder's token ids for one piece of text: start token, target language, words, end."""
        import torch

        source, target = normalize_language(source), normalize_language(target)
        self._check_pair(source, target)
        self.load()
        tokenizer, model = self._tokenizer, self._model
        tokenizer.src_lang = NLLB_CODES[source]
        inputs = tokenizer(text, return_tensors="pt")
        size = int(inputs["input_ids"].shape[1])
        if size > MAX_INPUT_TOKENS:
            raise TranslationError(
                f"A sentence of {size} tokens is too long to translate at once; the most is "
                f"{MAX_INPUT_TOKENS}. Split it into shorter sentences."
            )
        inputs = {name: tensor.to(model.device) for name, tensor in inputs.items()}
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                forced_bos_token_id=self.language_token_id(target),
                num_beams=1,
                do_sample=False,
                max_new_tokens=max_new_tokens(size),
            )
        return [int(token) for token in output[0].tolist()]

    def _translate(self, text: str, source: str, target: str) -> str:
        pieces = [self._translate_piece(piece, source, target) for piece in self._pieces(text)]
        return " ".join(piece for piece in pieces if piece)

    def _pieces(self, line: str) -> list[str]:
        """The line, or its sentences packed into pieces short enough for the model."""
        if not line:
            return []
        if len(self._tokenizer(line)["input_ids"]) <= MAX_INPUT_TOKENS:
            return [line]
        pieces: list[str] = []
        for sentence in _SENTENCE_END.split(line):
            candidate = f"{pieces[-1]} {sentence}" if pieces else sentence
            if pieces and len(self._tokenizer(candidate)["input_ids"]) <= MAX_INPUT_TOKENS:
                pieces[-1] = candidate
            else:
                pieces.append(sentence)
        return pieces

    def _translate_piece(self, text: str, source: str, target: str) -> str:
        if not text:
            return ""
        ids = self.generate_ids(text, source, target)
        return str(self._tokenizer.decode(ids, skip_special_tokens=True)).strip()


def _token_id(tokenizer: Any, token: str) -> int | None:
    """The token's id, or ``None`` when the tokenizer does not have it (it would give ``<unk>``)."""
    token_id = tokenizer.convert_tokens_to_ids(token)
    if token_id is None or token_id == tokenizer.unk_token_id:
        return None
    return int(token_id)
