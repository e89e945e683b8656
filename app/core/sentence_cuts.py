"""Where a sentence may end in a block of a streamed agent reply, and whether it does: the cut search and
the idle check behind :class:`app.core.segmenter.SpeechSegmenter`."""

from __future__ import annotations

import bisect
import functools
import logging
import re
import sys
from collections import deque
from dataclasses import dataclass, field

from app.core.agent_blocks import SENTENCE_END, TRAILERS
from app.core.agent_text import LINK_STARTS, speak_text
from app.core.charsets import has_speakable_content
from app.core.text import split_sentences

logger = logging.getLogger(__name__)

_SPECIAL = re.compile(f"[\\[\\]()<>`{re.escape(SENTENCE_END)}]")
_SPACE = re.compile(r"\s")
_OPENERS = "\"'(“‘«¿¡"
_NUMBER_END = re.compile(r"(?:^|\s)\d+\.[\"')\]]*$")
_LONGEST_HEAD = 300  # past this many characters without a readable next word, a sentence waits for more
cached_speak = functools.lru_cache(maxsize=64)(speak_text)
""":func:`app.core.agent_text.speak_text`, cached: a check and the hand-out often clean the same text."""


class Scan:
    """Walks a block's text once, left to right, tracking code spans (paired as markup pairs them),
    brackets, link targets and tags, and reports each place a sentence may end: after sentence punctuation
    (and closing quotes, brackets or emphasis), before a space, with nothing open."""

    __slots__ = ("pos", "square", "target", "tag", "tick")

    def __init__(self) -> None:
        self.pos = 0
        self.square = 0
        self.target = False
        self.tag = False
        self.tick = (-1, 0)  # (backtick, searched up to): no closing backtick for it before there

    def balanced(self) -> bool:
        return not (self.square or self.target or self.tag)

    def shift(self, offset: int) -> None:
        self.pos -= offset
        self.tick = (self.tick[0] - offset, self.tick[1] - offset)

    def advance(self, text: str) -> list[int]:
        """Go as far as ``text`` decides; return the new places a sentence may end."""
        marks: list[int] = []
        size = len(text)
        while (found := _SPECIAL.search(text, self.pos)) is not None:
            index, char = found.start(), found.group()
            if char == "`":
                end = self._code_end(text, index)
                if end is None:
                    self.pos = index
                    return marks
                self.pos = end
                continue
            if char in "]<" and index + 1 >= size:
                self.pos = index  # "](" opens a link target, "<a" a tag: wait for the next character
                return marks
            if char in SENTENCE_END:
                run = index + 1
                while run < size and text[run] in SENTENCE_END:
                    run += 1
                stop = run
                while stop < size and text[stop] in TRAILERS:
                    stop += 1
                if stop >= size:
                    self.pos = index
                    return marks
                for closer in text[run:stop]:
                    self.target = self.target and closer != ")"
                    self.square = max(0, self.square - (closer == "]"))
                if stop > run and text[stop - 1] == "]" and text[stop] == "(":
                    self.target, stop = True, stop + 1
                elif text[stop].isspace() and self.balanced():
                    marks.append(stop)
                self.pos = stop
                continue
            self.pos = index + 1
            if char == "[":
                self.square += 1
            elif char == "]":
                self.square = max(0, self.square - 1)
                if text[index + 1] == "(":
                    self.target, self.pos = True, index + 2
            elif char == ")":
                self.target = False
            elif char == "<":
                self.tag = self.tag or text[index + 1].isalpha() or text[index + 1] == "/"
            elif char == ">":
                self.tag = False
        self.pos = size
        return marks

    def _code_end(self, text: str, index: int) -> int | None:
        """Where scanning goes on after the backtick at ``index``, as ``(`{1,2})([^`]+)\\1`` decides it:
        past the code span starting there, or the next character when none does; None: not known yet."""
        size = len(text)
        if index + 1 >= size:
            return None
        if text[index + 1] != "`":
            close = self._find_tick(text, index, index + 1)
            return None if close is None else close + 1
        if index + 2 >= size:
            return None
        if text[index + 2] == "`":
            return index + 1
        close = self._find_tick(text, index, index + 2)
        if close is None or close + 1 >= size:
            return None
        return close + 2 if text[close + 1] == "`" else index + 1

    def _find_tick(self, text: str, index: int, start: int) -> int | None:
        if self.tick[0] == index:
            start = max(start, self.tick[1])  # already searched: only look at what is new
        close = text.find("`", start)
        if close == -1:
            self.tick = (index, len(text))
            return None
        return close


