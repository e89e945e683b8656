"""Character classes shared by text cleaning and chunking: what is speakable, what ends a sentence."""

from __future__ import annotations

import re

ALNUM = re.compile(r"[^\W_]")
"""A letter or digit in any script: what makes text speakable."""
CLOSERS = frozenset("\"'”’»)]}」』）】〕〉》›")
"""Closing quotes and brackets that may follow sentence punctuation."""
FINAL = frozenset(".!?…:;。！？：；｡")
"""Punctuation that already ends a heading or list item (no full stop needs adding)."""


def has_speakable_content(text: str) -> bool:
    """True when ``text`` holds a letter or digit in any script, i.e. an engine has something to say;
    empty text, whitespace, punctuation, emoji and control characters alone are not speakable."""
    return ALNUM.search(text) is not None
