"""What a narrator says for an AI agent's Markdown reply: code blocks mentioned, file paths and identifiers
read as words, everything else read as :func:`app.core.markup.clean_for_speech` reads it.

An agent's reply is full of things an engine reads badly: fenced code ("Code sample omitted." suits a
document, but a listener wants to hear *what* was shown), paths (``app/core/text.py`` read slash by slash)
and identifiers (``getUserName``). :func:`speakable_agent_text` turns them into words.

The reply is read a block at a time: a paragraph, a list item, a heading, a table row or a code block, with
markup's own line rules. Each block is cleaned on its own and becomes its own paragraph of the result, so
list items, headings and rows are always sentences of their own. That also makes the reading the same
whether a reply comes whole or token by token: :class:`app.core.agent_blocks.BlockReader` sorts lines
into blocks with at most one line of look-ahead and can say early what a half-received line will be, which
is what :class:`app.core.segmenter.SpeechSegmenter` needs to hand out sentences while the agent is still
writing.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Literal

# The block reading moved to agent_blocks; its names stay importable from here, where callers found them.
from app.core.agent_blocks import CUT_MARK as CUT_MARK
from app.core.agent_blocks import SENTENCE_END as SENTENCE_END
from app.core.agent_blocks import TRAILERS as TRAILERS
from app.core.agent_blocks import BlockReader
from app.core.agent_blocks import Event as Event
from app.core.agent_blocks import Peek as Peek
from app.core.charsets import CLOSERS, FINAL, has_speakable_content
from app.core.markup import clean_for_speech

logger = logging.getLogger(__name__)

CodeMode = Literal["mention", "silent"]

_BREAKS = {"\x85": "\n", "\u2028": "\n", "\x0b": "\n", "\u2029": "\n\n", "\x0c": "\n\n"}
_CODE = re.compile(r"(`{1,2})([^`]+)\1")  # markup's inline code: the same pairing of backticks
_WRAP = "<i></i>"  # an inline tag markup drops: a block's text can never be mistaken for a list or heading


# ------------------------------------------------------------------------------ paths, identifiers

_EXTENSIONS = {
    **dict.fromkeys(("py", "md", "js", "ts", "sh", "rs", "rb", "kt", "cs", "go", "pt"), None),
    **{"json": "JSON", "jsonl": "JSONL", "yaml": "YAML", "yml": "YAML", "toml": "TOML", "xml": "XML"},
    **{"html": "HTML", "htm": "HTML", "css": "CSS", "txt": "text", "cfg": "config", "ini": "INI"},
    **{"env": "env", "lock": "lock", "log": "log", "csv": "CSV", "tsv": "TSV", "sql": "SQL"},
    **{"jsx": "JSX", "tsx": "TSX", "mjs": "MJS", "cjs": "CJS", "vue": "Vue", "scss": "SCSS"},
    **{"pyi": "PYI", "ipynb": "notebook", "rst": "RST", "zsh": "ZSH", "bash": "bash", "ps1": "PS1"},
    **{"java": "Java", "swift": "Swift", "c": "C", "h": "H", "cpp": "CPP", "hpp": "HPP", "php": "PHP"},
    **{"lua": "Lua", "dart": "Dart", "proto": "proto", "graphql": "GraphQL", "png": "PNG", "jpg": "JPG"},
    **{"jpeg": "JPEG", "gif": "GIF", "svg": "SVG", "webp": "WebP", "pdf": "PDF", "wav": "WAV"},
    **{"mp3": "MP3", "mp4": "MP4", "flac": "FLAC", "ogg": "OGG", "onnx": "ONNX", "pth": "PTH"},
    **{"bin": "bin", "safetensors": "safetensors", "gguf": "GGUF", "npz": "NPZ", "npy": "NPY"},
    **{"pkl": "pickle", "zip": "zip", "gz": "GZ", "tar": "tar", "tgz": "TGZ", "whl": "wheel"},
    **{"exe": "EXE", "dll": "DLL", "so": "SO", "wasm": "WASM", "db": "DB", "sqlite": "SQLite"},
    **{"mod": "mod", "sum": "sum", "gradle": "Gradle", "plist": "plist", "spec": "spec", "patch": "patch"},
}
"""How an engine should say a file extension; None means its letters in capitals (``py`` -> "PY"): engines
spell a short capitalised word, and unlike "P Y" a full stop after it still ends a sentence."""
_DOTFILES = frozenset("env gitignore gitattributes dockerignore editorconfig bashrc zshrc npmrc".split())
# A word of path characters with a slash or an inner dot, maybe ":line:column", then only punctuation.
_PATH = re.compile(
    r"(?<![^\s(\[{<\"'*`])((?:[\w~.+-]*/|[\w~+-]*\.(?=\w))[\w~./+-]*?)(?::(\d+)(?::(\d+))?)?"
    r"(?=[.,;:!?]*(?:[\s)\]}>\"'*`]|$))"
)
_PATH_WHOLE = re.compile(r"([\w~./+-]+?)(?::(\d+)(?::(\d+))?)?")
_ANY_EXTENSION = re.compile(r"[^.].*\.[A-Za-z][A-Za-z0-9]{0,9}")
LINK_STARTS = ("http://", "https://", "ftp://", "www.", "mailto:")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")
_CODE_DOT = re.compile(r"(?<=[\w)\]])\.(?=[^\W\d])")  # "a.b" in code, as markup reads it
_CODE_DROP = str.maketrans(dict.fromkeys("()[]{}<>;`", " "))


def _words(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").split())


def _spoken_path(token: str) -> str | None:
    """A path or file name read as its final name (``app/core/text.py`` -> "text dot PY"), or None when
    ``token`` is not one: it needs a leading ``/``, ``~/``, ``./`` or ``../``, a trailing ``/`` or a final
    name with an extension (a known one when there is no slash), so "and/or", "TCP/IP" and "1/2" stay."""
    if token.lower().startswith(LINK_STARTS):
        return None
    names = [part for part in token.split("/") if part not in ("", ".", "..", "~")]
    if not names or not any(char.isalpha() for char in names[-1]):
        return None
    name = names[-1]
    stem, _, extension = name.rpartition(".")
    known = bool(stem) and extension.lower() in _EXTENSIONS
    dotfile = name.startswith(".") and name[1:].lower() in _DOTFILES
    if "/" in token:
        folder = token.endswith("/") and len(name) > 1
        if not (token.startswith(("/", "~/", "./", "../")) or folder or _ANY_EXTENSION.fullmatch(name)):
            return None
    elif not (known or dotfile):
        return None
    parts = name.split(".")
    spoken = [_words(parts[0])] if parts[0] else []
    for part in parts[1:]:
        said = _EXTENSIONS.get(part.lower(), "") if part.lower() in _EXTENSIONS else _words(part)
        spoken.append("dot " + (said or part.upper()))
    text = " ".join(word for word in spoken if word)
    if (token[0].isupper() or token[0].isdigit()) and text[:1].islower():
        text = text[0].upper() + text[1:]  # a sentence that starts with a path still starts with a capital
    return text


def _path_words(match: re.Match[str]) -> str:
    spoken = _spoken_path(match.group(1))
    if spoken is None:
        return match.group()
    if match.group(2):
        spoken += f", line {match.group(2)}" + (f", column {match.group(3)}" if match.group(3) else "")
    return spoken


def _identifier_words(token: str) -> str:
    """``getUserName`` -> "get user name", ``HTTPServer`` -> "HTTP server", ``obj.method()`` -> "obj dot
    method", ``snake_case`` -> "snake case"."""
    token = _CODE_DOT.sub(" dot ", token).replace("/", " slash ").replace("_", " ")
    words: list[str] = []
    for word in token.translate(_CODE_DROP).split():
        parts = _CAMEL.findall(word) if word.isascii() and word.isalnum() else []
        if len(parts) > 1 and "".join(parts) == word:
            words += [part if part.isupper() else part.lower() for part in parts]
        else:
            words.append(word)
    return " ".join(words)


