"""The History panel on a real library (SQLite and WAV files in TIMBRE_HOME), driven by keys and mouse."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from app.services.history import HistoryService
from app.storage.library import Library, NotFoundError
from app.ui.widgets.history import EMPTY_LIBRARY, NO_FILTER_MATCH, HistoryPanel, nothing_matches
from app.ui.widgets.history_model import (
    PAGE_SIZE,
    DurationRole,
    FavouriteRole,
    IdRole,
    VoiceRole,
    WhenRole,
    format_duration,
    format_when,
)


@pytest.fixture
def library(timbre_home):
    lib = Library()
    yield lib
    lib.close()


@pytest.fixture
def wav(tmp_path):
    """One short real WAV, copied for each generation (writing hundreds with soundfile is slower)."""
    path = tmp_path / "tone.wav"
    sf.write(path, (0.1 * np.sin(np.arange(2205) / 5)).astype(np.float32), 22050)
    return path


@pytest.fixture
def save(library, wav):
    def save(text, *, voice="joe", engine="piper", duration=1.0, favourite=False, created_at=None):
        path = library.new_generation_path()
        shutil.copyfile(wav, path)
        return library.add_generation(
            path,
            text=text,
            engine=engine,
            voice=voice,
            duration=duration,
            sample_rate=22050,
            favourite=favourite,
            created_at=created_at,
        )

    return save


@pytest.fixture
def make_panel(qtbot, library):
    def make() -> HistoryPanel:
        panel = HistoryPanel(HistoryService(library))
        qtbot.addWidget(panel)
        panel.resize(640, 480)
        panel.show()
        panel.activateWindow()
        qtbot.waitExposed(panel)
        return panel

    return make


def _texts(panel: HistoryPanel) -> list[str]:
    model = panel.view.model()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def _focus_list(qtbot, panel: HistoryPanel) -> None:
    panel.view.setFocus()
    qtbot.waitUntil(lambda: panel.view.hasFocus())


def test_rows_come_newest_first_with_text_voice_duration_and_date(make_panel, save) -> None:
    save("The first thing I said", voice="joe", duration=5)
    save("A second line\nover two lines", voice="amy", duration=75.4)
    last = save("The newest one", voice="lessac", engine="kokoro", duration=3725, favourite=True)
    panel = make_panel()
    model = panel.view.model()
    assert _texts(panel) == ["The newest one", "A second line over two lines", "The first thing I said"]
    first, second = model.index(0, 0), model.index(1, 0)
    assert first.data(IdRole) == last.id and first.data(VoiceRole) == "lessac" and first.data(FavouriteRole)
    assert first.data(DurationRole) == "1:02:05" and second.data(DurationRole) == "1:15"
    assert first.data(WhenRole).startswith("Today ")
    assert "A second line\nover two lines" in second.data(Qt.ItemDataRole.ToolTipRole)
    assert panel.count.text() == "3 generations"
    assert panel.stack.currentWidget() is panel.view
    assert panel.engine.itemText(0) == "All engines" and panel.voice.itemText(0) == "All voices"
    assert {panel.engine.itemText(i) for i in range(1, panel.engine.count())} == {"kokoro", "piper"}
    assert {panel.voice.itemText(i) for i in range(1, panel.voice.count())} == {"amy", "joe", "lessac"}


def test_typing_in_the_search_field_filters_live(qtbot, make_panel, save) -> None:
    save("The weather is lovely today")
    save("Meeting at noon")
    save("Whether or not")
    panel = make_panel()
    with qtbot.assertNotEmitted(panel.playRequested):  # Space types a space here; it plays only in the list
        qtbot.keyClicks(panel.search, "the weath")
    qtbot.waitUntil(lambda: _texts(panel) == ["The weather is lovely today"])
    assert panel.search.text() == "the weath" and panel.count.text() == "1 match"
    qtbot.keyClick(panel.search, Qt.Key.Key_Down)  # walks into the results
    assert panel.view.hasFocus() and panel.selected_id() is not None
    chosen = panel.selected_id()
    panel.search.setFocus()
    qtbot.keyClick(panel.search, Qt.Key.Key_Escape)  # clears the search
    qtbot.waitUntil(lambda: len(_texts(panel)) == 3)
    assert panel.count.text() == "3 generations" and panel.selected_id() == chosen


def test_ctrl_f_focuses_search_and_letters_typed_in_the_list_go_there(qtbot, make_panel, save) -> None:
    save("Something to say")
    panel = make_panel()
    _focus_list(qtbot, panel)
    qtbot.keyClick(panel.view, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: panel.search.hasFocus())
    assert panel.search.text() == "s"
    _focus_list(qtbot, panel)
    qtbot.keyClick(panel.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.search.hasFocus())
    assert panel.search.selectedText() == "s"


def test_favourites_filter(qtbot, make_panel, save) -> None:
    save("plain one")
    save("loved one", favourite=True)
    save("plain two")
    save("loved two", favourite=True)
    panel = make_panel()
    qtbot.mouseClick(panel.favourites, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _texts(panel) == ["loved two", "loved one"])
    assert panel.count.text() == "2 generations"
    qtbot.mouseClick(panel.favourites, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(_texts(panel)) == 4)


def test_engine_voice_and_date_filters(qtbot, make_panel, save) -> None:
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).isoformat()
    save("from piper", engine="piper", voice="joe", created_at=long_ago)
    save("from kokoro", engine="kokoro", voice="heart")
    save("kokoro again", engine="kokoro", voice="bella")
    panel = make_panel()
    panel.engine.setCurrentIndex(panel.engine.findData("kokoro"))
    assert _texts(panel) == ["kokoro again", "from kokoro"]
    panel.voice.setCurrentIndex(panel.voice.findData("heart"))
    assert _texts(panel) == ["from kokoro"]
    panel.engine.setCurrentIndex(0)
    panel.voice.setCurrentIndex(0)
    panel.date.setCurrentIndex(panel.date.findText("Past 30 days"))
    assert _texts(panel) == ["kokoro again", "from kokoro"]
    panel.date.setCurrentIndex(panel.date.findText("Today"))
    assert len(_texts(panel)) == 2
    panel.engine.setCurrentIndex(panel.engine.findData("piper"))
    assert _texts(panel) == [] and panel.empty.text() == NO_FILTER_MATCH
    assert panel.stack.currentWidget() is panel.empty


def test_delete_key_removes_the_row_and_undo_brings_it_back(qtbot, make_panel, save, library) -> None:
    keep = save("keep me")
    doomed = save("delete me")
    panel = make_panel()
    assert panel.select(doomed.id)
    _focus_list(qtbot, panel)
    qtbot.keyClick(panel.view, Qt.Key.Key_Delete)
    assert _texts(panel) == ["keep me"]
    assert panel.selected_id() == keep.id  # the selection moves to the neighbour
    with pytest.raises(NotFoundError):
        library.get(doomed.id)
    assert panel.undo_bar.isVisible() and "delete me" in panel.undo_label.text()
    assert panel.count.text() == "1 generation"

    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert _texts(panel) == ["delete me", "keep me"]
    assert library.get(doomed.id).deleted_at is None
    assert panel.selected_id() == doomed.id and not panel.undo_bar.isVisible()

    # Backspace deletes too, and ⌘Z (Ctrl+Z here) undoes while the list has focus.
    _focus_list(qtbot, panel)
    qtbot.keyClick(panel.view, Qt.Key.Key_Backspace)
    assert _texts(panel) == ["keep me"]
    qtbot.keyClick(panel.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _texts(panel) == ["delete me", "keep me"])
    assert library.get(doomed.id).id == doomed.id


def test_undo_bar_goes_away_by_itself(qtbot, make_panel, save) -> None:
    save("short lived")
    panel = make_panel()
    panel._undo_timer.setInterval(50)  # the real 8 s would slow the suite; the timer is what is tested
    panel.select(panel.view.model().index(0, 0).data(IdRole))
    panel.delete_action.trigger()
    assert panel.undo_bar.isVisible()
    assert panel.empty.text() == EMPTY_LIBRARY
    qtbot.waitUntil(lambda: not panel.undo_bar.isVisible(), timeout=2000)


def test_f_key_toggles_favourite_in_the_database(qtbot, make_panel, save, library) -> None:
    generation = save("a keeper")
    panel = make_panel()
    panel.select(generation.id)
    _focus_list(qtbot, panel)
    qtbot.keyClick(panel.view, Qt.Key.Key_F)
    assert library.get(generation.id).favourite
    assert panel.view.model().index(0, 0).data(FavouriteRole) and panel.favourite_action.isChecked()
    qtbot.keyClick(panel.view, Qt.Key.Key_F)
    assert not library.get(generation.id).favourite
    assert not panel.view.model().index(0, 0).data(FavouriteRole)


def test_space_and_return_play_the_selected_generation(qtbot, make_panel, save) -> None:
    first = save("first")
    save("second")
    panel = make_panel()
    _focus_list(qtbot, panel)
    qtbot.keyClick(panel.view, Qt.Key.Key_Home)
    qtbot.keyClick(panel.view, Qt.Key.Key_Down)
    assert panel.selected_id() == first.id
    with qtbot.waitSignal(panel.playRequested, timeout=1000) as played:
        qtbot.keyClick(panel.view, Qt.Key.Key_Space)
    assert played.args == [first.id]
    with qtbot.waitSignal(panel.playRequested, timeout=1000) as played:
        qtbot.keyClick(panel.view, Qt.Key.Key_Return)
    assert played.args == [first.id]


def test_double_click_shows_in_timeline_and_buttons_emit(qtbot, make_panel, save) -> None:
    generation = save("show me")
    panel = make_panel()
    rect = panel.view.visualRect(panel.view.model().index(0, 0))
    with qtbot.waitSignal(panel.showRequested, timeout=1000) as shown:
        # QTest's double-click is the second click only; a real one starts with a press on the same row.
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert shown.args == [generation.id]
    with qtbot.waitSignal(panel.regenerateRequested, timeout=1000) as regenerated:
        panel.regenerate_action.trigger()
    assert regenerated.args == [generation.id]
    with qtbot.waitSignal(panel.exportRequested, timeout=1000) as exported:
        panel.export_action.trigger()
    assert exported.args == [generation.id]
    _focus_list(qtbot, panel)
    qtbot.keyClick(panel.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "show me"


def test_actions_are_disabled_without_a_selection(make_panel, save) -> None:
    save("nothing selected")
    panel = make_panel()
    assert panel.selected_id() is None
    assert not panel.play_action.isEnabled() and not panel.delete_action.isEnabled()
    panel.select(panel.view.model().index(0, 0).data(IdRole))
    assert panel.play_action.isEnabled() and panel.delete_action.isEnabled()


def test_add_generation_puts_the_new_row_on_top_selected(qtbot, make_panel, save) -> None:
    save("older")
    panel = make_panel()
    new = save("brand new", engine="kokoro", voice="heart")
    panel.add_generation(new)
    assert _texts(panel) == ["brand new", "older"]
    assert panel.selected_id() == new.id
    assert panel.engine.findData("kokoro") > 0 and panel.voice.findData("heart") > 0
    assert panel.count.text() == "2 generations"

    qtbot.keyClicks(panel.search, "older")
    qtbot.waitUntil(lambda: _texts(panel) == ["older"])
    unrelated = save("something else")
    panel.add_generation(unrelated)
    assert _texts(panel) == ["older"]


def test_reload_keeps_search_filters_and_selection(make_panel, save, library) -> None:
    a = save("alpha")
    save("beta")
    panel = make_panel()
    panel.select(a.id)
    library.delete(panel.view.model().index(0, 0).data(IdRole))  # changed behind the panel's back
    panel.reload()
    assert _texts(panel) == ["alpha"] and panel.selected_id() == a.id


def test_pages_are_fetched_lazily_as_the_list_scrolls(qtbot, make_panel, save) -> None:
    for i in range(350):
        save(f"line number {i}")
    panel = make_panel()
    model = panel.view.model()
    assert model.rowCount() == PAGE_SIZE and model.canFetchMore()
    assert panel.count.text() == "350 generations"
    panel.view.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE_SIZE)
    for _ in range(5):
        panel.view.scrollToBottom()
        qtbot.wait(10)
    qtbot.waitUntil(lambda: model.rowCount() == 350)
    assert not model.canFetchMore()
    texts = _texts(panel)
    assert texts[0] == "line number 349" and texts[-1] == "line number 0" and len(set(texts)) == 350


def test_fetching_after_a_delete_skips_nothing_and_repeats_nothing(qtbot, make_panel, save) -> None:
    for i in range(150):
        save(f"row {i}")
    panel = make_panel()
    model = panel.view.model()
    panel.select(model.index(5, 0).data(IdRole))
    panel.delete_action.trigger()
    assert model.rowCount() == PAGE_SIZE - 1
    model.fetchMore()
    texts = _texts(panel)
    assert len(texts) == 149 and len(set(texts)) == 149 and "row 144" not in texts


def test_empty_states(qtbot, make_panel, save) -> None:
    panel = make_panel()
    assert panel.stack.currentWidget() is panel.empty
    assert panel.empty.text() == EMPTY_LIBRARY and EMPTY_LIBRARY.startswith("No generations yet.")
    assert panel.count.text() == "0 generations"
    panel.add_generation(save("hello there"))
    assert panel.stack.currentWidget() is panel.view
    qtbot.keyClicks(panel.search, "zebra")
    qtbot.waitUntil(lambda: panel.stack.currentWidget() is panel.empty)
    assert panel.empty.text() == nothing_matches("zebra") == "Nothing matches “zebra”."


def test_errors_are_signalled_not_raised(qtbot, make_panel, save, library) -> None:
    generation = save("gone elsewhere")
    panel = make_panel()
    panel.select(generation.id)
    library.delete(generation.id)  # e.g. `timbre history delete` in a terminal
    with qtbot.waitSignal(panel.errorRaised, timeout=1000) as error:
        panel.favourite_action.trigger()
    assert error.args == [f"There is no generation {generation.id} in the library."]
    assert _texts(panel) == []  # the list now shows the library as it is


def test_formatting_of_durations_and_dates() -> None:
    assert [format_duration(s) for s in (0, 4.4, 59.6, 75, 3599, 3600)] == [
        "0:00",
        "0:04",
        "1:00",
        "1:15",
        "59:59",
        "1:00:00",
    ]
    now = dt.datetime(2025, 11, 20, 15, 0).astimezone()

    def stored(local: dt.datetime) -> str:
        return local.astimezone().astimezone(dt.UTC).isoformat()

    assert format_when(stored(dt.datetime(2025, 11, 20, 14, 2)), now) == "Today 14:02"
    assert format_when(stored(dt.datetime(2025, 11, 19, 9, 30)), now) == "Yesterday"
    assert format_when(stored(dt.datetime(2025, 11, 12, 10, 0)), now) == "12 Nov"
    assert format_when(stored(dt.datetime(2024, 3, 5, 10, 0)), now) == "5 Mar 2024"
