"""Markup, links, emoji and odd characters turned into plain sentences an engine reads well.

:func:`clean_for_speech` is the first step of text preparation (:mod:`app.core.text` chunks its output).
Everything here is linear in the input: regexes stop at the next delimiter, nothing rescans.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata

from app.core.charsets import CLOSERS as _CLOSERS
from app.core.charsets import FINAL as _FINAL
from app.core.charsets import has_speakable_content

logger = logging.getLogger(__name__)

_CHAR_MAP = {
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2039\u203a\u2032", "'"),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2212\u2043", "-"),
    **dict.fromkeys("\u2015\u2e3a\u2e3b", "\u2014"),
    # Symbols a reader says aloud; the rest of the symbol categories (emoji, ©, ™) are dropped below.
    **{"°": " degrees ", "℃": " degrees Celsius ", "℉": " degrees Fahrenheit "},
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
LIST_ITEM = re.compile(r"\s*(?:[-*+•]|(\d{1,3})[.)])\s+(.*)")
_TASK_BOX = re.compile(r"\[[ xX]\]\s+")
REF_DEF = re.compile(r"\s*\[[^\[\]]+\]:\s*\S")


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


def unquote(line: str) -> str:
    """``line`` without leading whitespace and blockquote markers (``> > text`` -> ``text``)."""
    line = line.lstrip()
    while line.startswith(">"):
        line = line[1:].lstrip()
    return line


def fence(line: str) -> tuple[str, bool] | None:
    """(fence such as "````", bare?) when ``line`` opens or closes a ``` or ~~~ code block, else None. A
    bare fence ``f`` closes an opening fence ``o`` exactly when ``f.startswith(o)``."""
    stripped = line.strip()
    if stripped[:3] not in ("```", "~~~"):
        return None
    info = stripped.lstrip(stripped[0])
    if stripped[0] == "`" and "`" in info:
        return None  # ```code``` on one line is inline code
    return stripped[: len(stripped) - len(info)], not info.strip()


def atx_heading(line: str) -> str | None:
    """The title of a ``# Title`` heading (closing hashes removed), or None when ``line`` is not one."""
    stripped = line.strip()
    level = len(stripped) - len(stripped.lstrip("#"))
    if not 1 <= level <= 6 or (len(stripped) > level and not stripped[level].isspace()):
        return None
    body = stripped[level:].strip()
    trimmed = body.rstrip("#")
    return trimmed.strip() if not trimmed or trimmed[-1].isspace() else body


def rule_char(stripped: str) -> str | None:
    """The character of a horizontal rule or setext underline (``---``, ``***``, ``===``), else None."""
    compact = stripped.replace(" ", "")
    return compact[0] if len(compact) >= 3 and compact[0] in "-*_=" and len(set(compact)) == 1 else None


def is_table_separator(stripped: str) -> bool:
    """True for the ``|---|:---:|`` line under a table header."""
    return "|" in stripped and "-" in stripped and not set(stripped) - set("|-: ")


def _blocks(lines: list[str]) -> list[str]:
    """Block-level Markdown read line by line into paragraphs of single-spaced, inline-cleaned text."""
    count = len(lines)
    # Longest closing fence of each kind after each line, so an unclosed fence is known without rescanning.
    longest_after: list[dict[str, int]] = [{}] * count
    for index in range(count - 1, 0, -1):
        closing, seen = fence(unquote(lines[index])), longest_after[index]
        if closing and closing[1] and len(closing[0]) > seen.get(closing[0][0], 0):
            seen = {**seen, closing[0][0]: len(closing[0])}
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
        line = unquote(lines[index])
        stripped = line.strip()
        index += 1
        opening = fence(line) if stripped else None
        if not stripped:
            flush_paragraph()
        elif opening and longest_after[index - 1].get(opening[0][0], 0) >= len(opening[0]):
            flush_paragraph()
            while not ((end := fence(unquote(lines[index]))) and end[1] and end[0].startswith(opening[0])):
                index += 1
            index += 1
            paragraphs.append("Code sample omitted.")
        elif (title := atx_heading(line)) is not None:
            flush_paragraph()
            if title := _inline(title):
                paragraphs.append(_terminate(title))
        elif rule := rule_char(stripped):
            if rule in "=-" and piece and kind == "text" and not parts:  # setext heading underline
                title, piece = _inline(" ".join(piece)), []
                parts.append(_terminate(title) if title else "")
            flush_paragraph()
        elif "|" in stripped and (
            stripped[0] == "|"
            or stripped[-1] == "|"
            or kind == "row"
            or (index < count and is_table_separator(lines[index].strip()))
        ):
            if not is_table_separator(stripped):
                flush_piece()
                cells = (cell.strip() for cell in stripped.strip("|").split("|"))
                piece, kind = [", ".join(cell for cell in cells if cell)], "row"
        elif REF_DEF.match(line):
            continue
        elif (item := LIST_ITEM.match(line)) and (
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
