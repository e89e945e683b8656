"""Speakable sentences from an AI agent's reply while it is still being written.

An agent streams its Markdown in arbitrary pieces (token deltas split anywhere: mid-word, mid-fence,
mid-URL). :class:`SpeechSegmenter` takes those pieces and hands out each sentence, cleaned with
:func:`app.core.agent_text.speakable_agent_text`'s reading, as soon as nothing later can change it. Fed a
reply in any pieces and flushed, it hands out exactly ``split_sentences(speakable_agent_text(reply))``.

How: lines are sorted into blocks by :class:`app.core.agent_blocks.BlockReader` (a heading, table row or
code mention is spoken when its line is complete; a list item or paragraph when the next line shows it has
ended). Inside a paragraph or item, a sentence is handed out when its punctuation, a space and the next
word's first letter have arrived and reading the two halves apart gives the same sentences as reading them
together (so "Dr. Smith", "e.g. this", "3.5" and a sentence that goes on in lowercase stay whole). Never
inside inline code, a link or a tag that is still open. Each piece of text is looked at a bounded number of
times, so a long reply fed a few characters at a time costs time linear in its length.
"""

from __future__ import annotations

import bisect
import logging
from collections import deque
from dataclasses import dataclass, field

from app.core.agent_blocks import CUT_MARK, SENTENCE_END, TRAILERS, BlockReader, Event, Peek
from app.core.agent_text import CodeMode, finish, speak_block, structure_table
from app.core.sentence_cuts import Block, cached_speak, finished_sentence
from app.core.text import split_sentences

logger = logging.getLogger(__name__)

_HEAD = 256  # enough of a line to tell what kind of line it is
_RUN = frozenset(SENTENCE_END) | TRAILERS


@dataclass
class _Line:
    """The line now arriving."""

    parts: list[str] = field(default_factory=list)
    head: str = ""
    size: int = 0
    cut: bool = False
    """A :data:`CUT_MARK` has been seen in it."""
    run: str = ""
    """Its trailing sentence punctuation and closers, to find a cut mark across pieces."""
    opened: str | None = None
    """"text", "item" or "add" once its text goes into the block as it arrives."""
    ended: bool = False
    """The open block was ended on its account already."""

    def add(self, text: str) -> None:
        if not self.opened:
            self.parts.append(text)
        if len(self.head) < _HEAD:
            self.head += text[: _HEAD - len(self.head)]
        self.size += len(text)
        if not self.cut:
            probe = self.run + text
            self.cut = CUT_MARK.search(probe) is not None
            keep = len(probe)
            while keep and probe[keep - 1] in _RUN:
                keep -= 1
            self.run = probe[keep:]


