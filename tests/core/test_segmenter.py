"""Tests for app.core.segmenter: sentences handed out while an agent's reply streams in, in any pieces."""

from __future__ import annotations

import random
import time

import pytest

from app.core.agent_text import speakable_agent_text
from app.core.segmenter import SpeechSegmenter
from app.core.text import split_sentences

REPLIES = [
    """I looked at `app/core/text.py` and found the bug. Dr. Smith's rule, e.g. this one, keeps 3.5 and
file.py whole. The fix is in tests/core/test_text.py:42 too.

## What changed

- **Fix:** The splitter now keeps `getUserName` whole. It was cut before.
- Added a test for `HTTPServer.handle()`.
- x86 builds work again.
- See https://github.com/org/repo/pull/12. It has the details.

```python
def speak(text: str) -> None:
    print(text)  # Dr. Who. Ends here.
```

Run it with:

```bash
make test
```

| File | Lines |
|------|-------|
| `a.py` | 10 |
| b.py | 20 |

> Note: this is a quote. It has two sentences.

1. First step. Then more.
2. Second step
3. Third step.

That's all. Let me know if you want more! Thanks.""",
    """Here's the plan:

1. Read `~/.config/timbre/settings.json` (or `./settings.local.json`).
2. Update the `loadSettings()` helper in app/settings.py.
   It should fall back to defaults. See the [docs](https://docs.example.com/settings#defaults).
3. Add a test.

Note that and/or, TCP/IP and 1/2 are not paths. Neither is input/output.
The build takes approx. 3 min. on CI (v1.2.3). Mr. Lee approved it at 5 p.m. Friday.
""",
    """Title
=====

Some intro text with a [link](http://example.com/a.b) and an image ![alt text](img.png).
It continues on a second line! Does it? Yes.

* one
* two
  continued here. **Bold.** Done
- [x] checked task. Really.
- [ ] open task

Name | Value
--- | ---
alpha | 1
beta | 2

~~~diff
- old line.
+ new line.
~~~
<!-- a hidden comment. With sentences. -->
Final words: "Quoted." (Parenthesised.) Over…
""",
    "Short answer: yes.",
    "Look at this:\n```js\nconsole.log('cut off mid-block. Still code.');\n",
    "Ends without punctuation",
    "> A quote starts.\n> It goes on.\nNot quoted any more. `code` then. Ok.\n\n# Heading #\n---\nDone.",
    "Line one.\r\nLine two.\r\n\r\n- item\r\n- item two\r\n",
]


def _pieces(text: str, rng: random.Random, longest: int = 12) -> list[str]:
    pieces, position = [], 0
    while position < len(text):
        size = rng.randint(1, longest)
        pieces.append(text[position : position + size])
        position += size
    return pieces


def _stream(pieces: list[str], code: str = "mention") -> list[str]:
    segmenter = SpeechSegmenter(code)  # type: ignore[arg-type]
    out = []
    for piece in pieces:
        out += segmenter.feed(piece)
    return out + segmenter.flush()


def _splits(text: str, seeds: range) -> list[list[str]]:
    return [[text], list(text)] + [_pieces(text, random.Random(seed)) for seed in seeds]


# ------------------------------------------------------------------------------------------ the key property


@pytest.mark.parametrize("reply", REPLIES)
def test_any_split_gives_the_sentences_of_the_whole_reply(reply: str) -> None:
    expected = split_sentences(speakable_agent_text(reply))
    assert expected  # the reply has something to say
    for pieces in _splits(reply, range(25)):
        assert _stream(pieces) == expected


def test_any_split_gives_the_same_sentences_with_silent_code() -> None:
    reply = REPLIES[0]
    expected = split_sentences(speakable_agent_text(reply, code="silent"))
    assert not any("code sample" in sentence or "shell" in sentence for sentence in expected)
    for pieces in _splits(reply, range(10)):
        assert _stream(pieces, code="silent") == expected


def test_the_first_reply_reads_as_expected() -> None:
    assert _stream([REPLIES[0]])[:12] == [
        "I looked at text dot PY and found the bug.",
        "Dr. Smith's rule, e.g. this one, keeps 3.5 and file dot PY whole.",
        "The fix is in test text dot PY, line 42 too.",
        "What changed.",
        "Fix: The splitter now keeps get user name whole.",
        "It was cut before.",
        "Added a test for HTTP server dot handle.",
        "x86 builds work again.",
        "See a link to github.com.",
        "It has the details.",
        "Here is a Python code sample.",
        "Run it with:",
    ]


