"""Tests for app.core.sentence_cuts: where a streamed block may be cut into sentences."""

from __future__ import annotations

import random
import re

from app.core.sentence_cuts import Scan

_CODE = re.compile(r"(`{1,2})([^`]+)\1")


def test_scan_skips_code_spans_exactly_as_markup_pairs_backticks() -> None:
    """Sentence ends are found outside code spans only, with backticks paired as markup pairs them. A
    backtick that nothing has closed yet may still pair with a later one: the scan waits there (the block's
    end decides), so it reports a prefix of the places, and all of them once it has passed the end."""
    rng = random.Random(7)
    complete = 0
    for _ in range(3000):
        text = "".join(rng.choice("``ab .") for _ in range(rng.randint(1, 14))) + " "
        outside = [True] * len(text)
        for match in _CODE.finditer(text):
            outside[match.start() : match.end()] = [False] * (match.end() - match.start())
        expected = [m.end() for m in re.finditer(r"\.+(?= )", text) if outside[m.start()]]
        scan = Scan()
        found = []
        for end in range(1, len(text) + 1):  # grown a character at a time, as a stream grows
            found += scan.advance(text[:end])
        assert found == expected[: len(found)], text
        if scan.pos == len(text):
            complete += 1
            assert found == expected, text
    assert complete > 1000  # many texts are decided to the end: the exact check is not vacuous
