"""Tests for app.core.agent_text: an agent's Markdown reply read as speech, block by block."""

from __future__ import annotations

import pytest

from app.core.agent_text import (
    code_mention,
    speak_text,
    speakable_agent_text,
)
from app.core.text import split_sentences

# ------------------------------------------------------------------------------------------ code blocks


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("Run:\n```python\nprint('hi')\n```\nDone.", "Run:\n\nHere is a Python code sample.\n\nDone."),
        ("```\nplain\n```", "Here is a code sample."),
        ("~~~ts title=app.ts\nlet x = 1\n~~~", "Here is a TypeScript code sample."),
        ("```bash\nmake test\nmake lint\n```", "Here is a shell command."),
        ("```json\n{}\n```\n```diff\n-a\n+b\n```", "Here is some JSON.\n\nHere is a diff."),
        ("````md\n```py\nnested\n```\n````\nAfter.", "Here is some Markdown.\n\nAfter."),
        ("> ```py\n> x\n> ```\n> Quoted.", "Here is a Python code sample.\n\nQuoted."),
        # Cut off at the end of a complete message: still code, never read out.
        ("Cut off:\n```rust\nfn main() {\n    let x = 1;", "Cut off:\n\nHere is a Rust code sample."),
        ("Inline ```not a fence``` here.", "Inline not a fence here."),
    ],
)
def test_code_blocks_are_mentioned(markdown: str, expected: str) -> None:
    assert speakable_agent_text(markdown) == expected


def test_silent_code_says_nothing_for_code() -> None:
    markdown = "Run this:\n```python\nprint('hi')\n```\nDone.\n```sh\ncut off"
    assert speakable_agent_text(markdown, code="silent") == "Run this:\n\nDone."
    assert speakable_agent_text("```py\nx\n```", code="silent") == ""


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ("python", "Here is a Python code sample."),
        ("py title=app.py", "Here is a Python code sample."),
        ("{.javascript .numberLines}", "Here is a JavaScript code sample."),
        ("language-ts", "Here is a TypeScript code sample."),
        ("app/main.py", "Here is a Python code sample."),
        ("console", "Here is a shell command."),
        ("zsh", "Here is a shell command."),
        ("yml", "Here is some YAML."),
        ("toml", "Here is some TOML."),
        ("patch", "Here is a diff."),
        ("c++", "Here is a C plus plus code sample."),
        ("c", "Here is a C code sample."),
        ("rs", "Here is a Rust code sample."),
        ("go", "Here is a Go code sample."),
        ("rb", "Here is a Ruby code sample."),
        ("swift", "Here is a Swift code sample."),
        ("sql", "Here is some SQL."),
        ("html", "Here is some HTML."),
        ("css", "Here is some CSS."),
        ("elixir", "Here is an Elixir code sample."),
        ("r", "Here is an R code sample."),
        ("zig", "Here is a Zig code sample."),
        ("", "Here is a code sample."),
        ("???", "Here is a code sample."),
    ],
)
def test_code_mention_names_the_language(info: str, expected: str) -> None:
    assert code_mention(info) == expected


def test_unknown_code_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mention"):
        speakable_agent_text("x", code="loud")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ paths


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (
            "I changed app/core/text.py, /usr/local/bin/python3, ~/.config/timbre/settings.json, ./build.sh.",
            "I changed text dot PY, python3, settings dot JSON, build dot SH.",
        ),
        (
            "See README.md, config.json, package.yaml.",
            "See README dot MD, config dot JSON, package dot YAML.",
        ),
        ("The error is at text.py:42.", "The error is at text dot PY, line 42."),
        ("See `app/core/text.py:42:7` now.", "See text dot PY, line 42, column 7 now."),
        ("Files live in src/ and ../build_output/.", "Files live in src and build output."),
        ("Open my_test-file.tar.gz and .env now.", "Open my test file dot tar dot GZ and dot env now."),
        ("Not paths: and/or, TCP/IP, 1/2, input/output.", "Not paths: and/or, TCP/IP, 1/2, input/output."),
        ("Dr. Smith e.g. said 3.5 at example.com.", "Dr. Smith e.g. said 3.5 at example.com."),
        ("See https://github.com/org/repo/blob/main/app.py for it.", "See a link to github.com for it."),
        ("Read [the guide](docs/guide.md) first.", "Read the guide first."),
        ("Docs/guide.md is new.", "Guide dot MD is new."),
    ],
)
def test_paths_are_read_as_their_final_name(markdown: str, expected: str) -> None:
    assert speakable_agent_text(markdown) == expected