_WORDS = (
    "Hello world. Dr. Smith e.g. this 3.5 3. file.py `getUserName` `a b` ``x`y`` ` [link](http://x.com/a. b) "
    "[ ] ( ) <b> </b> < > a<b **bold.** *x* _y_ https://github.com/a/b. www.Example.com Www.x.com "
    'app/core/text.py:42 Docs/guide.md /usr/bin/x ~/.env and/or ! ? ... … ‼ "Quoted." (Paren.) I It it The '
    "x86 mailto:J@x.com john.doe@example.com &amp; 😀 — -- | a|b [^1] <!-- --> U.S. p.m. No. 5 Here What J. "
    "Tolkien. done. Done! 今日は晴れです。 Ph.D. etc. vs. \u00a0 `foo.` **Note:** 1) #"
).split(" ")
_STARTS = ["", "", "", "- ", "* ", "1. ", "2. ", "# ", "> ", "> - ", "| ", "  ", "[x]: http://a.b ", "- [ ] "]
_WHOLE_LINES = ["```", "```python", "~~~", "````", "---", "===", "* * *", "|---|---|", "--- | ---", "A | B"]


def _random_reply(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(1, 10)):
        if rng.random() < 0.25:
            lines.append(rng.choice(_WHOLE_LINES))
        else:
            line = rng.choice(_STARTS) + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 9)))
            lines.append(line + (" |" if rng.random() < 0.15 else ""))
    return rng.choice(["\n", "\n", "\r\n", "\n\n"]).join(lines) + rng.choice(["", "\n", " "])


def test_random_markdown_in_random_pieces_gives_the_sentences_of_the_whole() -> None:
    for seed in range(150):
        rng = random.Random(seed)
        reply = _random_reply(rng)
        expected = split_sentences(speakable_agent_text(reply))
        for pieces in [[reply], list(reply), _pieces(reply, rng), _pieces(reply, rng, 3)]:
            assert _stream(pieces) == expected, (seed, reply, pieces)


# ------------------------------------------------------------------------------------------ latency


def test_a_sentence_comes_out_as_soon_as_the_next_one_starts() -> None:
    segmenter = SpeechSegmenter()
    assert segmenter.feed("Hello world.") == []
    assert segmenter.feed(" Next") == ["Hello world."]
    assert segmenter.feed(" one is here. And") == ["Next one is here."]
    assert segmenter.flush() == ["And"]


def test_a_sentence_that_goes_on_is_not_cut() -> None:
    segmenter = SpeechSegmenter()
    assert segmenter.feed("Ask Dr. Smith, e.g. him, about v3.5 in file.py. etc. and") == []
    expected = ["Ask Dr. Smith, e.g. him, about v3.5 in file dot PY. etc. and more."]
    assert segmenter.feed(" more. Then") == expected


def test_line_blocks_come_out_when_their_line_ends() -> None:
    segmenter = SpeechSegmenter()
    assert segmenter.feed("# Results") == []
    assert segmenter.feed("\n") == ["Results."]
    assert segmenter.feed("| a | b |") == []
    assert segmenter.feed("\n") == ["A, b."]
    assert segmenter.feed("```python") == []
    assert segmenter.feed("\nprint(1)\n") == ["Here is a Python code sample."]
    assert segmenter.feed("```\nLast one.\n") == []
    assert segmenter.feed("\n") == ["Last one."]


def test_a_list_item_comes_out_when_the_next_item_starts() -> None:
    segmenter = SpeechSegmenter()
    assert segmenter.feed("- one\n") == []
    assert segmenter.feed("- t") == ["One."]
    assert segmenter.feed("wo\n  still two.\n1") == []
    assert segmenter.feed(". three") == ["Two still two."]
    assert segmenter.flush() == ["Three."]


def test_a_line_that_may_become_a_fence_or_marker_is_held() -> None:
    segmenter = SpeechSegmenter()
    assert segmenter.feed("Intro.\n``") == []
    assert segmenter.idle() == []
    assert segmenter.feed("`py\n") == ["Intro.", "Here is a Python code sample."]