def _code_words(code: str) -> str:
    """Inline code read aloud word by word: paths as names, identifiers split into words."""
    stripped = code.strip()
    if not stripped or stripped.lower().startswith(LINK_STARTS) or "@" in stripped:
        return code  # left for markup's URL and e-mail reading
    words = []
    for token in stripped.split():
        path = _PATH_WHOLE.fullmatch(token)
        words.append(_path_words(path) if path and _spoken_path(path.group(1)) else _identifier_words(token))
    return " ".join(word for word in words if word) or " "


def _prose_words(text: str) -> str:
    return _PATH.sub(_path_words, text) if "/" in text or "." in text else text


def speak_text(text: str) -> str:
    """One block's text (a single line of inline Markdown) as plain spoken sentences: paths and inline
    code read as words, then :func:`clean_for_speech`. Cleaning two halves cut at a space outside code,
    links and tags gives the two halves of the whole, which the segmenter relies on."""
    if "`" in text:
        out, position = [], 0
        for match in _CODE.finditer(text):  # kept as code (same backticks), so markup pairs them alike
            out += [_prose_words(text[position : match.start()]), match[1], _code_words(match[2]), match[1]]
            position = match.end()
        text = "".join(out) + _prose_words(text[position:])
    else:
        text = _prose_words(text)
    return clean_for_speech(_WRAP + text + _WRAP) if text.strip() else ""


