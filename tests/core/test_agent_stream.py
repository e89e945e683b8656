"""Reading agents' stream-json for what to speak: recorded streams of Claude Code, Gemini CLI and Codex."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.agent_stream import AgentStreamParser, BlockEnd, MessageStart, TextPiece, TurnEnd

STREAMS = Path(__file__).resolve().parents[1] / "data" / "agent_streams"
TEXT1 = (
    "I'll look at the parser first. The bug is probably in `parse_line()`, where the last line gets dropped."
)
TEXT2_START = "Found it! The loop in **text.py** skips the last line:\n\n```python\n"
TEXT2_END = "See https://github.com/example/timbre/pull/7 for the details. Is there anything else?"


def parse(name: str, **kwargs: bool) -> tuple[list, AgentStreamParser]:
    parser = AgentStreamParser(**kwargs)
    events = []
    for line in (STREAMS / name).read_bytes().splitlines():
        events += parser.feed(line)
    return events, parser


def spoken(events: list) -> dict[str, str]:
    """Each message's text, joined from its pieces in order."""
    texts: dict[str, str] = {}
    for event in events:
        if isinstance(event, TextPiece):
            texts[event.message] = texts.get(event.message, "") + event.text
    return texts


def test_claude_partial_messages_are_spoken_once_from_their_deltas() -> None:
    events, parser = parse("claude_partial.jsonl")
    texts = spoken(events)
    assert list(texts) == ["msg_01QbYvCq8mJ3xT5uZ2kLp9Ae", "msg_01Hx3nVw7RtL2cK9pQ4sMe8B"]
    first, second = texts.values()
    assert first == TEXT1
    assert second.startswith(TEXT2_START) and second.endswith(TEXT2_END)
    # The deltas really were pieces (the recording splits mid-word and inside the code fence).
    pieces = [e for e in events if isinstance(e, TextPiece)]
    assert len(pieces) > 40 and any(p.text.endswith("``") for p in pieces)
    # The whole copies that follow the deltas, and the result's copy of the final text, are not spoken.
    assert parser.skipped["already streamed"] == 3
    assert sum(isinstance(e, TurnEnd) for e in events) == 1


def test_thinking_tool_calls_tool_results_and_subagents_are_never_spoken() -> None:
    events, parser = parse("claude_partial.jsonl")
    everything = " ".join(spoken(events).values())
    assert "Let me check the loop" not in everything  # thinking
    assert "file_path" not in everything and "/home/ada" not in everything  # tool call input
    assert "def parse_lines" not in everything  # tool result
    assert "sub-agent searched" not in everything
    assert parser.skipped["thinking_delta"] > 0 and parser.skipped["input_json_delta"] > 0
    assert parser.skipped["sub-agent"] > 0 and parser.skipped["user"] == 1


def test_subagents_are_spoken_when_asked() -> None:
    events, _ = parse("claude_partial.jsonl", include_subagents=True)
    assert "The sub-agent searched 14 files and found no other callers." in spoken(events).values()


def test_malformed_and_unknown_lines_are_passed_over_without_stopping() -> None:
    events, parser = parse("claude_partial.jsonl")
    assert parser.skipped["not JSON"] == 2  # a line cut off mid-object, and a hook's plain-text line
    assert parser.skipped["unknown type 'rate_limit_event'"] == 1
    # Text after the bad lines still came through.
    assert spoken(events)["msg_01Hx3nVw7RtL2cK9pQ4sMe8B"].endswith(TEXT2_END)


def test_events_come_in_speaking_order() -> None:
    events, _ = parse("claude_partial.jsonl")
    kinds = [type(e) for e in events]
    # Each message starts before its first piece, and its text block ends before the next message starts.
    assert kinds[0] is MessageStart
    second_start = [i for i, e in enumerate(events) if isinstance(e, MessageStart)][1]
    assert BlockEnd in kinds[:second_start]
    before = [e for e in events[:second_start] if hasattr(e, "message")]
    assert all(e.message == "msg_01QbYvCq8mJ3xT5uZ2kLp9Ae" for e in before)
    assert kinds[-1] is TurnEnd


def test_whole_messages_without_partials() -> None:
    events, parser = parse("claude_whole.jsonl")
    assert [type(e).__name__ for e in events] == [
        "MessageStart",
        "TextPiece",
        "BlockEnd",
        "MessageStart",
        "TextPiece",
        "BlockEnd",
        "TurnEnd",
    ]
    first, second = spoken(events).values()
    assert first == TEXT1 and second.endswith(TEXT2_END)
    assert parser.skipped["thinking"] == 1 and parser.skipped["tool_use"] == 1
    assert parser.skipped["sub-agent"] == 1


def test_gemini_and_codex_dialects() -> None:
    events, _ = parse("gemini.jsonl")
    assert list(spoken(events).values()) == [TEXT1, "Found it! The loop skips the last line."]
    # The tool call closes the first message's text, so it can be spoken before the tool runs.
    first_end = next(i for i, e in enumerate(events) if isinstance(e, BlockEnd))
    assert first_end < next(i for i, e in enumerate(events) if isinstance(e, MessageStart) and i > 0)
    events, parser = parse("codex.jsonl")
    assert list(spoken(events).values()) == [TEXT1]
    assert parser.skipped["reasoning"] == 1 and parser.skipped["command_execution"] == 1


def test_result_is_spoken_only_when_the_turn_said_nothing_else() -> None:
    parser = AgentStreamParser()
    result = {"type": "result", "subtype": "success", "is_error": False, "result": "All done."}
    events = parser.feed(json.dumps(result))
    assert [type(e) for e in events] == [MessageStart, TextPiece, BlockEnd, TurnEnd]
    assert events[1].text == "All done."
    assert parser.feed(json.dumps({**result, "is_error": True, "result": "Boom"})) == [TurnEnd()]


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"   ",
        b"\xff\xfe not utf-8 \x80",
        b"[1, 2, 3]",
        b'"just a string"',
        b"null",
        b'{"no_type": true}',
        b'{"type": "assistant", "message": "not an object"}',
        b'{"type": "assistant", "message": {"content": [{"type": "text", "text": 42}]}}',
        b'{"type": "stream_event", "event": [1]}',
        b'{"type": "stream_event", "event": {"type": "content_block_delta", "index": "x", "delta": {}}}',
    ],
)
def test_odd_lines_give_no_events_and_no_error(line: bytes) -> None:
    parser = AgentStreamParser()
    assert parser.feed(line) == []
    # The parser still works after it.
    events = parser.feed(json.dumps({"type": "assistant", "message": {"id": "m", "content": "Still here."}}))
    assert spoken(events) == {"m": "Still here."}


def test_a_huge_tool_result_line_is_skipped_quickly() -> None:
    parser = AgentStreamParser()
    big = {"type": "user", "message": {"content": [{"type": "tool_result", "content": "x" * 5_000_000}]}}
    assert parser.feed(json.dumps(big)) == []
    assert parser.skipped["user"] == 1