# ------------------------------------------------------------------------------------------ inline code


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("`getUserName`", "get user name"),
        ("`HTTPServer`", "HTTP server"),
        ("`XMLHttpRequest`", "XML http request"),
        ("`snake_case`", "snake case"),
        ("`foo()`", "foo"),
        ("`obj.method()`", "obj dot method"),
        ("`self.get_user().name`", "self dot get user dot name"),
        ("`response.json()` is not `config.json`", "response dot json is not config dot JSON"),
        ("`git commit -m fix`", "git commit -m fix"),
        ("`https://example.com/a`", "a link to example.com"),
        ("Call ``getName()`` now.", "Call get name now."),
    ],
)
def test_inline_code_is_read_as_words(markdown: str, expected: str) -> None:
    assert speakable_agent_text(markdown) == expected


# ------------------------------------------------------------------------------------------ blocks


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (
            "Steps:\n- install it\n- run `make test`\n  and wait\n1. first\n2. second",
            "Steps:\n\nInstall it.\n\nRun make test and wait.\n\nFirst.\n\nSecond.",
        ),
        ("- [x] Done\n- [ ] Write docs", "Done.\n\nWrite docs."),
        ("- x86 support\n- arm64 support", "x86 support.\n\narm64 support."),
        ("Wait for\n3. days", "Wait for 3. days"),
        ("# Summary\nAll good.\n\n## Next steps ##\nMore.", "Summary.\n\nAll good.\n\nNext steps.\n\nMore."),
        ("Title\n=====\nBody text.", "Title.\n\nBody text."),
        ("| File | Lines |\n|---|---|\n| `a.py` | 10 |\n| b | |", "File, Lines.\n\nA dot PY, 10.\n\nB."),
        ("Name | Value\n--- | ---\nA | 1", "Name, Value.\n\nA, 1."),
        ("Use a | b here.", "Use a | b here."),
        ("> Note: be careful.\n> Really.\n\nAfter.", "Note: be careful. Really.\n\nAfter."),
        ("> Quoted\nnot quoted", "Quoted\n\nnot quoted"),
        ("Read **[the guide](x)** _now_ <b>please</b>.", "Read the guide now please."),
        ("Visible <!-- hidden\n- not an item -->text.", "Visible text."),
        ("Text.[^1]\n\n[^1]: A note, like a reference definition, is not read.", "Text."),
        (
            "Mail jo.doe@example.com or <https://a.com/x>.",
            "Mail jo dot doe at example dot com or a link to a.com.",
        ),
        ("Fixed 😀 the bug — finally!", "Fixed the bug — finally!"),
        ("Line one\r\nline two\r\n\r\nNext.", "Line one line two\n\nNext."),
        ("\ufeff# Title", "Title."),
        ("", ""),
    ],
)
def test_blocks_become_paragraphs(markdown: str, expected: str) -> None:
    assert speakable_agent_text(markdown) == expected


def test_list_items_and_rows_are_always_sentences_of_their_own() -> None:
    # clean_for_speech joins them into one paragraph, where "x86" starting lowercase would merge them.
    assert split_sentences(speakable_agent_text("Use:\n- x86 builds\n- arm64 builds")) == [
        "Use:",
        "x86 builds.",
        "arm64 builds.",
    ]


def test_speak_text_reads_one_line_of_inline_markdown_even_if_it_looks_like_a_block() -> None:
    assert speak_text("# not a heading") == "# not a heading"
    assert speak_text("3. not a list") == "3. not a list"
    assert speak_text("**Bold** and `camelCase`.") == "Bold and camel case."
    assert speak_text("   ") == ""