@dataclass
class Block:
    """A paragraph or list item being received: its text not yet handed out, and where it may be cut."""

    kind: str
    body: str = ""
    fresh: bool = True
    """Nothing of it handed out yet (an item's first word is capitalised)."""
    origin: int = 0
    """Where (in the text received) the first character not handed out is."""
    sources: list[tuple[int, int]] = field(default_factory=list)
    """(offset in ``body``, offset in the text received) where each appended piece starts."""
    anchor: int = 0
    """The last place a sentence could have ended: checks read from there."""
    marks: deque[int] = field(default_factory=deque)
    scan: Scan = field(default_factory=Scan)
    reach: int = 0
    """How far the word after the first mark has been looked at."""

    def cut(self, mark: int) -> str:
        """Take ``body[:mark]`` out; everything after moves to the front."""
        piece, self.body = self.body[:mark], self.body[mark:]
        index = bisect.bisect_right(self.sources, (mark, sys.maxsize)) - 1
        start, at = self.sources[index]
        self.origin = at + mark - start
        later = self.sources[index + 1 :]
        self.sources = [(0, self.origin)] + [(begin - mark, where) for begin, where in later]
        self.fresh, self.anchor = False, 0
        self.scan.shift(mark)
        self.marks = deque(position - mark for position in self.marks)
        return piece

    def verdict(self, mark: int) -> bool | None:
        """Does a sentence end at ``mark``? None: the next word has not arrived far enough to tell."""
        body = self.body
        first = mark
        while first < len(body) and (body[first].isspace() or body[first] in _OPENERS):
            first += 1
        if first >= len(body):
            return None
        space = _SPACE.search(body, first)
        word = body[first : space.start() if space else len(body)].lower()
        maybe_link = any(start.startswith(word) or word.startswith(start) for start in LINK_STARTS)
        char = body[first]
        if char.islower() and not maybe_link:
            return False  # the sentence goes on: "e.g. this", "etc. and"
        if (char.isupper() or char in "0123456789") and not maybe_link:
            return _joins(body[self.anchor : mark], body[mark : first + 1])
        # Markup, code, a path or a link comes next: wait for the whole next word (and anything it opens).
        for space in _SPACE.finditer(body, max(first, self.reach)):
            end = space.start()
            if end - mark > _LONGEST_HEAD:
                return False
            scan = Scan()
            scan.advance(body[mark : end + 1])
            if scan.pos < end + 1 - mark or not scan.balanced():
                continue
            head = body[mark:end]
            if has_speakable_content(cached_speak(head)):
                return _joins(body[self.anchor : mark], head)
        self.reach = len(body)
        return None


def _joins(before: str, after: str) -> bool:
    """Do ``before`` and ``after`` read as sentences of their own, just as they read together?"""
    first = split_sentences(cached_speak(before))
    rest = split_sentences(cached_speak(after))
    return bool(first) and bool(rest) and split_sentences(cached_speak(before + after)) == first + rest


def finished_sentence(text: str) -> str | None:
    """``text`` (a block's text, right-stripped) spoken, when it ends like a sentence (sentence punctuation,
    maybe closing quotes, brackets or emphasis) outside any inline code, link or tag, and its last word is
    no abbreviation or number ("Dr.", "e.g.", "3."); else None."""
    core = text.rstrip("".join(TRAILERS))
    if not core or core[-1] not in SENTENCE_END:
        return None
    scan = Scan()
    scan.advance(text + " ")
    spoken = cached_speak(text)
    if (
        scan.pos < len(text) + 1
        or not scan.balanced()
        or not spoken
        or _NUMBER_END.search(spoken)
        or split_sentences(spoken + " Zz")[-1] != "Zz"
    ):
        return None
    return spoken
