"""Tests for app.core.text: cleaning text for speech, sentence splitting and lazy, growing chunks."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest

from app.core.text import (
    TextChunk,
    chunk_text,
    clean_for_speech,
    has_speakable_content,
    iter_chunks,
    split_sentences,
)


def _limits(first: int, maximum: int, growth: float, count: int) -> list[int]:
    """The documented limit of each chunk: min(max_chars, first_max_chars * growth**k)."""
    return [int(min(maximum, first * growth**k)) for k in range(count)]


def _speakable_words(text: str) -> list[str]:
    return [word for word in text.split() if has_speakable_content(word)]


# ------------------------------------------------------------------------------------------ sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith arrived. He sat.", ["Dr. Smith arrived.", "He sat."]),
        ("Mr. and Mrs. Smith came. Prof. Lee too.", ["Mr. and Mrs. Smith came.", "Prof. Lee too."]),
        (
            "We use tools, e.g. Python and Rust. They work.",
            ["We use tools, e.g. Python and Rust.", "They work."],
        ),
        ("That is, i.e. Rust, fast. Yes.", ["That is, i.e. Rust, fast.", "Yes."]),
        ("The U.S. Senate voted. It passed.", ["The U.S. Senate voted.", "It passed."]),
        ("She moved to the U.K. Last year was hard.", ["She moved to the U.K. Last year was hard."]),
        ("Meet at 5 p.m. Friday works. Bring food.", ["Meet at 5 p.m. Friday works.", "Bring food."]),
        ("She has a Ph.D. From Oxford. Nice.", ["She has a Ph.D. From Oxford.", "Nice."]),
        ("J. R. R. Tolkien wrote books. They sold.", ["J. R. R. Tolkien wrote books.", "They sold."]),
        ("The value is 3.5 today. Tomorrow 4.", ["The value is 3.5 today.", "Tomorrow 4."]),
        ("Install v1.2.3 now. Then 192.168.0.1 works.", ["Install v1.2.3 now.", "Then 192.168.0.1 works."]),
        ("Open report.pdf at example.com today. Done.", ["Open report.pdf at example.com today.", "Done."]),
        ("Wait... what happened? Nothing.", ["Wait... what happened?", "Nothing."]),
        ("Wait… Then it rained.", ["Wait…", "Then it rained."]),
        ("Apples, pears, etc. and more. Then left.", ["Apples, pears, etc. and more.", "Then left."]),
        ("I bought apples, etc. Then I left.", ["I bought apples, etc.", "Then I left."]),
        (
            "See Fig. 3 and No. 5 here. I said no. Then left.",
            ["See Fig. 3 and No. 5 here.", "I said no.", "Then left."],
        ),
        ("On Jan. 5 we met. It rained.", ["On Jan. 5 we met.", "It rained."]),
        (
            "Acme Inc. Said so and Foo Corp. Agreed. Fine.",
            ["Acme Inc. Said so and Foo Corp. Agreed.", "Fine."],
        ),
        ('He said "Stop." Then left.', ['He said "Stop."', "Then left."]),
        ('"Stop." he said. (Really.) Ok!', ['"Stop." he said.', "(Really.)", "Ok!"]),
        ("Is it? yes it is. Really! Sure?", ["Is it? yes it is.", "Really!", "Sure?"]),
        ("今日は晴れです。明日は雨です。", ["今日は晴れです。", "明日は雨です。"]),
        ("本当？うん！「はい。」そう。", ["本当？", "うん！", "「はい。」", "そう。"]),
        ("One.\n\nTwo", ["One.", "Two"]),
        ("Hello there. !!! Next one.", ["Hello there. !!!", "Next one."]),
        ("", []),
        ("  ...  ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


# ------------------------------------------------------------------------------------------ chunks


def test_first_chunk_is_the_first_sentence_alone_and_later_chunks_pack() -> None:
    chunks = chunk_text("Hi there. This is second. Third.")
    assert chunks == [TextChunk("Hi there.", 9, "sentence"), TextChunk("This is second. Third.", 32, "end")]


def test_paragraph_break_always_ends_a_chunk() -> None:
    chunks = chunk_text("A b.\n\nC d. E f.\n\nG h.")
    assert [(c.text, c.boundary) for c in chunks] == [
        ("A b.", "paragraph"),
        ("C d. E f.", "paragraph"),
        ("G h.", "end"),
    ]


def test_long_first_sentence_splits_at_last_clause_that_fits() -> None:
    text = "Alpha beta, gamma delta; epsilon zeta eta theta iota kappa lambda mu nu."
    first = chunk_text(text, first_max_chars=30)[0]
    assert (first.text, first.boundary, first.end) == ("Alpha beta, gamma delta;", "clause", 24)


def test_clause_needs_a_space_after_ascii_comma() -> None:
    first = chunk_text("We counted 3,000,000 sheep and then many more of them.", first_max_chars=25)[0]
    assert (first.text, first.boundary) == ("We counted 3,000,000", "word")


def test_long_first_sentence_without_clause_splits_at_last_space() -> None:
    text = "Alpha beta gamma delta epsilon zeta eta theta."
    chunks = chunk_text(text, first_max_chars=20)
    assert (chunks[0].text, chunks[0].boundary) == ("Alpha beta gamma", "word")
    assert " ".join(c.text for c in chunks) == text


def test_single_token_longer_than_limit_is_cut_hard() -> None:
    chunks = chunk_text("a" * 50, first_max_chars=20, growth=1.5)
    assert [(len(c.text), c.boundary) for c in chunks] == [(20, "hard"), (30, "end")]


def test_cjk_clause_punctuation_splits_without_space() -> None:
    text = "今日はとても良い天気なので、公園に行って散歩をしました。"
    assert chunk_text(text, first_max_chars=20)[0] == TextChunk("今日はとても良い天気なので、", 14, "clause")


def test_cjk_without_punctuation_splits_hard_at_bounded_length() -> None:
    text = "漢字かなカナ" * 834  # 5,004 characters, no punctuation, no spaces
    chunks = chunk_text(text, first_max_chars=50, max_chars=200)
    limits = _limits(50, 200, 1.5, len(chunks))
    assert all(len(c.text) <= limit for c, limit in zip(chunks, limits, strict=True))
    assert [c.boundary for c in chunks[:-1]] == ["hard"] * (len(chunks) - 1) and chunks[-1].boundary == "end"
    assert "".join(c.text for c in chunks) == text
    assert max(len(c.text) for c in chunks) == 200


def test_words_without_punctuation_split_at_spaces_within_bounds() -> None:
    rng = random.Random(7)
    words = [
        rng.choice(["river", "stone", "a", "mountainside", "of", "quietly", "blue"]) for _ in range(2000)
    ]
    text = " ".join(words)  # about 10,000 characters, no punctuation at all
    chunks = chunk_text(text, first_max_chars=80, max_chars=250)
    limits = _limits(80, 250, 1.5, len(chunks))
    assert all(len(c.text) <= limit for c, limit in zip(chunks, limits, strict=True))
    assert {c.boundary for c in chunks[:-1]} == {"word"}
    assert " ".join(c.text for c in chunks).split() == words  # no word cut in half


def test_limits_grow_geometrically_up_to_max() -> None:
    chunks = chunk_text("Ab cd. " * 20, first_max_chars=10, max_chars=40, growth=2.0)
    assert [c.text.count(".") for c in chunks] == [1, 3, 5, 5, 5, 1]
    assert [len(c.text) for c in chunks] == [6, 20, 34, 34, 34, 6]


def test_growth_one_keeps_every_chunk_within_first_limit() -> None:
    chunks = chunk_text("Short one here. " * 30, first_max_chars=40, growth=1.0)
    assert [c.text.count(".") for c in chunks] == [1] + [2] * 14 + [1]  # two 15-char sentences fit in 40


def test_long_later_sentence_is_split_within_its_limit() -> None:
    long = "Word " * 100 + "end."
    chunks = chunk_text("Start. " + long, first_max_chars=20, max_chars=100, growth=2.0)
    assert chunks[0].text == "Start."
    assert [len(c.text) for c in chunks[1:3]] == [39, 79]
    assert [c.boundary for c in chunks[1:-1]] == ["word"] * (len(chunks) - 2)


def test_punctuation_only_pieces_merge_or_drop() -> None:
    chunks = chunk_text("... Hello there. !!! ?? Next one. ---")
    assert [c.text for c in chunks] == ["... Hello there. !!! ??", "Next one. ---"]
    tail = chunk_text("Some words here, !!!!!!!!!!!!!!!!!!!!", first_max_chars=20)
    assert tail == [TextChunk("Some words here,", 37, "end")]


def test_end_offsets_track_progress_in_cleaned_text() -> None:
    text = clean_for_speech("# Intro\nFirst sentence here. Second one!\n\nThird paragraph, at last.")
    chunks = chunk_text(text)
    assert [c.end for c in chunks] == sorted({c.end for c in chunks})
    assert chunks[-1].end == len(text)
    assert all(text[: c.end].endswith(c.text[-3:]) for c in chunks)


@pytest.mark.parametrize(
    "raw", ["", "   \n\t  ", "🎉🔥👍🏽", "\x00\x01\x1b\x7f", "\u200b\u200d\ufe0f", "!!! ... —"]
)
def test_nothing_speakable_yields_nothing(raw: str) -> None:
    assert not has_speakable_content(raw)
    assert clean_for_speech(raw) == ""
    assert chunk_text(raw) == []
    assert list(iter_chunks(clean_for_speech(raw))) == []


@pytest.mark.parametrize("text", ["a", "7", "é", "日", "hi 👋", "  x  "])
def test_letters_and_digits_are_speakable(text: str) -> None:
    assert has_speakable_content(text)


def test_mixed_emoji_and_text_keeps_the_text() -> None:
    cleaned = clean_for_speech("I love pizza 🍕🎉! Best 👍🏽 day ❤️ ever.")
    assert cleaned == "I love pizza! Best day ever."
    assert [c.text for c in chunk_text(cleaned)] == ["I love pizza!", "Best day ever."]


def test_iter_chunks_is_lazy_and_checks_arguments_eagerly() -> None:
    assert isinstance(iter_chunks("One. Two."), Iterator)
    with pytest.raises(ValueError):
        iter_chunks("x", first_max_chars=0)
    with pytest.raises(ValueError):
        iter_chunks("x", growth=0.5)


# ------------------------------------------------------------------------------------------ speed


def _big_text(size: int) -> str:
    paragraphs = [
        "Dr. Smith met Mr. Jones at 5 p.m. in the U.S. capital. They discussed version 3.5, e.g. budgets.",
        "今日は晴れです。明日は雨です。週末はどうでしょうか？",
        "The quick brown fox jumps over the lazy dog and keeps running without stopping " * 6,
        "Short one. Another short one. A third; with a clause, and more words: here!",
    ]
    parts, total, index = [], 0, 0
    while total < size:
        parts.append(f"{paragraphs[index % len(paragraphs)]} Number {index}.")
        total += len(parts[-1]) + 2
        index += 1
    return "\n\n".join(parts)


def test_first_chunk_of_one_megabyte_comes_at_once() -> None:
    text = _big_text(1_000_000)
    started = time.perf_counter()
    chunks = iter_chunks(text)
    first = next(chunks)
    first_seconds = time.perf_counter() - started
    hundred = [first] + [next(chunks) for _ in range(99)]
    hundred_seconds = time.perf_counter() - started
    started = time.perf_counter()
    total = 100 + sum(1 for _ in chunks)
    rest_seconds = time.perf_counter() - started
    assert first == TextChunk("Dr. Smith met Mr. Jones at 5 p.m. in the U.S. capital.", 54, "sentence")
    assert first_seconds < 0.2 and hundred_seconds < 0.2
    assert hundred[-1].end < len(text) // 50  # the hundredth chunk sits near the start of the text
    assert total > 5_000 and hundred_seconds < rest_seconds  # the rest was not done up front


@pytest.mark.parametrize("text", ["word " * 200_000, "漢" * 1_000_000, "a" * 1_000_000])
def test_first_chunk_of_one_megabyte_without_punctuation_comes_at_once(text: str) -> None:
    started = time.perf_counter()
    first = next(iter_chunks(text))
    assert time.perf_counter() - started < 0.2
    assert 0 < len(first.text) <= 120


def test_cleaning_one_megabyte_is_linear_enough() -> None:
    text = _big_text(1_000_000).replace("Number", "**Number** [link](https://example.com/x)")
    started = time.perf_counter()
    cleaned = clean_for_speech(text)
    assert time.perf_counter() - started < 10
    assert cleaned.startswith("Dr. Smith met Mr. Jones at 5 p.m. in the U.S. capital.")
    assert "Number link 0." in cleaned and "**" not in cleaned and "https" not in cleaned


@pytest.mark.parametrize(
    "raw", ["[" * 300_000, "a@" * 300_000, "<b" * 300_000, "`a" * 300_000, "_a " * 300_000]
)
def test_cleaning_hostile_input_does_not_backtrack(raw: str) -> None:
    started = time.perf_counter()
    chunk_text(clean_for_speech(raw))
    assert time.perf_counter() - started < 10


# ------------------------------------------------------------------------------------------ cleaning


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\tb  c\r\nd\re\n\n\n\nf", "a b c d e\n\nf"),
        ("  \n padded \n  ", "padded"),
        ("he\u200bllo\x00 wo\u00adrld\x1b", "hello world"),
        ("Cafe\u0301 na\u00efve", "Café naïve"),
        ("日本語、テスト。Ｆｕｌｌ！", "日本語、テスト。Ｆｕｌｌ！"),
        ("\u201cHi\u201d \u2014 she said \u2018ok\u2019 \u2013 fine", "\"Hi\" — she said 'ok' — fine"),
        ("pages 10\u201320 and well -- done", "pages 10-20 and well — done"),
        ("Hi 👋🏽 there ❤️ 👨\u200d👩\u200d👧 ok 🇫🇷", "Hi there ok"),
        (
            "Intro.\n\n```python\nx = 1\n\n# not a heading\n```\nAfter.",
            "Intro.\n\nCode sample omitted.\n\nAfter.",
        ),
        ("Intro.\n~~~~\ncode\n~~~~\nAfter.", "Intro.\n\nCode sample omitted.\n\nAfter."),
        ("Intro.\n```\nnot closed, so read", "Intro. not closed, so read"),
        ("Call `snake_case_name` and `foo.bar()` now.", "Call snake case name and foo dot bar now."),
        ("Edit `src/app.py` to `3.5`.", "Edit src slash app dot py to 3.5."),
        ("# Title\nText here", "Title.\n\nText here"),
        ("## Why? ##\nBecause", "Why?\n\nBecause"),
        ("Setup\n=====\nBody", "Setup.\n\nBody"),
        ("#hashtag stays", "#hashtag stays"),
        ("**bold** and *it* and __u__ and ~~s~~ and snake_case", "bold and it and u and s and snake_case"),
        ("[docs](https://x.com/a) and ![logo](a.png) and ![](b.png) end", "docs and logo and end"),
        ("Buy:\n- eggs\n- Milk\n* tea\n1. bread\n2. iPhone", "Buy: Eggs. Milk. Tea. Bread. iPhone."),
        ("- [x] done\n- [ ] todo!", "Done. Todo!"),
        ("In the year\n2024. That was it.", "In the year 2024. That was it."),
        ("> quoted line\n> > more", "quoted line more"),
        ("| Name | Age |\n|---|:--:|\n| Ann | 30 |\n\nAfter", "Name, Age. Ann, 30.\n\nAfter"),
        ("<p>Hello <b>world</b></p><br>Bye <!-- hidden -->now", "Hello world Bye now"),
        ("Tom &amp; Jerry &#128512;", "Tom & Jerry"),
        ("One\n\n---\n\nTwo\n\n* * *\n\nThree", "One\n\nTwo\n\nThree"),
        ("see https://www.github.com/foo/bar?x=1", "see a link to github.com"),
        (
            "Visit http://example.org. Or www.python.org/doc, please.",
            "Visit a link to example.org. Or a link to python.org, please.",
        ),
        (
            "Mail john.doe@example.com or mailto:a_b@x.co.uk!",
            "Mail john dot doe at example dot com or a underscore b at x dot co dot uk!",
        ),
        ("Open report.pdf on example.com", "Open report.pdf on example.com"),
    ],
)
def test_clean_for_speech(raw: str, expected: str) -> None:
    assert clean_for_speech(raw) == expected


def test_list_items_become_sentences() -> None:
    assert split_sentences(clean_for_speech("Shopping:\n- eggs\n- milk\n- bread")) == [
        "Shopping: Eggs.",
        "Milk.",
        "Bread.",
    ]


def test_cjk_list_item_gets_cjk_full_stop() -> None:
    assert clean_for_speech("- 日本語\n- English") == "日本語。 English."


def test_clean_output_has_no_outer_whitespace_and_single_blank_lines() -> None:
    cleaned = clean_for_speech("\n\n  # A\n\n\n\nb  c\n\n\n- d\n\n")
    assert cleaned == "A.\n\nb c\n\nD."
    assert "\n\n\n" not in cleaned and cleaned == cleaned.strip()


# ------------------------------------------------------------------------------------------ properties

_WORDS = [
    "alpha",
    "Beta",
    "gamma",
    "Dr.",
    "e.g.",
    "U.S.",
    "3.5",
    "v1.2.3",
    "report.pdf",
    "etc.",
    "J.",
    "p.m.",
]
_WORDS += ["Hello", "world", "x", "42", "café", "naïve", "Ünïcode", "über", "seventeen", "(aside)", '"quote"']
_SUFFIXES = ["", "", "", "", ",", ".", "!", "?", ";", ":", "...", '."', ".)", "…"]
_SEPARATORS = [" "] * 14 + ["\n", "\n\n", " — ", "  ", " !!! "]


def _random_text(rng: random.Random, words: list[str]) -> str:
    parts = []
    for _ in range(rng.randint(0, 150)):
        parts += [rng.choice(words) + rng.choice(_SUFFIXES), rng.choice(_SEPARATORS)]
    return "".join(parts)


def _check_chunks(cleaned: str, chunks: list[TextChunk], first: int, maximum: int, growth: float) -> None:
    for chunk, limit in zip(chunks, _limits(first, maximum, growth, len(chunks)), strict=True):
        assert chunk.text == chunk.text.strip() and has_speakable_content(chunk.text)
        assert len(chunk.text) <= limit <= maximum
    assert [c.end for c in chunks] == sorted({c.end for c in chunks})
    assert [c.boundary == "end" for c in chunks] == [False] * (len(chunks) - 1) + [True] * bool(chunks)
    assert not chunks or chunks[-1].end == len(cleaned)


@pytest.mark.parametrize("seed", range(8))
def test_property_words_are_preserved_in_order(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        first, maximum, growth = rng.choice([20, 40, 120]), rng.choice([60, 300]), rng.choice([1.0, 1.5, 2.0])
        cleaned = clean_for_speech(_random_text(rng, _WORDS))
        chunks = chunk_text(cleaned, first_max_chars=first, max_chars=maximum, growth=growth)
        _check_chunks(cleaned, chunks, first, maximum, growth)
        assert _speakable_words(" ".join(c.text for c in chunks)) == _speakable_words(cleaned)


@pytest.mark.parametrize("seed", range(4))
def test_property_letters_are_preserved_with_cjk_and_long_tokens(seed: int) -> None:
    rng = random.Random(100 + seed)
    words = _WORDS + [
        "今日は晴れです",
        "明日、雨",
        "漢字" * 40,
        "x" * 70,
        "https://example.com/a/b",
        "a_b@c.org",
    ]
    for _ in range(40):
        first, maximum, growth = rng.choice([10, 30, 120]), rng.choice([50, 300]), rng.choice([1.0, 1.5])
        cleaned = clean_for_speech(_random_text(rng, words))
        chunks = chunk_text(cleaned, first_max_chars=first, max_chars=maximum, growth=growth)
        _check_chunks(cleaned, chunks, first, maximum, growth)
        assert [ch for c in chunks for ch in c.text if ch.isalnum()] == [ch for ch in cleaned if ch.isalnum()]


def test_degree_signs_are_read_as_words():
    assert clean_for_speech("It was 20°C, or 68 °F, and 5℃ at night.") == (
        "It was 20 degrees C, or 68 degrees F, and 5 degrees Celsius at night."
    )
