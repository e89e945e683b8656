"""Text made ready for speech: ``iter_chunks(clean_for_speech(raw))`` turns anything a person pastes (one line
or a 1 MB Markdown book with links and emoji) into short pieces an engine speaks one after another.

Engines sound best and answer fastest given a sentence or a few at a time. :func:`clean_for_speech` turns
markup, URLs, emoji and odd whitespace into plain sentences; :func:`iter_chunks` walks the result lazily, a
paragraph and a sentence at a time, with a short first chunk so the first audio comes fast. Splitting prefers
a false merge to a false split ("Dr.", "e.g.", "U.S.", "3.5", "p.m." never end a sentence). Everything is
linear: regexes stop at the next delimiter and no loop rescans text it has passed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal

from app.core.charsets import ALNUM as _ALNUM
from app.core.charsets import CLOSERS as _CLOSERS
from app.core.charsets import has_speakable_content
from app.core.markup import clean_for_speech

__all__ = [
    "Boundary",
    "TextChunk",
    "chunk_text",
    "clean_for_speech",
    "has_speakable_content",
    "iter_chunks",
    "split_sentences",
]

logger = logging.getLogger(__name__)

Boundary = Literal["paragraph", "sentence", "clause", "word", "hard", "end"]


@dataclass(frozen=True)
class TextChunk:
    """One piece of text to hand to an engine, with where it ends and what kind of break follows it."""

    text: str
    """What to speak: stripped, single-spaced, never empty, always holding a letter or digit."""
    end: int
    """Offset in the cleaned text just past this chunk; ``end / len(cleaned)`` is the progress."""
    boundary: Boundary
    """The break after this chunk: paragraph, sentence, clause, word, hard (mid-token) or end (last one)."""


_TERMINATORS = frozenset(".!?…。！？｡‼⁇⁈⁉।॥؟")
_SENT_TERM = re.compile("[" + re.escape("".join(sorted(_TERMINATORS))) + "]")
_CJK_TERMS = frozenset("。！？｡")  # end a sentence even with no space after them
_OPENERS = frozenset("\"'“‘«([{「『（【¿¡")
_CLAUSE = re.compile(r"[,;:—–，、；：]")
_ASCII_CLAUSE = frozenset(",;:")  # only a clause break when a space follows ("3,000" is one number)
_PARA_SEP = re.compile(r"\n[^\S\n]*\n\s*")
_INITIALISM = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")  # U.S, p.m, Ph.D, e.g (last dot excluded)
# Abbreviations after which a full stop never ends a sentence (compared lowercased, without the dot).
_ABBREVIATIONS = frozenset(
    "mr mrs ms mx dr prof rev fr hon st mt jr sr gen col capt cmdr lt sgt gov sen rep pres supt messrs mme "
    "mlle vs cf approx appx ca esp incl excl dept est al fig figs eq eqs vol vols pp jan feb apr jun jul aug "
    "sep sept oct nov dec inc ltd co corp bros llc plc".split()
)
_BEFORE_NUMBER = frozenset("no nos nr ch chap sec art ex op mar may ed pt".split())  # "No. 5", not "no. Then"


def _sentence_ends(text: str, start: int, stop: int) -> Iterator[int]:
    """Offsets just past each sentence end (closing quotes included) in the paragraph ``text[start:stop]``."""
    run_end = start
    for match in _SENT_TERM.finditer(text, start, stop):  # one character at a time: faster than a run
        if match.start() < run_end:
            continue
        end = match.end()
        while end < stop and text[end] in _TERMINATORS:
            end += 1
        run, run_end = text[match.start() : end], end
        while end < stop and text[end] in _CLOSERS:
            end += 1
        if not _CJK_TERMS.isdisjoint(run) or end >= stop:
            yield end
            continue
        if not text[end].isspace():
            continue  # 3.5, v1.2.3, report.pdf, example.com, U.S.A
        after = end
        while after < stop and (text[after].isspace() or text[after] in _OPENERS):
            after += 1
        following = text[after] if after < stop else ""
        if following.islower():
            continue  # "etc. and", "Wait... what", '"Stop." he said'
        if run == ".":
            token_start = match.start()
            while token_start > max(start, match.start() - 40) and not text[token_start - 1].isspace():
                token_start -= 1
            token = text[token_start : match.start()].lstrip("".join(_OPENERS))
            lowered = token.lower()
            if (
                (len(token) == 1 and token.isalpha())  # initials: J. R. R. Tolkien
                or lowered in _ABBREVIATIONS
                or (lowered in _BEFORE_NUMBER and following.isdigit())
                or (len(token) > 1 and _INITIALISM.fullmatch(token))
            ):
                continue
        yield end


def _strip_span(text: str, start: int, stop: int) -> tuple[int, int]:
    """``(start, stop)`` moved inwards past whitespace."""
    while start < stop and text[start].isspace():
        start += 1
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    return start, stop


def _sentences(text: str) -> Iterator[tuple[int, int, bool]]:
    """(start, stop, last in its paragraph?) for each speakable sentence, found lazily a paragraph at a time.
    Punctuation-only bits join the sentence before them (or the next one, at the start of a paragraph)."""
    position, length = 0, len(text)
    while position < length:
        separator = _PARA_SEP.search(text, position)
        stop, after = separator.span() if separator else (length, length)
        held: tuple[int, int] | None = None
        carry: int | None = None
        segment_start = position
        for end in chain(_sentence_ends(text, position, stop), (stop,)):
            first, last = _strip_span(text, segment_start, end)
            segment_start = max(segment_start, end)
            if first >= last:
                continue
            if _ALNUM.search(text, first, last) is None:
                if held:
                    held = (held[0], last)
                elif carry is None:
                    carry = first
                continue
            if held:
                yield held[0], held[1], False
            held, carry = ((first if carry is None else carry), last), None
        if held:
            yield held[0], held[1], True
        position = after


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (best cleaned first), single-spaced; a paragraph break also ends one."""
    return [" ".join(text[start:stop].split()) for start, stop, _ in _sentences(text)]