def finish(spoken: str, *, capitalise: bool = False, terminate: bool = False) -> str:
    """Markup's reading of a list item, row or heading: an all-lowercase first word capitalised, a full
    stop (。 after CJK) added when the text does not end with one, so it is read as a sentence."""
    if not spoken:
        return spoken
    first = spoken.split(" ", 1)[0].rstrip("".join(FINAL | CLOSERS) + ",")
    if capitalise and first.isalpha() and first.islower():
        spoken = spoken[0].upper() + spoken[1:]
    core = spoken.rstrip("".join(CLOSERS))
    if terminate and core and core[-1] not in FINAL and has_speakable_content(spoken):
        spoken += "。" if unicodedata.east_asian_width(core[-1]) in "WF" else "."
    return spoken


# ------------------------------------------------------------------------------------------ code blocks

_SHELL = "sh bash shell zsh fish ksh console terminal shell-session sh-session cmd bat powershell ps1 pwsh"
_THINGS = {
    **dict.fromkeys(_SHELL.split(), "a shell command"),
    **dict.fromkeys(("json", "jsonc", "json5", "jsonl"), "some JSON"),
    **dict.fromkeys(("yaml", "yml"), "some YAML"),
    **dict.fromkeys(("html", "htm", "xhtml"), "some HTML"),
    **dict.fromkeys(("css", "scss", "sass", "less"), "some CSS"),
    **dict.fromkeys(("ini", "cfg", "conf", "config", "properties"), "some configuration"),
    **dict.fromkeys(("diff", "patch", "udiff"), "a diff"),
    **dict.fromkeys(("md", "markdown", "mdx"), "some Markdown"),
    **dict.fromkeys(("text", "txt", "plain", "plaintext"), "some text"),
    **dict.fromkeys(("output", "log", "logs", "stdout", "stderr"), "some output"),
    **dict.fromkeys(("sql", "psql", "mysql", "sqlite", "postgresql", "postgres"), "some SQL"),
    **dict.fromkeys(("dockerfile", "docker", "containerfile"), "a Dockerfile"),
    **dict.fromkeys(("makefile", "make", "mk"), "a Makefile"),
    **{"toml": "some TOML", "xml": "some XML", "csv": "some table data", "env": "some environment settings"},
    **{"mermaid": "a diagram", "graphql": "a GraphQL query", "regex": "a regular expression"},
}
_LANGUAGES = {
    **dict.fromkeys(("py", "python", "python3", "py3", "pycon", "ipython", "pyi"), "Python"),
    **dict.fromkeys(("js", "javascript", "node", "nodejs", "mjs", "cjs", "jsx"), "JavaScript"),
    **dict.fromkeys(("ts", "typescript", "tsx", "mts", "cts"), "TypeScript"),
    **dict.fromkeys(("cpp", "c++", "cxx", "cc", "hpp", "hh"), "C plus plus"),
    **dict.fromkeys(("cs", "csharp", "c#"), "C sharp"),
    **dict.fromkeys(("objc", "objectivec", "objective-c"), "Objective-C"),
    **{"rust": "Rust", "rs": "Rust", "go": "Go", "golang": "Go", "java": "Java", "kotlin": "Kotlin"},
    **{"kt": "Kotlin", "c": "C", "h": "C", "swift": "Swift", "ruby": "Ruby", "rb": "Ruby", "php": "PHP"},
    **{"scala": "Scala", "lua": "Lua", "r": "R", "dart": "Dart", "elixir": "Elixir", "ex": "Elixir"},
    **{"haskell": "Haskell", "hs": "Haskell", "perl": "Perl", "pl": "Perl", "julia": "Julia", "zig": "Zig"},
    **{"ocaml": "OCaml", "clojure": "Clojure", "vue": "Vue", "svelte": "Svelte", "tf": "Terraform"},
    **{"terraform": "Terraform", "hcl": "Terraform", "nix": "Nix", "matlab": "Matlab", "asm": "assembly"},
    **{"latex": "LaTeX", "tex": "LaTeX", "cmake": "CMake", "cuda": "CUDA", "proto": "Protocol Buffers"},
}


