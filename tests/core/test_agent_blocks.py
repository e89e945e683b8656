"""Tests for app.core.agent_blocks: the line-by-line block reader behind the streaming segmenter."""

from __future__ import annotations

import copy

import pytest

from app.core.agent_blocks import CUT_MARK, BlockReader

_STATES = ["", "Some text", "- an item", "| a | b |", "> quoted", "Text\n[x]: https://a.b", "Name | x"]
_LINES = [
    "Plain text. More",
    "lowercase start",
    "- item. Two",
    "- - -",
    "* * *",
    "-x not an item",
    "1. one. Two",
    "3. three",
    "12) twelve",
    "1234. no",
    "# Heading",
    "#hashtag",
    "####### seven",
    "```py",
    "```inline``` text",
    "~~~",
    "~~strike~~ text",
    "`code` first",
    "| row |",
    "a | b",
    "a | b. Cut",
    "---|---",
    "---",
    "===",
    "- [x] done. Yes",
    "- [ ]",
    "[x]: https://a.b",
    "[link](x) text",
    "> quoted. More",
    ">",
    "   ",
    "> - quoted item",
    "• bullet",
]


@pytest.mark.parametrize("state", _STATES)
def test_peek_never_contradicts_the_complete_line(state: str) -> None:
    """Whatever peek says about the start of a line, reading the whole line agrees."""
    reader = BlockReader()
    for line in state.split("\n"):
        reader.push(line)
    for line in _LINES:
        whole = copy.deepcopy(reader)
        events = whole.push(line)
        held = whole.held is not None  # a possible table header: nothing may be decided before the next line
        for size in range(1, len(line) + 1):
            prefix = line[:size]
            peek = copy.deepcopy(reader).peek(prefix, CUT_MARK.search(prefix) is not None)
            context = (state, line, prefix, peek)
            ended = reader.block is not None and events[:1] in ([("end", "")], [("end", "setext")])
            if peek.ends == "plain":
                assert events[:1] == [("end", "")], context
            elif peek.ends == "setext":
                assert events[:1] == [("end", "setext")], context
            elif peek.ends == "no":
                assert not ended, context
            if held:
                assert peek.opens is None, context
            elif peek.opens is not None:
                content = line[peek.start :].strip()
                kind = "item" if peek.opens == "item" else "text"
                expected = [("add", content)] if peek.opens == "add" else [("open", kind), ("add", content)]
                assert (events[1:] if ended else events) == expected, context


def test_a_line_that_may_head_a_table_waits_for_the_next_one() -> None:
    reader = BlockReader()
    assert reader.push("Name | Value") == []
    assert reader.held == "Name | Value"
    assert reader.push("--- | ---") == [("say", "row", "Name | Value")]
    reader = BlockReader()
    reader.push("Name | Value")
    assert reader.push("Plain.") == [("open", "text"), ("add", "Name | Value"), ("add", "Plain.")]