def test_nothing_is_cut_inside_open_inline_code_or_links() -> None:
    segmenter = SpeechSegmenter()
    assert segmenter.feed("Run `make. Then") == []
    assert segmenter.feed(" go` now. See [the docs. More") == ["Run make.", "Then go now."]
    assert segmenter.feed(" here](x) too. Yes") == ["See the docs.", "More here too."]


# ------------------------------------------------------------------------------------------ idle and flush


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello world.", ["Hello world."]),
        ('He said "Stop."', ['He said "Stop."']),
        ("**Done.**", ["Done."]),
        ("- it works!", ["It works!"]),
        ("Ask Dr.", []),
        ("Use e.g.", []),
        ("Step 3.", []),
        ("Thinking", []),
        ("```py\nx = 1.", []),
        ("Run `make.", []),
        ("See [docs.", []),
        ("Done.\n``", []),
        ("1.", []),
    ],
)
def test_idle_hands_out_a_finished_looking_tail_only(text: str, expected: list[str]) -> None:
    segmenter = SpeechSegmenter()
    segmenter.feed(text)
    assert segmenter.idle() == expected


def test_after_idle_the_text_goes_on_in_the_same_block() -> None:
    segmenter = SpeechSegmenter()
    assert segmenter.feed("- Fixed it.") == []
    assert segmenter.idle() == ["Fixed it."]
    assert segmenter.idle() == []
    assert segmenter.feed(" Tests pass") == []
    assert segmenter.flush() == ["Tests pass."]


def test_flush_reads_an_unclosed_fence_as_code_and_starts_afresh() -> None:
    segmenter = SpeechSegmenter()
    mention = "Here is a JavaScript code sample."
    assert segmenter.feed("Look:\n```js\nconsole.log('Hi. There.')") == ["Look:", mention]
    assert segmenter.flush() == []
    assert segmenter.feed("New reply.") == []
    assert segmenter.flush() == ["New reply."]


def test_pending_is_the_raw_text_not_yet_handed_out() -> None:
    segmenter = SpeechSegmenter()
    segmenter.feed("Hello world.")
    assert segmenter.pending == "Hello world."
    segmenter.feed(" Next")
    assert segmenter.pending == " Next"
    segmenter.feed(" one.\r\n\r\n- ite")
    assert segmenter.pending == "- ite"
    segmenter.feed("m\n```py\nprint(1)\npri")
    assert segmenter.pending == "pri"  # the code lines already read are done with
    segmenter.reset()
    assert segmenter.pending == ""
    assert segmenter.flush() == []


@pytest.mark.parametrize("reply", REPLIES)
def test_pending_is_always_a_suffix_of_what_was_fed(reply: str) -> None:
    for pieces in _splits(reply, range(5)):
        segmenter, fed = SpeechSegmenter(), ""
        for piece in pieces:
            fed += piece
            segmenter.feed(piece)
            assert fed.endswith(segmenter.pending)
            assert segmenter.pending_chars == len(segmenter.pending)
        segmenter.flush()
        assert segmenter.pending == ""


def test_comments_and_line_breaks_split_anywhere() -> None:
    reply = "One.\r\nTwo <!-- hidden. Text. -->words.\r\n\r\nThree."
    expected = ["One.", "Two words.", "Three."]
    assert split_sentences(speakable_agent_text(reply)) == expected
    for pieces in _splits(reply, range(20)):
        assert _stream(pieces) == expected


def test_unknown_code_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mention"):
        SpeechSegmenter("loud")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ speed


def test_a_long_reply_fed_in_small_pieces_takes_linear_time() -> None:
    block = REPLIES[0] + "\n\n" + REPLIES[1] + "\n\n"
    reply = (block * (102_400 // len(block) + 1))[:102_400]
    segmenter = SpeechSegmenter()
    start = time.perf_counter()
    out = []
    for position in range(0, len(reply), 4):
        out += segmenter.feed(reply[position : position + 4])
    out += segmenter.flush()
    elapsed = time.perf_counter() - start
    assert out == split_sentences(speakable_agent_text(reply))
    assert elapsed < 4.0, f"{elapsed:.2f} s for 100 KB"  # about 1 s on one slow core
