"""Text made ready for speech: ``iter_chunks(clean_for_speech(raw))`` turns anything a person pastes (one line
or a 1 MB Markdown book with links and emoji) into short pieces an engine speaks one after another.

Engines sound best and answer fastest given a sentence or a few at a time. :func:`clean_for_speech` turns
markup, URLs, emoji and odd whitespace into plain sentences; :func:`iter_chunks` walks the result lazily, a
paragraph and a sentence at a time, with a short first chunk so the first audio comes fast. Splitting prefers
a false merge to a false split ("Dr.", "e.g.", "U.S.", "3.5", "p.m." never end a sentence). Everything is
linear: regexes stop at the next delimiter and no loop rescans text it has passed.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal

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


_ALNUM = re.compile(r"[^\W_]")  # a letter or digit in any script: what makes text speakable
_TERMINATORS = frozenset(".!?…。！？｡‼⁇⁈⁉।॥؟")
_SENT_TERM = re.compile("[" + re.escape("".join(sorted(_TERMINATORS))) + "]")
_CJK_TERMS = frozenset("。！？｡")  # end a sentence even with no space after them
_CLOSERS = frozenset("\"'”’»)]}」』）】〕〉》›")
_OPENERS = frozenset("\"'“‘«([{「『（【¿¡")
_CLAUSE = re.compile(r"[,;:—–，、；：]")
_ASCII_CLAUSE = frozenset(",;:")  # only a clause break when a space follows ("3,000" is one number)
_FINAL = frozenset(".!?…:;。！？：；｡")
_PARA_SEP = re.compile(r"\n[^\S\n]*\n\s*")
_INITIALISM = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")  # U.S, p.m, Ph.D, e.g (last dot excluded)
# Abbreviations after which a full stop never ends a sentence (compared lowercased, without the dot).
_ABBREVIATIONS = frozenset(
    "mr mrs ms mx dr prof rev fr hon st mt jr sr gen col capt cmdr lt sgt gov sen rep pres supt messrs mme "
    "mlle vs cf approx appx ca esp incl excl dept est al fig figs eq eqs vol vols pp jan feb apr jun jul aug "
    "sep sept oct nov dec inc ltd co corp bros llc plc".split()
)
_BEFORE_NUMBER = frozenset("no nos nr ch chap sec art ex op mar may ed pt".split())  # "No. 5", not "no. Then"

_CHAR_MAP = {
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2039\u203a\u2032", "'"),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2212\u2043", "-"),
    **dict.fromkeys("\u2015\u2e3a\u2e3b", "\u2014"),
    **{"\x85": "\n", "\u2028": "\n", "\x0b": "\n", "\u2029": "\n\n", "\x0c": "\n\n", "\t": " "},
}
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "So", "Sk", "Me"})

_FOOTNOTE = re.compile(r"\[\^[^\]\s]{1,40}\]")
_CODE = re.compile(r"(`{1,2})([^`]+)\1")
_CODE_DOT = re.compile(r"(?<=[\w)\]])\.(?=[^\W\d])")
_CODE_DROP = str.maketrans(dict.fromkeys("()[]{}<>;`", " "))
_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\([^()\n]*\)")
_LINK = re.compile(r"\[([^\[\]\n]*)\](?:\([^()\n]*\)|\[[^\[\]\n]*\])")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>\s]+|www\.[^<>\s]+|mailto:[^<>\s]+|[^<>\s@]+@[^<>\s@]+)>")
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)\b[^<>]*>")
_INLINE_TAGS = "a abbr b cite code del em font i ins kbd mark q s small span strong sub sup u".split()
_BLOCK_TAGS = """address article aside blockquote br dd details div dl dt figcaption figure footer h1 h2 h3
    h4 h5 h6 header hr img li main nav ol p pre section summary table tbody td tfoot th thead tr ul""".split()
# Inline tags vanish, block tags leave a space, and anything else in angle brackets ("a<b and c>d") stays.
_TAG_SPOKEN = {**dict.fromkeys(_INLINE_TAGS, ""), **dict.fromkeys(_BLOCK_TAGS, " ")}
_URL = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'`\[\]{}|\\^]+", re.IGNORECASE)
# Starts only where a run starts, and "." is not in a label: no backtracking blowup.
_EMAIL = re.compile(r"(?<![\w.%+-])([\w.%+-]+)@([\w-]+(?:\.[\w-]+)+)")
_MAILTO = re.compile(r"\bmailto:", re.IGNORECASE)
_EMPHASIS = re.compile(r"\*{1,3}(?=\S)|(?<=\S)\*{1,3}|(?<!\w)_{1,3}(?=\S)|(?<=\S)_{1,3}(?!\w)|~~")
_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~])")
_DASH = re.compile(r"(?<!\S)-{1,3}(?!\S)|(?<=\w)-{2,3}(?=\w)")
_SPACE_PUNCT = re.compile(r" ([.,;:!?])(?= |$)")
_LIST_ITEM = re.compile(r"\s*(?:[-*+•]|(\d{1,3})[.)])\s+(.*)")
_TASK_BOX = re.compile(r"\[[ xX]\]\s+")
_REF_DEF = re.compile(r"\s*\[[^\[\]]+\]:\s*\S")


def has_speakable_content(text: str) -> bool:
    """True when ``text`` holds a letter or digit in any script, i.e. an engine has something to say;
    empty text, whitespace, punctuation, emoji and control characters alone are not speakable."""
    return _ALNUM.search(text) is not None


def _char_table(text: str) -> dict[int, str | None]:
    """A ``str.translate`` table for the characters of ``text``: drop controls, zero-width and format
    characters, emoji and pictographs; map odd spaces, quotes and dashes. Built from the distinct
    characters only, so it costs one pass over the text plus one lookup per distinct character."""
    table: dict[int, str | None] = {}
    for ch in set(text):
        if ch in _CHAR_MAP:
            table[ord(ch)] = _CHAR_MAP[ch]
        elif ch == "\n" or " " <= ch <= "~":
            continue
        else:
            code, category = ord(ch), unicodedata.category(ch)
            if category in _DROP_CATEGORIES or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
                table[code] = None  # variation selectors are combining marks (Mn) but only style emoji
            elif category == "Zs":
                table[code] = " "
    return table


def _speak_code(match: re.Match[str]) -> str:
    """Inline code read aloud: ``snake_case`` -> "snake case", ``foo.bar()`` -> "foo dot bar"."""
    code = match.group(2).strip()
    if _URL.match(code) or "@" in code:
        return code  # left for the URL and e-mail passes
    code = _CODE_DOT.sub(" dot ", code).replace("/", " slash ").replace("_", " ")
    return " ".join(code.translate(_CODE_DROP).split())


def _speak_url(match: re.Match[str]) -> str:
    """A bare URL becomes "a link to <host>", keeping sentence punctuation that followed it."""
    url, trailing = match.group(), ""
    while url and (url[-1] in ".,;:!?'\"" or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url, trailing = url[:-1], url[-1] + trailing
    host = re.split(r"[/?#]", url.split("://", 1)[-1], maxsplit=1)[0].rsplit("@", 1)[-1].split(":")[0].lower()
    host = host[4:] if host.startswith("www.") else host
    return (f"a link to {host}" if host else "a link") + trailing


def _speak_email(match: re.Match[str]) -> str:
    """``john.doe@example.com`` -> "john dot doe at example dot com"."""
    local, domain = match.group(1).strip("."), match.group(2)
    if not local or not domain.rsplit(".", 1)[-1].isalpha():
        return match.group()
    local = local.replace(".", " dot ").replace("_", " underscore ").replace("+", " plus ")
    return f"{local} at {domain.replace('.', ' dot ')}"


def _inline(text: str) -> str:
    """Inline Markdown, HTML, URLs and e-mail addresses turned into words; whitespace collapsed."""
    if "[^" in text:
        text = _FOOTNOTE.sub("", text)
    if "`" in text:
        text = _CODE.sub(_speak_code, text)
    if "[" in text:
        text = _LINK.sub(r"\1", _IMAGE.sub(r"\1", text))
    if "<" in text:
        text = _TAG.sub(lambda m: _TAG_SPOKEN.get(m.group(1).lower(), m.group()), _AUTOLINK.sub(r"\1", text))
    if "&" in text:
        unescaped = html.unescape(text)
        if unescaped != text:  # "&#128512;" must not smuggle an emoji back in
            text = unescaped.translate(_char_table(unescaped))
    if ":" in text and "mailto:" in text.lower():
        text = _MAILTO.sub("", text)
    if "://" in text or "www." in text.lower():
        text = _URL.sub(_speak_url, text)
    if "@" in text:
        text = _EMAIL.sub(_speak_email, text)
    if "\\" in text:
        text = _BACKSLASH.sub("", text)
    if "*" in text or "_" in text or "~~" in text:
        text = _EMPHASIS.sub("", text)
    if "-" in text:
        text = _DASH.sub(" \u2014 ", text)
    text = " ".join(text.replace("`", "").replace("^", " ").split())
    return _SPACE_PUNCT.sub(r"\1", text)


def _terminate(text: str, capitalise: bool = False) -> str:
    """Add a full stop (。 after CJK) unless ``text`` ends with one, so it is read as a sentence; with
    ``capitalise``, uppercase an all-lowercase first word too, so the splitter sees a new sentence."""
    first = text.split(" ", 1)[0].rstrip("".join(_FINAL | _CLOSERS) + ",")
    if capitalise and first.isalpha() and first.islower():
        text = text[0].upper() + text[1:]
    core = text.rstrip("".join(_CLOSERS))
    if not core or core[-1] in _FINAL or not has_speakable_content(text):
        return text
    return text + ("。" if unicodedata.east_asian_width(core[-1]) in "WF" else ".")


def _unquote(line: str) -> str:
    """``line`` without leading whitespace and blockquote markers (``> > text`` -> ``text``)."""
    line = line.lstrip()
    while line.startswith(">"):
        line = line[1:].lstrip()
    return line


def _fence(line: str) -> tuple[str, bool] | None:
    """(fence such as "````", bare?) when ``line`` opens or closes a ``` or ~~~ code block, else None. A
    bare fence ``f`` closes an opening fence ``o`` exactly when ``f.startswith(o)``."""
    stripped = line.strip()
    if stripped[:3] not in ("```", "~~~"):
        return None
    info = stripped.lstrip(stripped[0])
    if stripped[0] == "`" and "`" in info:
        return None  # ```code``` on one line is inline code
    return stripped[: len(stripped) - len(info)], not info.strip()


