"""A reply's lines sorted into Markdown blocks with markup's own line rules, reported as events, plus an
early word on a half-received line: the block reading shared by agent_text and the streaming segmenter."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

from app.core.charsets import CLOSERS
from app.core.markup import LIST_ITEM, REF_DEF, atx_heading, fence, is_table_separator, rule_char, unquote

logger = logging.getLogger(__name__)

Event = tuple[str, ...]
"""What :class:`BlockReader` reports: ``("open", kind)`` a text or item block starts, ``("add", text)``
a line of it, ``("end", "setext" | "")`` it is complete, ``("say", kind, text)`` a one-line block
(heading, row or code) is complete."""

SENTENCE_END = ".!?…。！？｡‼⁇⁈⁉।॥؟"  # the sentence punctuation of app.core.text
TRAILERS = frozenset(CLOSERS | set("*_~"))
"""What may follow sentence punctuation before the space: closing quotes and brackets, emphasis."""
CUT_MARK = re.compile(f"[{re.escape(SENTENCE_END)}]+[{re.escape(''.join(sorted(TRAILERS)))}]*\\s")
"""Sentence punctuation followed by a space: where a line may end a sentence."""

TEXT, ITEM, OTHER, SETEXT, REF = "text", "item", "other", "setext", "ref"
_ENDS = {TEXT: "no", REF: "no", ITEM: "plain", OTHER: "plain", SETEXT: "setext"}
_SEPARATOR = frozenset("|-: ")
_ITEM_START = re.compile(r"(?:[-*+•]|\d{1,3}[.)])\s+")
_TASK_BOX = re.compile(r"\[[ xX]\]\s+")


@dataclass(frozen=True)
class Peek:
    """What :meth:`BlockReader.peek` can already tell about a line that is still arriving."""

    ends: Literal["no", "plain", "setext"] | None
    """What the line does to the open block: nothing, ends it (as a setext heading), or None: not known."""
    opens: Literal["text", "item", "add"] | None
    """Set when the line's text surely belongs to a text or item block: one it starts, or the open one."""
    start: int = 0
    """Where that text starts in the line (after quote and list markers and a task box)."""


