"""The Models window against a real Hub on a temporary folder, fed by the loopback stand-in for Hugging
Face (tests/engines/hub_server.py): a catalogue of two tiny models, one Apache, one non-commercial."""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPushButton

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engines"))  # the shared fake hub

from hub_server import REPO, FakeHub  # noqa: E402

from app.engines.hub import Hub, ModelSpec  # noqa: E402
from app.services.models import ModelService, size_text  # noqa: E402
from app.ui.dialogs.models import LICENCE, STATUS, ModelsDialog, warning_colour  # noqa: E402

APACHE = ModelSpec(
    id="tiny",
    engine="test",
    repo=REPO,
    description="A tiny test model",
    files=("config.json", "model.bin", "voices/*.pt"),
    required=("config.json", "model.bin"),
    size_bytes=850_000,
    licence="Apache License 2.0",
    licence_url="https://www.apache.org/licenses/LICENSE-2.0",
)
NON_COMMERCIAL = ModelSpec(
    **{
        **APACHE.__dict__,
        "id": "tiny-nc",
        "description": "A tiny model for research only",
        "licence": "Test Non-Commercial Licence",
        "licence_url": "https://example.org/nc-licence",
        "commercial_use": False,
    }
)
CATALOG = {APACHE.id: APACHE, NON_COMMERCIAL.id: NON_COMMERCIAL}
TOTAL = "850 KB"
"""What the fake repository's selected files weigh (config.json, model.bin, voices/a.pt, voices/b.pt)."""
OFFLINE = (
    "Could not reach Hugging Face (the connection was refused). "
    "Check the internet connection; the download can be resumed."
)


@pytest.fixture
def fake(tmp_path: Path):
    folder = tmp_path / "repo"
    folder.mkdir()
    with FakeHub(folder) as server:
        yield server


@pytest.fixture
def hub(fake: FakeHub, tmp_path: Path) -> Hub:
    return Hub(tmp_path / "models", endpoint=fake.endpoint, catalog=CATALOG)


@pytest.fixture
def dialog(qtbot, lane, hub: Hub) -> ModelsDialog:
    window = ModelsDialog(ModelService(hub), lane)
    qtbot.addWidget(window)
    window.show()
    return window


def _status(dialog: ModelsDialog, model_id: str) -> str:
    item = dialog._item(model_id)
    assert item is not None
    return item.text(STATUS)


def _installed(hub: Hub, model_id: str) -> str:
    """The status a model installed from the fake repository shows: its files and its manifest."""
    return f"Installed · {size_text(hub.status(model_id).bytes_on_disk)}"