def _atx_heading(line: str) -> str | None:
    """The title of a ``# Title`` heading (closing hashes removed), or None when ``line`` is not one."""
    stripped = line.strip()
    level = len(stripped) - len(stripped.lstrip("#"))
    if not 1 <= level <= 6 or (len(stripped) > level and not stripped[level].isspace()):
        return None
    body = stripped[level:].strip()
    trimmed = body.rstrip("#")
    return trimmed.strip() if not trimmed or trimmed[-1].isspace() else body


def _rule_char(stripped: str) -> str | None:
    """The character of a horizontal rule or setext underline (``---``, ``***``, ``===``), else None."""
    compact = stripped.replace(" ", "")
    return compact[0] if len(compact) >= 3 and compact[0] in "-*_=" and len(set(compact)) == 1 else None


def _is_table_separator(stripped: str) -> bool:
    """True for the ``|---|:---:|`` line under a table header."""
    return "|" in stripped and "-" in stripped and not set(stripped) - set("|-: ")


def _blocks(lines: list[str]) -> list[str]:
    """Block-level Markdown read line by line into paragraphs of single-spaced, inline-cleaned text."""
    count = len(lines)
    # Longest closing fence of each kind after each line, so an unclosed fence is known without rescanning.
    longest_after: list[dict[str, int]] = [{}] * count
    for index in range(count - 1, 0, -1):
        fence, seen = _fence(_unquote(lines[index])), longest_after[index]
        if fence and fence[1] and len(fence[0]) > seen.get(fence[0][0], 0):
            seen = {**seen, fence[0][0]: len(fence[0])}
        longest_after[index - 1] = seen

    paragraphs: list[str] = []
    parts: list[str] = []
    piece: list[str] = []
    kind = "text"

    def flush_piece() -> None:
        nonlocal piece, kind
        if piece:
            spoken = _inline(" ".join(piece))
            if spoken and kind != "text":
                spoken = _terminate(spoken, capitalise=True)
            if spoken:
                parts.append(spoken)
        piece, kind = [], "text"

    def flush_paragraph() -> None:
        flush_piece()
        if parts:
            paragraphs.append(" ".join(parts))
            parts.clear()

    index = 0
    while index < count:
        line = _unquote(lines[index])
        stripped = line.strip()
        index += 1
        fence = _fence(line) if stripped else None
        if not stripped:
            flush_paragraph()
        elif fence and longest_after[index - 1].get(fence[0][0], 0) >= len(fence[0]):
            flush_paragraph()
            while not ((end := _fence(_unquote(lines[index]))) and end[1] and end[0].startswith(fence[0])):
                index += 1
            index += 1
            paragraphs.append("Code sample omitted.")
        elif (title := _atx_heading(line)) is not None:
            flush_paragraph()
            if title := _inline(title):
                paragraphs.append(_terminate(title))
        elif rule := _rule_char(stripped):
            if rule in "=-" and piece and kind == "text" and not parts:  # setext heading underline
                title, piece = _inline(" ".join(piece)), []
                parts.append(_terminate(title) if title else "")
            flush_paragraph()
        elif "|" in stripped and (
            stripped[0] == "|"
            or stripped[-1] == "|"
            or kind == "row"
            or (index < count and _is_table_separator(lines[index].strip()))
        ):
            if not _is_table_separator(stripped):
                flush_piece()
                cells = (cell.strip() for cell in stripped.strip("|").split("|"))
                piece, kind = [", ".join(cell for cell in cells if cell)], "row"
        elif _REF_DEF.match(line):
            continue
        elif (item := _LIST_ITEM.match(line)) and (
            item.group(1) in (None, "1") or kind != "text" or not piece
        ):
            # A numbered line other than "1." inside running text is prose ("...in\n3. days"), not a list.
            flush_piece()
            piece, kind = [_TASK_BOX.sub("", item.group(2), count=1)], "item"
        else:
            if kind == "row":
                flush_piece()
            piece.append(stripped)
    flush_paragraph()
    return paragraphs