def _article(name: str) -> str:
    """ "a" or "an" before ``name``, by sound: "an R", "an SQL", "a C", "an Elixir"."""
    first = name.split()[0]
    spelled = first.isupper() or len(first) == 1
    return "an" if name[0].upper() in ("AEFHILMNORSX" if spelled else "AEIOU") else "a"


def code_mention(info: str) -> str:
    """What to say for a fenced code block with info string ``info`` ("python", "py title=x.py",
    "{.bash}", "app/main.py"): "Here is a Python code sample.", "Here is a shell command.", "Here is a
    diff.", or "Here is a code sample." when the language is not given or not recognised."""
    found = re.search(r"[\w+#./-]+", info)
    word = found.group().lstrip(".").split(":")[0].lower() if found else ""
    word = word.removeprefix("language-")
    if "/" in word or ("." in word and word not in _LANGUAGES):
        word = word.rsplit(".", 1)[-1] if "." in word else ""
    if word in _THINGS:
        return f"Here is {_THINGS[word]}."
    name = _LANGUAGES.get(word)
    if name is None and found and re.fullmatch(r"[a-z][a-z0-9+#-]{0,19}", word) and word not in _EXTENSIONS:
        name = word.capitalize()
    return f"Here is {_article(name)} {name} code sample." if name else "Here is a code sample."


def speak_block(kind: str, text: str, *, setext: bool = False, code: CodeMode = "mention") -> str:
    """The spoken paragraph for a block: ``kind`` "text" (a paragraph; ``setext`` when it is a heading
    underlined with === or ---), "item", "heading", "row" (the table line) or "code" (its info string)."""
    if kind == "code":
        return code_mention(text) if code == "mention" else ""
    if kind == "row":
        text = ", ".join(cell for cell in (part.strip() for part in text.strip("|").split("|")) if cell)
    return finish(
        speak_text(text),
        capitalise=kind in ("item", "row"),
        terminate=kind != "text" or setext,
    )


# ------------------------------------------------------------------------------------------ whole replies


def prepare(text: str) -> str:
    """Line breaks made plain (CR LF, CR, line and paragraph separators) and control and invisible format
    characters (zero-width spaces, byte order marks) dropped, so lines split where markup splits them."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(structure_table(text))


def structure_table(text: str) -> dict[int, str | None]:
    """A ``str.translate`` table for :func:`prepare`, built from the distinct characters of ``text``."""
    table: dict[int, str | None] = {}
    for char in set(text):
        if char in _BREAKS:
            table[ord(char)] = _BREAKS[char]
        elif char not in "\n\t" and unicodedata.category(char) in ("Cc", "Cf"):
            table[ord(char)] = None
    return table


def strip_comments(text: str) -> str:
    """``<!-- comments -->`` removed exactly as clean_for_speech removes them (an unclosed one stays)."""
    out, position = [], 0
    while (start := text.find("<!--", position)) != -1 and (stop := text.find("-->", start + 4)) != -1:
        out.append(text[position:start])
        position = stop + 3
    return "".join(out) + text[position:]


def speakable_agent_text(markdown: str, *, code: CodeMode = "mention") -> str:
    """An agent's Markdown reply as plain text to speak, one paragraph per block.

    Fenced code blocks (``` or ~~~, also one left open at the end) become a mention naming the language
    ("Here is a Python code sample.") or, with ``code="silent"``, nothing. Paths are read as their final
    name and file names with their extension said the way an engine says it well (``app/core/text.py:42``
    -> "text dot P Y, line 42"); inline code identifiers are split into words (``getUserName`` -> "get
    user name", ``obj.method()`` -> "obj dot method"). The rest is read as :func:`clean_for_speech` reads
    it: markup dropped, links reduced to their text and bare URLs to "a link to <host>", list items,
    headings and table rows made sentences. Blocks are separated by a blank line (``"\\n\\n"``).
    """
    if code not in ("mention", "silent"):
        raise ValueError(f"code must be 'mention' or 'silent', not {code!r}")
    reader = BlockReader()
    paragraphs: list[str] = []
    kind, lines = "text", []
    for line in [*strip_comments(prepare(markdown)).split("\n"), None]:
        for event in reader.push(line) if line is not None else reader.end():
            if event[0] == "open":
                kind, lines = event[1], []
            elif event[0] == "add":
                lines.append(event[1])
            elif event[0] == "end":
                paragraphs.append(speak_block(kind, " ".join(lines), setext=event[1] == "setext"))
            else:
                paragraphs.append(speak_block(event[1], event[2], code=code))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)