def _click(qtbot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _answer(qtbot, dialog: ModelsDialog, text: str) -> None:
    box = dialog.confirm_box
    assert box is not None and box.isVisible()
    button = next(b for b in box.buttons() if b.text() == text)
    with qtbot.waitSignal(box.finished, timeout=2000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert dialog.confirm_box is None


def _idle(qtbot, dialog: ModelsDialog) -> None:
    qtbot.waitUntil(lambda: dialog.operation is None, timeout=5000)


def test_the_list_shows_every_model_not_installed_with_its_licence(dialog: ModelsDialog):
    assert dialog.tree.topLevelItemCount() == 2
    assert [dialog.tree.topLevelItem(i).text(0) for i in range(2)] == [
        "A tiny test model",
        "A tiny model for research only",
    ]
    assert _status(dialog, "tiny") == _status(dialog, "tiny-nc") == "Not installed"
    assert dialog.selected_id() == "tiny"
    assert dialog.download_button.isEnabled() and dialog.download_button.text() == "Download"
    assert not dialog.remove_button.isEnabled() and not dialog.verify_button.isEnabled()
    assert not dialog.cancel_button.isVisible() and not dialog.retry_button.isVisible()

    apache, restricted = dialog._item("tiny"), dialog._item("tiny-nc")
    assert apache.text(LICENCE) == "Apache License 2.0" and apache.icon(LICENCE).isNull()
    assert restricted.text(LICENCE) == "Test Non-Commercial Licence"
    assert restricted.data(LICENCE, Qt.ItemDataRole.AccessibleTextRole).endswith("not for commercial use")
    assert not restricted.icon(LICENCE).isNull()
    assert restricted.foreground(LICENCE).color() == warning_colour(dialog.palette())
    assert "may not be used for commercial purposes" in restricted.toolTip(LICENCE)
    dialog.select("tiny-nc")
    assert "not for commercial use" in dialog.licence.text()
    assert "https://example.org/nc-licence" in dialog.licence.text()
    for widget in (dialog.tree, dialog.download_button, dialog.remove_button, dialog.bar, dialog.message):
        assert widget.accessibleName()
    assert "↩" in dialog.download_button.toolTip() and "⌫" in dialog.remove_button.toolTip()


def test_enter_downloads_with_live_byte_progress_then_installed(qtbot, dialog, fake, hub):
    fake.knobs.delay = 0.004  # long enough (~0.25 s) for a few progress updates
    seen: list[tuple[int, str, str]] = []
    dialog.bar.valueChanged.connect(
        lambda value: seen.append((value, dialog.progress_text.text(), _status(dialog, "tiny")))
    )
    with qtbot.waitSignal(dialog.modelsChanged, timeout=5000):
        qtbot.keyClick(dialog.tree, Qt.Key.Key_Return)
        assert dialog.operation == ("download", "tiny") and dialog.cancel_button.isVisible()
        assert dialog.headline.text() == "Downloading tiny…"

    middle = [(text, status) for value, text, status in seen if 0 < value < dialog.bar.maximum()]
    assert middle, "progress arrived before the end"
    assert any(re.fullmatch(rf"\d+ KB of {TOTAL}( · [\d.]+ [KM]B/s · \d+ s left)?", t) for t, _ in middle)
    assert any(re.fullmatch(r"Downloading · \d+%", status) for _, status in middle)
    assert hub.is_installed("tiny")
    assert _status(dialog, "tiny") == _installed(hub, "tiny")
    assert dialog.headline.text() == "Installed tiny."
    assert dialog.bar.value() == dialog.bar.maximum()
    assert not dialog.cancel_button.isVisible()
    assert not dialog.download_button.isEnabled() and dialog.verify_button.isEnabled()


def test_cancel_midway_leaves_a_partial_download_that_resume_completes(qtbot, dialog, fake, hub):
    fake.knobs.delay = 0.02  # about a second for the whole model
    _click(qtbot, dialog.download_button)
    qtbot.waitUntil(lambda: dialog.bar.maximum() and dialog.bar.value() > 250, timeout=5000)
    _click(qtbot, dialog.cancel_button)
    _idle(qtbot, dialog)

    status = _status(dialog, "tiny")
    assert status.startswith("Partly downloaded · ") and status.endswith(" — Resume"), status
    assert dialog.message.text() == "Download of tiny stopped — nothing is lost: it resumes next time."
    assert dialog.download_button.text() == "Resume" and dialog.remove_button.isEnabled()
    assert hub.status("tiny").state == "partial"

    fake.knobs.delay = 0.0
    fake.seen.clear()
    with qtbot.waitSignal(dialog.modelsChanged, timeout=5000):
        _click(qtbot, dialog.download_button)
        assert dialog.headline.text() == "Resuming tiny…"
    assert _status(dialog, "tiny") == _installed(hub, "tiny")
    assert any(s.range and s.range != "bytes=0-" for s in fake.seen), "it picked up where it stopped"
    assert (hub.path("tiny") / "model.bin").read_bytes() == fake.files["model.bin"]


def test_a_non_commercial_model_asks_first_and_refusing_fetches_nothing(qtbot, dialog, fake, hub):
    dialog.select("tiny-nc")
    _click(qtbot, dialog.download_button)
    box = dialog.confirm_box
    assert box is not None and box.isVisible()
    assert "Download tiny-nc?" in box.text() and "may not be used for commercial purposes" in box.text()
    assert '<a href="https://example.org/nc-licence">' in box.text()
    assert sorted(b.text() for b in box.buttons()) == ["Cancel", "Download"]
    assert box.defaultButton().text() == "Cancel"
    _answer(qtbot, dialog, "Cancel")

    qtbot.wait(50)
    assert fake.seen == [], "not even the file list was asked for"
    assert dialog.operation is None and _status(dialog, "tiny-nc") == "Not installed"
    assert not hub.staging("tiny-nc").exists() and not hub.path("tiny-nc").exists()

    _click(qtbot, dialog.download_button)
    with qtbot.waitSignal(dialog.modelsChanged, timeout=5000):
        _answer(qtbot, dialog, "Download")
    assert hub.is_installed("tiny-nc") and _status(dialog, "tiny-nc") == _installed(hub, "tiny-nc")


def test_remove_asks_then_frees_the_folder(qtbot, dialog, hub):
    hub.download("tiny")
    dialog.refresh()
    assert _status(dialog, "tiny") == _installed(hub, "tiny")

    qtbot.keyClick(dialog.tree, Qt.Key.Key_Backspace)
    box = dialog.confirm_box
    frees = size_text(hub.status("tiny").bytes_on_disk)
    assert box is not None and "Remove tiny?" in box.text() and f"This frees {frees}." in box.text()
    _answer(qtbot, dialog, "Cancel")
    assert hub.is_installed("tiny"), "refusing keeps it"

    _click(qtbot, dialog.remove_button)
    with qtbot.waitSignal(dialog.modelsChanged, timeout=5000):
        _answer(qtbot, dialog, "Remove")
    assert not hub.path("tiny").exists() and not hub.staging("tiny").exists()
    assert _status(dialog, "tiny") == "Not installed"
    assert dialog.message.text() == f"Removed tiny: {frees} freed."


def test_verify_reports_intact_files_then_damage(qtbot, dialog, hub):
    hub.download("tiny")
    dialog.refresh()
    _click(qtbot, dialog.verify_button)
    _idle(qtbot, dialog)
    assert dialog.message.text() == "All 4 files of tiny are present and intact."
    assert not dialog.retry_button.isVisible()

    model = hub.path("tiny") / "model.bin"
    model.write_bytes(model.read_bytes()[:1000])
    _click(qtbot, dialog.verify_button)
    _idle(qtbot, dialog)
    assert dialog.message.text() == (
        "tiny is damaged: model.bin has the wrong size. Remove it and download it again."
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_offline_is_said_plainly_in_the_window_with_retry(qtbot, dialog, fake, hub):
    live = hub.endpoint
    hub.endpoint = f"http://127.0.0.1:{_closed_port()}"
    _click(qtbot, dialog.download_button)
    _idle(qtbot, dialog)
    assert dialog.message.text() == OFFLINE
    assert dialog.retry_button.isVisible() and dialog.isVisible()
    assert dialog.confirm_box is None, "no blocking box"
    assert _status(dialog, "tiny") == "Not installed"

    hub.endpoint = live  # the connection is back
    with qtbot.waitSignal(dialog.modelsChanged, timeout=5000):
        _click(qtbot, dialog.retry_button)
    assert _status(dialog, "tiny") == _installed(hub, "tiny")
    assert not dialog.retry_button.isVisible() and not dialog.message.isVisible()


@pytest.mark.parametrize(
    ("knob", "words"),
    [("status", "Hugging Face could not find the repository"), ("corrupt", "arrived damaged")],
)
def test_server_errors_are_plain_sentences(qtbot, dialog, fake, knob, words):
    if knob == "status":
        fake.knobs.status = 404
    else:
        fake.knobs.corrupt = {"model.bin"}
    _click(qtbot, dialog.download_button)
    _idle(qtbot, dialog)
    assert words in dialog.message.text() and "Traceback" not in dialog.message.text()
    assert dialog.retry_button.isVisible()


def test_escape_closes_the_window_and_stops_the_download_keeping_it(qtbot, dialog, fake, hub):
    said: list[str] = []
    dialog.statusMessage.connect(said.append)
    fake.knobs.delay = 0.02
    _click(qtbot, dialog.download_button)
    qtbot.waitUntil(lambda: dialog.bar.maximum() and dialog.bar.value() > 250, timeout=5000)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert said == ["Download of tiny stopped — nothing is lost: it resumes next time."]
    _idle(qtbot, dialog)
    assert hub.status("tiny").state == "partial"
    hub.download("tiny-nc", accept_licence=True)  # meanwhile, on the command line

    dialog.show()  # reopened: what happened shows, and changes made elsewhere too
    assert dialog.message.text() == said[0]
    assert _status(dialog, "tiny").startswith("Partly downloaded · ")
    assert dialog.download_button.text() == "Resume"
    assert _status(dialog, "tiny-nc") == _installed(hub, "tiny-nc")


def test_import_folder_installs_from_disk(qtbot, dialog, fake, hub, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(fake.folder))
    with qtbot.waitSignal(dialog.modelsChanged, timeout=5000):
        _click(qtbot, dialog.import_button)
    assert hub.is_installed("tiny") and fake.seen == []
    assert _status(dialog, "tiny").startswith("Installed · ")
    assert dialog.message.text() == f"Imported tiny into {hub.path('tiny')}."


def test_the_warning_colour_reads_on_dark_and_light(qtbot, dialog):
    from app.ui.theme import dark_palette, light_palette

    assert warning_colour(dark_palette()).name() == "#ff9f0a"
    assert warning_colour(light_palette()).name() == "#b25000"
    dialog.setPalette(dark_palette())
    assert dialog._item("tiny-nc").foreground(LICENCE).color().name() == "#ff9f0a"
    dialog.select("tiny-nc")
    assert "#ff9f0a" in dialog.licence.text()
    dialog.setPalette(light_palette())
    assert dialog._item("tiny-nc").foreground(LICENCE).color().name() == "#b25000"