def clean_for_speech(text: str) -> str:
    """Turn arbitrary user text (plain, Markdown or light HTML) into plain sentences an engine reads well.

    NFC-normalises, drops controls, zero-width characters and emoji (CJK and accented letters stay), maps
    fancy quotes and dashes, replaces Markdown with what a reader would say (code blocks become "Code sample
    omitted.", headings and list items become their own sentences, links keep their text), reads bare URLs
    as "a link to <host>" and e-mail addresses as words. Paragraphs are separated by exactly one blank line
    (``"\\n\\n"``), single newlines become spaces, and the result has no outer whitespace. Linear time.
    Indented code blocks are not recognised (indented prose is common in plain text), and an unclosed
    ``` fence is read as text rather than swallowing the rest of the document.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text.translate(_char_table(text)))
    out, position = [], 0  # <!-- comments --> out, by str.find so it stays linear; an unclosed one stays
    while (start := text.find("<!--", position)) != -1 and (stop := text.find("-->", start + 4)) != -1:
        out.append(text[position:start])
        position = stop + 3
    paragraphs = _blocks(("".join(out) + text[position:]).split("\n"))
    cleaned = "\n\n".join(p for p in paragraphs if has_speakable_content(p))
    logger.debug("Cleaned %d characters into %d (%d paragraphs)", len(text), len(cleaned), len(paragraphs))
    return cleaned


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
) -> Iterator[TextChunk]:
    """Lazily cut cleaned text (see :func:`clean_for_speech`) into chunks to speak one after another.

    The first chunk is the first sentence alone, so the first audio comes fast. Chunk ``k`` packs whole
    sentences up to ``min(max_chars, first_max_chars * growth**k)`` characters and never crosses a
    paragraph break; a sentence longer than that is cut at a clause mark, else a space, else mid-token.
    Work is proportional to what has been consumed, so a 1 MB text yields its first chunk at once.
    """
    if first_max_chars < 1 or max_chars < 1:
        raise ValueError("first_max_chars and max_chars must be at least 1")
    if growth < 1:
        raise ValueError("growth must be at least 1.0")
    return _chunks(text, first_max_chars, max_chars, growth)


def _chunks(text: str, first_max_chars: int, max_chars: int, growth: float) -> Iterator[TextChunk]:
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
        yield TextChunk(piece, end, boundary)
        first = False
        limit_now = min(float(max_chars), limit_now * growth)


def chunk_text(text: str, **kwargs: Any) -> list[TextChunk]:
    """All chunks of ``text`` at once: ``list(iter_chunks(text, **kwargs))``, for callers that want a list."""
    return list(iter_chunks(text, **kwargs))
