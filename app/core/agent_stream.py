"""An AI agent's newline-delimited JSON event stream read for what should be spoken: the assistant's text.

Agent command lines report their work as one JSON object per line. The main dialect is the stream-json
of Claude Code (``--output-format stream-json``): ``system``, ``assistant``, ``user`` and ``result``
events whose messages hold content blocks (``text``, ``tool_use``, ``tool_result``, ``thinking``), and,
with ``--include-partial-messages``, ``stream_event`` lines wrapping the model's own deltas. The same
message then arrives twice, first in pieces and then whole, so text already heard in pieces is not
spoken again. Gemini CLI's ``message`` events and Codex's ``item.completed`` agent messages are read too.

Only assistant text is spoken. Tool calls, tool results, thinking, sub-agents' messages (unless asked
for), lines that are not JSON and event types nobody knows are passed over and counted, never fatal.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageStart:
    """The assistant began a new message (a point where narration may interrupt what it is saying)."""

    message: str


@dataclass(frozen=True)
class TextPiece:
    """Assistant text to speak: a streamed delta or a whole text block, in order."""

    message: str
    text: str


@dataclass(frozen=True)
class BlockEnd:
    """A text block of ``message`` is complete: whatever is pending can be spoken now."""

    message: str


@dataclass(frozen=True)
class TurnEnd:
    """The agent finished its turn (a ``result`` event)."""


AgentEvent = MessageStart | TextPiece | BlockEnd | TurnEnd

# Anthropic's streaming event types, met wrapped in ``stream_event`` or (other tools) bare on a line.
_STREAM_EVENTS = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    }
)
_SILENT_TYPES = frozenset(
    {
        "system",
        "user",
        "init",
        "tool_use",
        "tool_result",
        "thread.started",
        "turn.started",
        "turn.completed",
        "turn.failed",
        "item.started",
        "item.updated",
        "error",
    }
)
_SPOKEN_BLOCKS = frozenset({"text"})


class AgentStreamParser:
    """Feed it the lines of an agent's stream one at a time; it returns what to speak, as events.

    ``include_subagents`` also speaks messages of sub-agents (Claude Code's Task tool, whose events carry
    a ``parent_tool_use_id``); by default only the main agent is heard. ``skipped`` counts what was
    passed over, by reason, for a summary and for tests.
    """

    def __init__(self, include_subagents: bool = False) -> None:
        self.include_subagents = include_subagents
        self.skipped: Counter[str] = Counter()
        self.lines = 0
        self._started: set[str] = set()
        self._streamed: set[str] = set()  # messages whose text arrived as deltas: their whole copy is skipped
        self._blocks: dict[tuple[str, int], str] = {}  # (message, block index) -> block type, while streaming
        self._current = ""  # the message that stream deltas belong to
        self._turn_spoke = False
        self._anonymous = 0  # for dialects whose messages carry no id

    # --- the one entry point --------------------------------------------------------------------------
    def feed(self, line: str | bytes) -> list[AgentEvent]:
        """The events in one line of the stream (often none)."""
        if isinstance(line, bytes):
            line = line.decode("utf-8", errors="replace")
        line = line.strip()
        if not line:
            return []
        self.lines += 1
        try:
            event = json.loads(line)
        except ValueError:
            return self._skip("not JSON")
        if not isinstance(event, dict):
            return self._skip("not an object")
        kind = event.get("type")
        try:
            if kind == "stream_event":
                inner = event.get("event")
                if not isinstance(inner, dict):
                    return self._skip("malformed stream_event")
                if not self._wanted(event):
                    return self._skip("sub-agent")
                return self._stream_event(inner)
            if kind in _STREAM_EVENTS:
                return self._stream_event(event)
            if kind == "assistant":
                return self._assistant(event)
            if kind == "result":
                return self._result(event)
            if kind == "message":  # Gemini CLI
                return self._gemini_message(event)
            if kind == "item.completed":  # Codex
                return self._codex_item(event)
            if kind in _SILENT_TYPES:
                out = self._end_current_block() if kind in ("tool_use", "user") else []
                if kind == "tool_use":  # Gemini: the text after a tool call is a new message
                    self._current = ""
                self.skipped[str(kind)] += 1
                return out
        except (AttributeError, TypeError, KeyError, ValueError):
            logger.debug("Malformed %s event: %.200s", kind, line, exc_info=True)
            return self._skip(f"malformed {kind}")
        return self._skip(f"unknown type {kind!r}" if isinstance(kind, str) else "no type")

    # --- Claude Code ----------------------------------------------------------------------------------
    def _wanted(self, event: dict[str, Any]) -> bool:
        return self.include_subagents or not event.get("parent_tool_use_id")

    def _start(self, message: str) -> list[AgentEvent]:
        if message in self._started:
            return []
        self._started.add(message)
        return [MessageStart(message)]

    def _stream_event(self, event: dict[str, Any]) -> list[AgentEvent]:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self._current = str(message.get("id") or self._new_id())
            return self._start(self._current)
        message = self._current or self._new_id()
        self._current = message
        if kind == "content_block_start":
            block = event.get("content_block") or {}
            block_type = str(block.get("type", ""))
            self._blocks[(message, int(event.get("index", 0)))] = block_type
            if block_type in _SPOKEN_BLOCKS:
                out = self._start(message)
                text = block.get("text") or ""
                if isinstance(text, str) and text:
                    self._streamed.add(message)
                    self._turn_spoke = True
                    out.append(TextPiece(message, text))
                return out
            self.skipped[block_type or "unknown block"] += 1
            return []
        if kind == "content_block_delta":
            delta = event.get("delta") or {}
            block_type = self._blocks.get((message, int(event.get("index", 0))))
            if delta.get("type") != "text_delta" or block_type not in (None, *_SPOKEN_BLOCKS):
                self.skipped[str(delta.get("type") or "unknown delta")] += 1
                return []
            text = delta.get("text")
            if not isinstance(text, str) or not text:
                return []
            self._streamed.add(message)
            self._turn_spoke = True
            return [*self._start(message), TextPiece(message, text)]
        if kind == "content_block_stop":
            block_type = self._blocks.pop((message, int(event.get("index", 0))), None)
            return [BlockEnd(message)] if block_type in _SPOKEN_BLOCKS else []
        if kind == "message_stop":
            for key in [key for key in self._blocks if key[0] == message]:
                del self._blocks[key]
            return [BlockEnd(message)] if message in self._streamed else []
        return self._skip(str(kind))  # message_delta, ping, error

    def _assistant(self, event: dict[str, Any]) -> list[AgentEvent]:
        if not self._wanted(event):
            return self._skip("sub-agent")
        message = event.get("message") or {}
        message_id = str(message.get("id") or self._new_id())
        if message_id in self._streamed:
            return self._skip("already streamed")
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        out: list[AgentEvent] = []
        for block in blocks:
            block_type = block.get("type") if isinstance(block, dict) else None
            if block_type in _SPOKEN_BLOCKS and isinstance(block.get("text"), str) and block["text"].strip():
                out += self._start(message_id)
                out += [TextPiece(message_id, block["text"]), BlockEnd(message_id)]
                self._turn_spoke = True
            else:
                self.skipped[str(block_type or "unknown block")] += 1
        return out

    def _result(self, event: dict[str, Any]) -> list[AgentEvent]:
        out: list[AgentEvent] = []
        self._end_current_block(out)
        text = event.get("result")
        # A stream without assistant events (or a final answer that never came as one): say the result.
        if not self._turn_spoke and isinstance(text, str) and text.strip() and not event.get("is_error"):
            message = self._new_id()
            out += [*self._start(message), TextPiece(message, text), BlockEnd(message)]
        self._turn_spoke = False
        self._current = ""
        return [*out, TurnEnd()]

    # --- other dialects ---------------------------------------------------------------------------------
    def _gemini_message(self, event: dict[str, Any]) -> list[AgentEvent]:
        if event.get("role") != "assistant":
            out = self._end_current_block()
            self._current = ""
            self.skipped[f"{event.get('role')} message"] += 1
            return out
        text = event.get("content")
        if not isinstance(text, str) or not text:
            return []
        if not event.get("delta"):  # a whole message: its own block
            message = self._new_id()
            self._turn_spoke = True
            return [*self._start(message), TextPiece(message, text), BlockEnd(message)]
        if not self._current:
            self._current = self._new_id()
        self._streamed.add(self._current)
        self._turn_spoke = True
        return [*self._start(self._current), TextPiece(self._current, text)]

    def _codex_item(self, event: dict[str, Any]) -> list[AgentEvent]:
        item = event.get("item") or {}
        if item.get("type") != "agent_message" or not isinstance(item.get("text"), str):
            return self._skip(str(item.get("type") or "unknown item"))
        message = str(item.get("id") or self._new_id())
        self._turn_spoke = True
        return [*self._start(message), TextPiece(message, item["text"]), BlockEnd(message)]

    # --- helpers ----------------------------------------------------------------------------------------
    def _end_current_block(self, out: list[AgentEvent] | None = None) -> list[AgentEvent]:
        """A tool call or the end of a turn closes whatever text was streaming (a dialect without stops)."""
        out = out if out is not None else []
        if self._current and self._current in self._streamed:
            out.append(BlockEnd(self._current))
        return out

    def _new_id(self) -> str:
        self._anonymous += 1
        return f"message-{self._anonymous}"

    def _skip(self, reason: str) -> list[AgentEvent]:
        self.skipped[reason] += 1
        return []