class BlockReader:
    """Sorts a reply's lines into blocks, the way markup's block reader does, and reports them as events.

    A paragraph's lines (and a list item's continuation lines) make one block; a heading, a table row and a
    code block (mentioned by its info string when it opens, skipped to its closing fence or the end) are
    blocks of their own. A line with a ``|`` that may be a table header waits for the next line; nothing
    else looks ahead. A change into or out of a blockquote also ends a block.
    """

    def __init__(self) -> None:
        self.fence: str | None = None
        """The fence of the open code block, or None."""
        self.block: str | None = None
        """"text" or "item" while a block takes more lines, else None."""
        self.row = False
        """The last line read was a table row or separator: a following line with a ``|`` is a row too."""
        self.quoted = False
        """The last line read was in a blockquote."""
        self.held: str | None = None
        """A line waiting for the next one: it is a table header if that one is a separator line."""

    def push(self, line: str, opened: str | None = None) -> list[Event]:
        """Read a complete line; ``opened`` ("text", "item", "add") when the caller has already put its text
        in a block on :meth:`peek`'s word (then only the state moves on and nothing is reported). A held
        line is settled first (see :meth:`settle`)."""
        events = self.settle(line)
        if opened is None:
            return events + self._read(line, None, hold=True)
        quoted = line.lstrip().startswith(">")
        if quoted != self.quoted:
            self.block = None
        self.quoted, self.row = quoted, False
        self.block = "item" if opened == "item" else self.block or "text"
        return events

    def settle(self, following: str | None) -> list[Event]:
        """Read the held line (if any) now that the line after it, ``following``, is known (None: there is
        none). :meth:`push` and :meth:`end` do this themselves; a caller that must tell the held line's
        events from the next line's calls it first."""
        if self.held is None:
            return []
        held, self.held = self.held, None
        return self._read(held, following)

    def end(self) -> list[Event]:
        """The reply is complete: report what is still open (an open code block was mentioned already)."""
        events = self.settle(None)
        self._close(events)
        self.fence, self.row, self.quoted = None, False, False
        return events

    def _close(self, events: list[Event], setext: bool = False) -> None:
        if self.block is not None:
            events.append(("end", "setext" if setext else ""))
            self.block = None

    def _read(self, line: str, following: str | None, hold: bool = False) -> list[Event]:
        if self.fence is not None:
            end = fence(unquote(line))
            if end and end[1] and end[0].startswith(self.fence):
                self.fence = None
            return []
        events: list[Event] = []
        unquoted = unquote(line)
        stripped = unquoted.strip()
        quoted = line.lstrip().startswith(">")
        if not stripped or quoted != self.quoted:
            self._close(events)
        self.quoted = quoted
        if not stripped:
            self.row = False
        elif opening := fence(unquoted):
            self._close(events)
            self.fence, self.row = opening[0], False
            events.append(("say", "code", stripped[len(opening[0]) :].strip()))
        elif (title := atx_heading(unquoted)) is not None:
            self._close(events)
            self.row = False
            events.append(("say", "heading", title))
        elif rule := rule_char(stripped):
            self._close(events, setext=rule in "=-" and self.block == "text")
            self.row = False
        elif (row := self._row(stripped, following, hold)) is None:
            self.held = line  # a table header only if the next line is a separator: wait for it
            return events
        elif row:
            self._close(events)
            self.row = True
            if not is_table_separator(stripped):
                events.append(("say", "row", stripped))
        elif REF_DEF.match(unquoted):
            pass
        elif (item := LIST_ITEM.match(unquoted)) and (item.group(1) in (None, "1") or self.block != "text"):
            self._close(events)
            self.block, self.row = "item", False
            content = item.group(2)
            box = _TASK_BOX.match(content)
            events += [("open", "item"), ("add", content[box.end() :] if box else content)]
        else:
            events += self._text(stripped)
        return events

    def _row(self, stripped: str, following: str | None, hold: bool) -> bool | None:
        """Is this line a table row? None: it depends on the next line, which is not here yet. A line
        that does not start with ``|`` heads a table only if it starts a block and has no sentence end in
        it, so a line that may already have been spoken in part never turns out a header."""
        if "|" not in stripped:
            return False
        if stripped[0] == "|" or self.row or is_table_separator(stripped):
            return True
        if self.block is not None or CUT_MARK.search(stripped):
            return False
        if hold:
            return None
        return following is not None and is_table_separator(unquote(following).strip())

    def _text(self, stripped: str) -> list[Event]:
        self.row = False
        events: list[Event] = [] if self.block else [("open", "text")]
        self.block = self.block or "text"
        return events + [("add", stripped)]

    def peek(self, line: str, cut: bool, force: bool = False) -> Peek:
        """What can be told about ``line`` (the start of a line still arriving) before it is complete.
        ``cut``: a :data:`CUT_MARK` is in the line so far (then it is no table header); ``force``: take
        the line for text even if it could still turn out a table header (the caller is guessing)."""
        unquoted = unquote(line)
        if self.fence is not None or self.held is not None or not unquoted:
            return Peek(None, None)
        quoted = line.lstrip().startswith(">")
        switch = self.block is not None and quoted != self.quoted
        block = None if switch else self.block
        found = self._outcomes(unquoted, block, cut or force)
        ends: Literal["no", "plain", "setext"] | None = "no" if self.block is None else None
        if switch:
            ends = "plain"
        elif self.block is not None and len({_ENDS[kind] for kind in found}) == 1:
            ends = _ENDS[next(iter(found))]  # type: ignore[assignment]
        start = len(line) - len(unquoted)
        if found == {TEXT}:
            return Peek(ends, "add" if block else "text", start)
        if found == {ITEM} and (marker := _ITEM_START.match(unquoted)):
            rest = unquoted[marker.end() :]
            if not rest or re.fullmatch(r"\[(?:[ xX](?:\]\s*)?)?", rest):
                return Peek(ends, None)  # the text has not begun, or a task box might still be coming
            box = _TASK_BOX.match(rest)
            return Peek(ends, "item", start + marker.end() + (box.end() if box else 0))
        return Peek(ends, None)

    def _outcomes(self, line: str, block: str | None, settled: bool) -> set[str]:
        """Every kind the line beginning ``line`` (unquoted, not blank) may still turn out to be."""
        first = line[0]
        if first == "|" or line.startswith("~~~") or re.match(r"#{1,6}\s", line):
            return {OTHER}
        if line[:3] in ("`", "``", "~", "~~") or (line.startswith("```") and "`" not in line.lstrip("`")):
            return {OTHER, TEXT}  # a code fence, or inline code or strike-through
        if re.fullmatch(r"#{1,6}", line):
            return {OTHER, TEXT}
        found: set[str] = set()
        if first in "-*_=" and set(line.replace(" ", "")) == {first}:
            found.add(SETEXT if first in "=-" and block == "text" else OTHER)
        if set(line) <= _SEPARATOR:
            found.add(OTHER)
        if first in "-*+•":
            found |= {ITEM, TEXT} if len(line) == 1 else {ITEM} if line[1].isspace() else {TEXT}
        elif first.isdigit():
            numbered = re.match(r"(\d{1,3})[.)]\s", line)
            if numbered:
                found.add(ITEM if numbered.group(1) == "1" or block != "text" else TEXT)
            else:
                found |= {TEXT, ITEM} if re.fullmatch(r"\d{1,3}[.)]?", line) else {TEXT}
        elif first == "[" and REF_DEF.match(line):
            found.add(REF)
        elif first == "[" and re.fullmatch(r"\[[^\[\]]*(?:\](?::\s*)?)?", line):
            found |= {REF, TEXT}
        else:
            found.add(TEXT)
        if block is None and (self.row or not settled):
            found.add(OTHER)  # a "|" may still come: a table row after a row, or a table header
        return found