class SpeechSegmenter:
    """Turns a streamed agent reply into speakable sentences as early as is safe.

    ``feed`` the text as it arrives and speak what it returns; call ``idle`` when nothing has arrived for a
    moment (it hands out a finished-looking last sentence without waiting for the next one) and ``flush``
    when the reply (or its text block) is complete. ``code`` is how fenced code is read, as in
    :func:`app.core.agent_text.speakable_agent_text`.
    """

    def __init__(self, code: CodeMode = "mention") -> None:
        if code not in ("mention", "silent"):
            raise ValueError(f"code must be 'mention' or 'silent', not {code!r}")
        self.code = code
        self.reset()

    def reset(self) -> None:
        """Forget everything received: ready for a new reply."""
        self._reader = BlockReader()
        self._cr = False  # the last piece ended with CR: a LF starting the next is the same line break
        self._partial = ""  # the end of the text when it could begin an HTML comment ("<", "<!", "<!-")
        self._comment: list[str] | None = None  # an open <!-- comment, held until it closes
        self._comment_size = 0
        self._comment_tail = ""  # its last two characters, where a "-->" may begin
        self._line = _Line()
        self._block: Block | None = None
        self._out: list[str] = []
        # Offsets: "seen" counts the text as read (line breaks made plain, comments out); the raw pieces
        # fed are kept from the first character not handed out, to answer `pending` exactly.
        self._seen = 0
        self._line_start = 0
        self._held_start = 0
        self._raw: deque[str] = deque()
        self._raw_start = 0
        self._raw_size = 0
        # Per piece fed: where it starts as read, and (where it starts raw, its size, for each character
        # as read the offset of its raw character, or None when the two are the same).
        self._feed_seen: list[int] = []
        self._feed_raw: list[tuple[int, int, list[int] | None]] = []

    @property
    def pending(self) -> str:
        """The text received and not yet handed out, exactly as it was fed: it starts at the first
        character of the open paragraph or list item, of a line waiting for the next one, or of the line
        now arriving (lines of a code block already read are done with), so ``len(pending)`` says how much
        of what was fed is still waiting."""
        start = self._raw_offset(self._pending_from())
        return "".join(self._raw)[start - self._raw_start :]

    @property
    def pending_chars(self) -> int:
        """``len(pending)`` without building the string: the narrator asks after every line it reads."""
        return self._raw_start + self._raw_size - self._raw_offset(self._pending_from())

    def feed(self, text: str) -> list[str]:
        """Append ``text``; return the sentences now known to be complete, in order."""
        if text:
            plain, where = self._normalise(text)
            read = self._uncomment(plain)
            self._feed_seen.append(self._seen)
            exact = where if read == plain else None
            self._feed_raw.append((self._raw_start + self._raw_size, len(text), exact))
            self._raw.append(text)
            self._raw_size += len(text)
            self._consume(read)
            self._forget()
        return self._take()

    def idle(self) -> list[str]:
        """Nothing has arrived for a while: hand out the text received so far if it ends like a sentence
        (sentence punctuation, maybe closing quotes, brackets or emphasis) outside any open code block,
        inline code, link or tag, and its last word is no abbreviation or number ("Dr.", "e.g.", "3.")."""
        reader, line = self._reader, self._line
        if self._comment is not None or self._partial or reader.fence is not None or reader.held is not None:
            return []
        if not line.opened and "".join(line.parts).strip():
            text = "".join(line.parts)
            peek = reader.peek(text, line.cut, force=True)
            if "|" in text or peek.opens is None or peek.ends is None:
                return []
            self._open(peek, text)
        block = self._block
        spoken = finished_sentence(block.body.rstrip()) if block is not None else None
        if block is None or spoken is None:
            return self._take()
        self._say(finish(spoken, capitalise=block.fresh and block.kind == "item"))
        self._block = Block(block.kind, fresh=False)
        self._forget()
        return self._take()

    def flush(self) -> list[str]:
        """The reply is complete: hand out everything still held (an open code block was mentioned when it
        opened) and get ready for the next reply."""
        held = self._partial + ("".join(self._comment) if self._comment is not None else "")
        self._partial, self._comment = "", None
        self._consume(held)  # an unclosed comment is read as text, as clean_for_speech reads it
        if self._line.size:
            self._end_line()
        held = self._reader.held or ""
        self._apply(self._reader.end(), held, self._held_start)
        if self._block is not None:
            self._end_block(False)
        out = self._take()
        self.reset()
        return out

    # -------------------------------------------------------------------------------------- offsets

    def _pending_from(self) -> int:
        starts = [self._seen]
        if self._block is not None and self._block.body:
            starts.append(self._block.origin)
        if self._reader.held is not None:
            starts.append(self._held_start)
        if self._line.size and not self._line.opened:
            starts.append(self._line_start)
        return min(starts)

    def _normalise(self, text: str) -> tuple[str, list[int] | None]:
        """``text`` with line breaks made plain and invisible characters dropped (as
        :func:`app.core.agent_text.prepare` does), and where each character came from when that moved any."""
        table = structure_table(text)
        skip = self._cr and text.startswith("\n")  # CR at the end of the last piece, LF now: one break
        self._cr = text.endswith("\r")
        if not table and "\r" not in text and not skip:
            return text, None
        out: list[str] = []
        where: list[int] = []
        for index, char in enumerate(text):
            if (index == 0 and skip) or (char == "\r" and text[index + 1 : index + 2] == "\n"):
                continue
            said = "\n" if char == "\r" else table.get(ord(char), char)
            if said:
                out.append(said)
                where += [index] * len(said)
        return "".join(out), where

    def _raw_offset(self, seen: int) -> int:
        """Where the character at ``seen`` (in the text as read) was in the raw text fed; exact, except
        within a piece where an HTML comment began or ended."""
        index = bisect.bisect_right(self._feed_seen, seen) - 1
        if index < 0:
            return self._raw_start
        start, size, where = self._feed_raw[index]
        within = seen - self._feed_seen[index]
        offset = start + (where[within] if where is not None and within < len(where) else min(within, size))
        return max(self._raw_start, min(offset, self._raw_start + self._raw_size))

    def _forget(self) -> None:
        """Drop the raw pieces (and offset records) that lie wholly before what is pending."""
        seen = self._pending_from()
        index = bisect.bisect_right(self._feed_seen, seen) - 1
        if index > 0:
            del self._feed_seen[:index], self._feed_raw[:index]
        start = self._raw_offset(seen)
        while self._raw and self._raw_start + len(self._raw[0]) <= start:
            size = len(self._raw.popleft())
            self._raw_start += size
            self._raw_size -= size

    # -------------------------------------------------------------------------------------- lines

    def _uncomment(self, text: str) -> str:
        """``text`` with ``<!-- comments -->`` taken out, as clean_for_speech does; an open one is held."""
        out: list[str] = []
        while text:
            if self._comment is not None:
                # "-->" closes it only from its fifth character on, as clean_for_speech searches.
                tail = self._comment_tail
                found = (tail + text).find("-->")
                if found == -1:
                    self._comment.append(text)
                    self._comment_size += len(text)
                    joined = tail + text
                    self._comment_tail = joined[max(len(joined) - 2, len(joined) - self._comment_size + 4) :]
                    return "".join(out)
                text = text[found + 3 - len(tail) :]
                self._comment, self._comment_size, self._comment_tail = None, 0, ""
                continue
            text, self._partial = self._partial + text, ""
            start = text.find("<!--")
            if start == -1:
                keep = next((size for size in (3, 2, 1) if text.endswith("<!-"[:size])), 0)
                out.append(text[: len(text) - keep])
                self._partial = text[len(text) - keep :]
                return "".join(out)
            out.append(text[:start])
            self._comment, self._comment_size, self._comment_tail = ["<!--"], 4, ""
            text = text[start + 4 :]
        return "".join(out)

    def _consume(self, text: str) -> None:
        for index, piece in enumerate(text.split("\n")):
            if index:
                self._end_line()
                self._seen += 1
                self._line_start = self._seen
            if piece:
                self._grow_line(piece)
                self._seen += len(piece)

    def _grow_line(self, piece: str) -> None:
        line = self._line
        line.add(piece)
        if line.opened:
            self._add(piece, self._seen)
            return
        text = "".join(line.parts) if line.size <= _HEAD else line.head
        peek = self._reader.peek(text, line.cut)
        if peek.opens is not None:
            self._open(peek, "".join(line.parts))
        elif peek.ends in ("plain", "setext") and not line.ended and self._block is not None:
            self._end_block(peek.ends == "setext")
            line.ended = True

    def _open(self, peek: Peek, text: str) -> None:
        """The line's text surely goes into a block: from now on it goes there as it arrives."""
        line = self._line
        if peek.ends in ("plain", "setext") and self._block is not None and not line.ended:
            self._end_block(peek.ends == "setext")
        if peek.opens != "add" or self._block is None:
            self._block = Block(peek.opens if peek.opens == "item" else "text")
        line.opened, line.ended, line.parts = peek.opens, True, []
        self._add(text[peek.start :], self._line_start + peek.start, new_line=peek.opens == "add")

    def _end_line(self) -> None:
        line, reader = self._line, self._reader
        if line.opened:
            self._apply(reader.push(line.head, opened=line.opened), line.head, self._line_start)
        else:
            text = "".join(line.parts)
            if reader.held is not None:
                held = reader.held
                self._apply(reader.settle(text), held, self._held_start)
            self._apply(reader.push(text), text, self._line_start)
            if reader.held is not None:
                self._held_start = self._line_start
        self._line = _Line()

    def _apply(self, events: list[Event], line: str, start: int) -> None:
        """Act on the reader's events for ``line``, which began at ``start``."""
        for event in events:
            if event[0] == "end":
                if self._block is not None:
                    self._end_block(event[1] == "setext")
            elif event[0] == "open":
                self._block = Block(event[1])
            elif event[0] == "add":
                text = event[1]
                at = len(line) - len(text) if line.endswith(text) else line.find(text)
                self._add(text, start + max(at, 0), new_line=True, line_start=start)
            else:
                self._say(speak_block(event[1], event[2], code=self.code))

    # -------------------------------------------------------------------------------------- sentences

    def _add(self, text: str, at: int, new_line: bool = False, line_start: int | None = None) -> None:
        """Append ``text`` (which was at ``at`` in the text received) to the block, and cut what can be."""
        block = self._block
        if block is None:  # cannot happen: lines are only added to an open block
            logger.warning("Text outside any block dropped: %r", text[:80])
            return
        if not block.body:
            block.origin = (self._line_start if line_start is None else line_start) if block.fresh else at
        block.body += " " if new_line and block.body else ""
        block.sources.append((len(block.body), at))
        block.body += text
        block.marks.extend(block.scan.advance(block.body))
        while block.marks:
            mark = block.marks[0]
            verdict = block.verdict(mark)
            if verdict is None:
                return
            block.marks.popleft()
            block.reach = 0
            if not verdict:
                block.anchor = mark
                continue
            fresh = block.fresh
            self._say(finish(cached_speak(block.cut(mark)), capitalise=fresh and block.kind == "item"))

    def _end_block(self, setext: bool) -> None:
        block, self._block = self._block, None
        if block is not None:
            capitalise = block.fresh and block.kind == "item"
            terminate = block.kind == "item" or setext
            self._say(finish(cached_speak(block.body), capitalise=capitalise, terminate=terminate))

    def _say(self, spoken: str) -> None:
        self._out += split_sentences(spoken)

    def _take(self) -> list[str]:
        out, self._out = self._out, []
        return out
