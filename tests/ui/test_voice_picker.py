"""The voice picker: grouped, headings never selectable, greyed-out voices, search, and the real catalogue."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from app.services.catalog import catalogue
from app.ui.widgets.voice_picker import (
    BUILT_IN,
    NEEDS_MATCH,
    YOURS,
    VoiceChoice,
    VoicePicker,
    choices_from_catalogue,
)


def _voice(engine: str, voice: str, label: str, **extra) -> VoiceChoice:
    names = {"piper": "Piper", "kokoro": "Kokoro"}
    return VoiceChoice(
        f"{engine}:{voice}", label, BUILT_IN, engine, voice, engine_name=names[engine], **extra
    )


CHOICES = [
    _voice("piper", "joe", "Joe (US English, medium)", language="en-us"),
    _voice("piper", "amy", "Amy (US English)", available=False, note="Amy's weights are not installed."),
    _voice("kokoro", "af_heart", "Heart (US English, female)", language="en-us"),
    _voice("kokoro", "bf_emma", "Emma (British English, female)", language="en-gb"),
    _voice("kokoro", "bm_george", "George (British English, male)", language="en-gb"),
    VoiceChoice("profile:1", "Grandpa", YOURS, "kokoro", "bm_george", profile_id=1),
    VoiceChoice("profile:2", "Me, reading", YOURS, "", "", profile_id=2, available=False, note=NEEDS_MATCH),
]
ROWS = [
    "Built-in voices",
    "Piper",
    "Joe (US English, medium)",
    "Amy (US English)",
    "Kokoro",
    "Heart (US English, female)",
    "Emma (British English, female)",
    "George (British English, male)",
    "Your voices",
    "Grandpa",
    "Me, reading",
]


@pytest.fixture
def picker(qtbot) -> VoicePicker:
    picker = VoicePicker()
    qtbot.addWidget(picker)
    picker.set_choices(CHOICES)
    picker.resize(320, picker.sizeHint().height())
    picker.show()
    qtbot.waitExposed(picker)
    return picker


def _key(picker: VoicePicker) -> str | None:
    choice = picker.current()
    return choice.key if choice is not None else None


def test_groups_and_engine_headings(picker) -> None:
    assert [picker.itemText(row) for row in range(picker.count())] == ROWS
    selectable = [row for row in range(picker.count()) if picker.is_selectable_row(row)]
    assert [picker.itemText(row) for row in selectable] == [
        "Joe (US English, medium)",
        "Heart (US English, female)",
        "Emma (British English, female)",
        "George (British English, male)",
        "Grandpa",
    ]
    assert _key(picker) == "piper:joe"  # the first usable voice, not a heading
    assert picker.lineEdit().text() == "Joe (US English, medium)"


def test_headings_cannot_be_selected_by_code(picker, qtbot) -> None:
    changes: list[object] = []
    picker.choiceChanged.connect(changes.append)
    for heading in ("Built-in voices", "Piper", "Kokoro", "Your voices"):
        picker.setCurrentIndex(ROWS.index(heading))
        assert _key(picker) == "piper:joe"
        assert picker.currentIndex() == ROWS.index("Joe (US English, medium)")
        assert picker.select(heading) is False
    assert picker.select("piper:amy") is False  # greyed out
    assert picker.select("profile:2") is False  # not matched yet
    assert picker.select("nobody:nothing") is False
    assert _key(picker) == "piper:joe"
    assert changes == []

    assert picker.select("profile:1") is True
    assert picker.current() == CHOICES[5]
    assert changes == [CHOICES[5]]


def test_arrow_keys_skip_headings_and_greyed_out_voices(picker, qtbot) -> None:
    line = picker.lineEdit()
    qtbot.keyClick(line, Qt.Key.Key_Down)  # past Amy (off) and the Kokoro heading
    assert _key(picker) == "kokoro:af_heart"
    qtbot.keyClick(line, Qt.Key.Key_Up)
    assert _key(picker) == "piper:joe"
    qtbot.keyClick(line, Qt.Key.Key_Up)  # nothing above Joe but headings: stays
    assert _key(picker) == "piper:joe"

    assert picker.select("kokoro:bm_george")
    qtbot.keyClick(line, Qt.Key.Key_Down)  # past the "Your voices" heading
    assert _key(picker) == "profile:1"
    qtbot.keyClick(line, Qt.Key.Key_Down)  # "Me, reading" is off and last
    assert _key(picker) == "profile:1"
    assert line.text() == "Grandpa"


def test_a_click_on_a_heading_selects_nothing(picker, qtbot) -> None:
    view = picker.view()

    def click(text: str) -> None:
        if not view.isVisible():
            picker.showPopup()
            qtbot.waitUntil(view.isVisible)
            qtbot.wait(QApplication.doubleClickInterval() + 50)  # a release right after opening is ignored
        row = view.visualRect(picker.model().index(ROWS.index(text), 0))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(20, row.center().y()))

    click("Kokoro")
    assert _key(picker) == "piper:joe"
    click("Amy (US English)")
    assert _key(picker) == "piper:joe"
    click("Heart (US English, female)")
    qtbot.waitUntil(lambda: _key(picker) == "kokoro:af_heart", timeout=2000)
    assert not view.isVisible()


def test_greyed_out_voices_say_why(picker) -> None:
    model = picker.model()
    amy = model.index(ROWS.index("Amy (US English)"), 0)
    assert not model.flags(amy) & Qt.ItemFlag.ItemIsEnabled
    assert amy.data(Qt.ItemDataRole.ToolTipRole) == "Amy's weights are not installed."
    me = model.index(ROWS.index("Me, reading"), 0)
    assert me.data(Qt.ItemDataRole.ToolTipRole) == NEEDS_MATCH
    joe = model.index(ROWS.index("Joe (US English, medium)"), 0)
    assert model.flags(joe) & Qt.ItemFlag.ItemIsEnabled


def test_typing_searches_by_substring(picker, qtbot) -> None:
    completer = picker.completer()
    line = picker.lineEdit()
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, "brit")
    qtbot.waitUntil(lambda: completer.popup().isVisible(), timeout=2000)
    found = completer.completionModel()
    names = [found.index(row, 0).data() for row in range(found.rowCount())]
    assert names == ["Emma (British English, female)", "George (British English, male)"]

    qtbot.keyClick(completer.popup(), Qt.Key.Key_Down)
    qtbot.keyClick(completer.popup(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _key(picker) == "kokoro:bf_emma", timeout=2000)
    assert line.text() == "Emma (British English, female)"


def test_search_offers_no_headings_or_greyed_out_voices(picker, qtbot) -> None:
    completer = picker.completer()
    completer.setCompletionPrefix("n")  # in "Built-in voices", "Me, reading", "Grandpa" and more
    found = completer.completionModel()
    names = {found.index(row, 0).data() for row in range(found.rowCount())}
    assert "Built-in voices" not in names and "Me, reading" not in names and "Amy (US English)" not in names
    assert "Joe (US English, medium)" in names and "Grandpa" in names


def test_unfinished_search_text_gives_way_to_the_voice(picker, qtbot) -> None:
    line = picker.lineEdit()
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, "zzz")
    line.editingFinished.emit()
    assert line.text() == "Joe (US English, medium)"
    assert _key(picker) == "piper:joe"


def test_selection_survives_new_choices(picker, qtbot) -> None:
    assert picker.select("kokoro:bf_emma")
    changes: list[object] = []
    picker.choiceChanged.connect(changes.append)

    extra = VoiceChoice("profile:3", "Narrator", YOURS, "piper", "joe", profile_id=3)
    picker.set_choices([*reversed(CHOICES), extra])
    assert _key(picker) == "kokoro:bf_emma"
    assert changes == []

    without_emma = [c for c in CHOICES if c.key != "kokoro:bf_emma"]
    picker.set_choices(without_emma, fallback="kokoro:af_heart")  # gone: the fallback, say a default voice
    assert _key(picker) == "kokoro:af_heart"
    picker.set_choices(without_emma, fallback="piper:joe")  # still there: the fallback is not needed
    assert _key(picker) == "kokoro:af_heart"
    picker.set_choices([c for c in without_emma if c.key != "kokoro:af_heart"], fallback="piper:amy")
    assert _key(picker) == "piper:joe"  # a greyed-out fallback is no use: the first usable voice
    assert [c.key for c in changes] == ["kokoro:af_heart", "piper:joe"]

    picker.set_choices([])
    assert picker.current() is None and picker.count() == 0
    assert changes[-1] is None


def test_choices_from_the_real_catalogue(qtbot) -> None:
    engines = catalogue()
    profiles = [
        SimpleNamespace(
            id=7, name="Grandpa", language=None, preferred_engine="kokoro", preferred_voice="af_heart"
        ),
        SimpleNamespace(id=8, name="Me", language="en-gb", preferred_engine=None, preferred_voice=None),
    ]
    choices = choices_from_catalogue(engines, profiles)
    built_in = [c for c in choices if c.group == BUILT_IN]
    assert len(built_in) == sum(len(e["voices"]) for e in engines)
    by_key = {c.key: c for c in choices}
    for engine in engines:
        for voice in engine["voices"]:
            choice = by_key[f"{engine['id']}:{voice['id']}"]
            assert choice.label == voice["name"] and choice.engine_name == engine["name"]
            assert choice.available == (engine["available"] and voice["available"])

    grandpa = by_key["profile:7"]
    assert (grandpa.group, grandpa.profile_id) == (YOURS, 7)
    assert (grandpa.engine, grandpa.voice) == ("kokoro", "af_heart")
    assert grandpa.language == "en-us"  # from the voice it was matched to
    me = by_key["profile:8"]
    assert not me.available and me.note == NEEDS_MATCH and me.language == "en-gb"
    assert [c.key for c in choices[-2:]] == ["profile:7", "profile:8"]

    picker = VoicePicker()
    qtbot.addWidget(picker)
    picker.set_choices(choices)
    texts = [picker.itemText(row) for row in range(picker.count())]
    assert texts[0] == BUILT_IN and YOURS in texts
    for engine in engines:
        if engine["voices"]:  # a heading per engine that has built-in voices (cloning engines have none)
            assert engine["name"] in texts
    assert not picker.is_selectable_row(texts.index(YOURS))
    if grandpa.available:
        assert picker.select("profile:7")
    assert not picker.select("profile:8")