def _split_point(text: str, start: int, stop: int, limit: int) -> tuple[int, Boundary]:
    """Where to cut ``text[start:stop]`` (longer than ``limit``) so the first piece fits: after the last
    clause mark that fits, else at the last space, else hard at ``limit`` (never before a combining mark)."""
    window = start + limit
    best = -1
    for match in _CLAUSE.finditer(text, start, window):
        cut = match.end()
        while cut < window and text[cut] in _CLOSERS:
            cut += 1
        if match.group() not in _ASCII_CLAUSE or text[cut].isspace():
            best = cut
    if best > start and _ALNUM.search(text, start, best):
        return best, "clause"
    space = max(text.rfind(" ", start + 1, window + 1), text.rfind("\n", start + 1, window + 1))
    if space > start and _ALNUM.search(text, start, space):
        return space, "word"
    cut = window
    while cut > start + 1 and unicodedata.category(text[cut]).startswith("M"):
        cut -= 1
    return cut, "hard"


def iter_chunks(
    text: str, *, first_max_chars: int = 120, max_chars: int = 300, growth: float = 1.5
) -> Generator[TextChunk, int | None, None]:
    """Lazily cut cleaned text (see :func:`clean_for_speech`) into chunks to speak one after another.

    The first chunk is the first sentence alone, so the first audio comes fast. Chunk ``k`` packs whole
    sentences up to ``min(max_chars, first_max_chars * growth**k)`` characters and never crosses a
    paragraph break; a sentence longer than that is cut at a clause mark, else a space, else mid-token.
    Work is proportional to what has been consumed, so a 1 MB text yields its first chunk at once.

    A caller that knows better (the synthesis service, pacing chunks to keep playback ahead) may
    ``send()`` the character limit for the next chunk instead of calling ``next()``; it is capped at
    ``max_chars``, and sending ``None`` keeps the geometric growth.
    """
    if first_max_chars < 1 or max_chars < 1:
        raise ValueError("first_max_chars and max_chars must be at least 1")
    if growth < 1:
        raise ValueError("growth must be at least 1.0")
    return _chunks(text, first_max_chars, max_chars, growth)


def _chunks(
    text: str, first_max_chars: int, max_chars: int, growth: float
) -> Generator[TextChunk, int | None, None]:
    """The generator behind :func:`iter_chunks`, one sentence of look-ahead to tell "end" from the rest."""
    sentences = _sentences(text)
    limit_now = float(min(first_max_chars, max_chars))
    first = True
    current, upcoming = next(sentences, None), next(sentences, None)

    def after(sentence: tuple[int, int, bool]) -> Boundary:
        return "end" if upcoming is None else "paragraph" if sentence[2] else "sentence"

    while current is not None:
        limit = max(1, int(limit_now))
        start, stop, _ = current
        if stop - start > limit:
            cut, boundary = _split_point(text, start, stop, limit)
            resume = _strip_span(text, cut, stop)[0]
            piece, end = " ".join(text[start:cut].split()), _strip_span(text, start, cut)[1]
            if _ALNUM.search(text, resume, stop) is None:  # only punctuation left: the sentence ends here
                end, boundary = stop, after(current)
                current, upcoming = upcoming, next(sentences, None)
            else:
                current = (resume, *current[1:])
                if not has_speakable_content(piece):
                    continue  # a run of symbols cut hard: nothing to say, nothing lost
        else:
            end = stop
            while not first and not current[2] and upcoming and upcoming[1] - start <= limit:
                end, current, upcoming = upcoming[1], upcoming, next(sentences, None)
            piece, boundary = " ".join(text[start:end].split()), after(current)
            current, upcoming = upcoming, next(sentences, None)
        requested = yield TextChunk(piece, end, boundary)
        first = False
        if requested:  # the caller paces the next chunk itself (see iter_chunks)
            limit_now = float(min(max_chars, max(1, requested)))
        else:
            limit_now = min(float(max_chars), limit_now * growth)


def chunk_text(text: str, **kwargs: Any) -> list[TextChunk]:
    """All chunks of ``text`` at once: ``list(iter_chunks(text, **kwargs))``, for callers that want a list."""
    return list(iter_chunks(text, **kwargs))
