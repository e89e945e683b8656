"""Narrate Agent Output in the app: a real window and tray menu, real Piper on the inference lane, a real
stream file written while it is followed; and the lane executor narration runs its synthesis through."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app import settings
from app.core.errors import CancelledError, TimbreError

STREAMS = Path(__file__).resolve().parents[1] / "data" / "agent_streams"
CLAUDE_WHOLE = (STREAMS / "claude_whole.jsonl").read_bytes().splitlines(keepends=True)


# --- the lane executor --------------------------------------------------------------------------------
@pytest.fixture
def executor(lane):
    from app.ui.lane_executor import LaneExecutor

    pool = LaneExecutor(lane, "Probe")
    yield pool
    pool.shutdown(wait=False, cancel_futures=True)


def _lane_thread(qtbot, lane) -> int:
    """The ident of the lane's one thread, from a job of its own."""
    seen: list[int] = []
    lane.submit("where", lambda _ctx: threading.get_ident(), on_done=seen.append)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    return seen[0]


def test_results_and_errors_come_back_through_the_future(qtbot, lane, executor) -> None:
    started: list[str] = []
    lane.jobStarted.connect(lambda job: started.append(job.name))
    good = executor.submit(lambda a, b=0: a * 10 + b, 4, b=2)
    bad = executor.submit(lambda: {}["missing"])
    plain = executor.submit(_raise, TimbreError("The voice 'zz' is not installed."))
    qtbot.waitUntil(lambda: good.done() and bad.done() and plain.done(), timeout=5000)
    assert good.result() == 42
    assert isinstance(bad.exception(), KeyError)
    assert str(plain.exception()) == "The voice 'zz' is not installed."
    assert started == ["Probe", "Probe", "Probe"]
    qtbot.waitUntil(lambda: not lane.busy, timeout=5000)


def _raise(exc: BaseException) -> None:
    raise exc


def test_calls_from_another_thread_run_on_the_lane_in_order(qtbot, lane, executor) -> None:
    lane_thread = _lane_thread(qtbot, lane)
    ran: list[tuple[int, int]] = []
    futures: list[concurrent.futures.Future] = []

    def submit_all() -> None:  # like the narrator: a plain Python thread, no event loop of Qt's
        for n in range(5):
            futures.append(executor.submit(lambda n=n: ran.append((n, threading.get_ident())) or n))

    submitter = threading.Thread(target=submit_all)
    submitter.start()
    submitter.join(5)
    qtbot.waitUntil(lambda: len(futures) == 5 and all(f.done() for f in futures), timeout=5000)
    assert [f.result() for f in futures] == [0, 1, 2, 3, 4]
    assert [n for n, _ in ran] == [0, 1, 2, 3, 4]
    assert {ident for _, ident in ran} == {lane_thread}
    assert lane_thread not in (threading.get_ident(), submitter.ident)


def test_a_job_cancelled_before_it_ran_resolves_with_cancelled_error(qtbot, lane, executor) -> None:
    release = threading.Event()
    blocker = lane.submit("blocker", lambda _ctx: release.wait(10))
    future = executor.submit(lambda: "never")
    qtbot.waitUntil(lambda: len(lane.jobs) == 2, timeout=5000)  # handed to the lane, queued behind
    lane.cancel_all()
    release.set()
    qtbot.waitUntil(future.done, timeout=5000)
    assert not future.cancelled()  # never Future.cancel(): asyncio would cancel the awaiting task itself
    assert isinstance(future.exception(), CancelledError)
    assert blocker.cancelled


def test_shutdown(qtbot, lane, executor) -> None:
    release = threading.Event()
    running = executor.submit(lambda: release.wait(10) and "finished")
    queued = executor.submit(lambda: "never")
    qtbot.waitUntil(lambda: len(lane.jobs) == 2 and lane.jobs[0].running, timeout=5000)
    executor.shutdown(wait=False, cancel_futures=True)
    assert isinstance(queued.exception(0), CancelledError), "resolved at once, not when the lane says so"
    with pytest.raises(RuntimeError):
        executor.submit(lambda: None)
    threading.Timer(0.2, release.set).start()
    executor.shutdown(wait=True)  # on the GUI thread: waits for the running call, needs no event loop
    assert running.result(0) == "finished"


# --- the controller, in the window and the tray ----------------------------------------------------------
@dataclasses.dataclass
class Seen:
    heard: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    made_on: set[int] = dataclasses.field(default_factory=set)
    """Threads the narrator's "done" (a sentence made) was told on: the synthesis thread."""


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def ui(qtbot, piper, timbre_home, seen):
    """The window, a tray menu and the narration controller, wired as the app wires them; audio goes to a
    silent clock at 20x so a reply is heard in a fraction of its length. Piper is loaded once, up front."""
    from app.services.devices import ClockStream
    from app.services.speech_queue import SpeechQueue
    from app.ui.application import wire_narration
    from app.ui.context import AppContext
    from app.ui.main_window import MainWindow
    from app.ui.narration import NarrationController
    from app.ui.tray import TrayController

    context = AppContext.create()
    window = MainWindow(context)
    qtbot.addWidget(window)

    def observe(event: str, _utterance: object) -> None:
        if event == "done":
            seen.made_on.add(threading.get_ident())

    narration = NarrationController(
        context,
        window.lane,
        dialog_parent=window,
        parent=window,
        queue_factory=lambda: SpeechQueue(device=ClockStream(speed=20)),
        observer=observe,
    )
    tray = TrayController(lambda: window.choices, window.speak, window.show, lambda: None, parent=window)
    qtbot.addWidget(tray.popover)
    wire_narration(window, tray, narration)
    narration.sentenceHeard.connect(seen.heard.append)
    narration.errorRaised.connect(seen.errors.append)
    narration.messageShown.connect(seen.notes.append)
    window.show()
    qtbot.waitExposed(window)
    yield window, tray, narration
    for box in window.findChildren(QMessageBox):
        box.close()
    assert narration.shutdown(), "the narrator's thread outlived its 2 s"
    window.shutdown()
    context.close()


def _choose(monkeypatch: pytest.MonkeyPatch, path: str) -> list[tuple]:
    """The one stand-in: the file dialog needs a person. Returns the calls it got."""
    calls: list[tuple] = []

    def answer(*args, **kwargs):
        calls.append(args)
        return path, "Agent streams (*.jsonl *.json *.ndjson *.log)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(answer))
    return calls


def _append(path: Path, lines: list[bytes]) -> None:
    with open(path, "ab") as handle:
        for line in lines:
            handle.write(line)
            handle.flush()


def _replies(lines: list[bytes]) -> list[str]:
    """What should be heard: the main agent's text blocks (no thinking, tools or sub-agent), each read as
    the core reads a whole reply, ``split_sentences(speakable_agent_text(block))``."""
    from app.core.agent_stream import AgentStreamParser, BlockEnd, TextPiece
    from app.core.agent_text import speakable_agent_text
    from app.core.text import split_sentences

    parser, block, sentences = AgentStreamParser(), "", []
    for line in lines:
        for event in parser.feed(line):
            if isinstance(event, TextPiece):
                block += event.text
            elif isinstance(event, BlockEnd):
                sentences += split_sentences(speakable_agent_text(block))
                block = ""
    return sentences + (split_sentences(speakable_agent_text(block)) if block else [])


EXPECTED = _replies(CLAUDE_WHOLE)
PLAIN = [  # the sentences with no markup to read, as written
    "I'll look at the parser first.",
    "Found it!",
    "I changed it to go over every line.",
    "The tests pass.",
    "Is there anything else?",
]


def test_narrating_a_stream_file_speaks_the_replies_on_the_lane(qtbot, ui, seen, monkeypatch, tmp_path):
    window, tray, narration = ui
    stream = tmp_path / "agent" / "run.jsonl"
    stream.parent.mkdir()
    dialog = _choose(monkeypatch, str(stream))
    jobs: list[str] = []
    window.lane.jobStarted.connect(lambda job: jobs.append(job.name))

    assert [a.text() for a in tray.menu.actions() if not a.isSeparator()] == [
        "Quick Speak…",
        "Speak Clipboard",
        "Narrate Agent Output",
        "Choose Stream File…",
        "Interrupt on New Message",
        "Show Timbre",
        "Quit Timbre",
    ]
    narration.toggle_action.trigger()  # no file chosen yet: the dialog asks (the agent has not begun)
    assert len(dialog) == 1 and dialog[0][3] == "Agent streams (*.jsonl *.json *.ndjson *.log);;All files (*)"
    assert narration.running and narration.toggle_action.isChecked()
    assert narration.toggle_action.toolTip() == "Narrating run.jsonl"
    assert tray.icon.toolTip() == "Timbre — Narrating run.jsonl"
    assert settings.load().narrate_file == str(stream), "remembered for next time"

    _append(stream, CLAUDE_WHOLE)  # the agent creates the file and writes its run
    qtbot.waitUntil(lambda: seen.heard[-1:] == [EXPECTED[-1]], timeout=30_000)
    assert seen.heard == EXPECTED
    assert len(EXPECTED) == 11 and [text for text in EXPECTED if text in PLAIN] == PLAIN
    assert "Here is a Python code sample." in EXPECTED, "the code block is mentioned, not read out"
    assert seen.errors == []
    lane_thread = _lane_thread(qtbot, window.lane)
    assert seen.made_on == {lane_thread}, "every sentence was made on the inference lane"
    assert jobs.count("Narrating") >= len(EXPECTED)

    thread = narration.thread
    started = time.monotonic()
    narration.toggle_action.trigger()  # off
    assert time.monotonic() - started < 0.5, "the GUI thread is not held while it stops"
    assert not narration.running and not narration.toggle_action.isChecked()
    assert tray.icon.toolTip() == "Timbre"
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=2000)
    assert seen.notes[-1] == "Narration stopped."


def test_heard_sentences_show_in_the_status_bar_and_the_shortcut_toggles(qtbot, ui, seen, tmp_path):
    window, _tray, narration = ui
    stream = tmp_path / "run.jsonl"
    narration.context.settings = dataclasses.replace(narration.context.settings, narrate_file=str(stream))
    speech = [a for a in window.speech_menu.actions() if not a.isSeparator()]
    assert narration.toggle_action in speech and narration.choose_action in speech
    assert narration.toggle_action.shortcut().toString() == "Ctrl+Shift+N"

    window.activateWindow()
    modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window, Qt.Key.Key_N, modifiers)
    assert narration.running
    _append(stream, [CLAUDE_WHOLE[2]])  # one short message, whole
    qtbot.waitUntil(lambda: bool(seen.heard), timeout=30_000)
    assert window.statusBar().currentMessage().startswith("» ")
    assert window.statusBar().currentMessage()[2:] in seen.heard
    qtbot.keyClick(window, Qt.Key.Key_N, modifiers)
    assert not narration.running


def test_cancelling_the_dialog_leaves_it_off(qtbot, ui, seen, monkeypatch):
    _window, tray, narration = ui
    dialog = _choose(monkeypatch, "")
    narration.toggle_action.trigger()
    assert len(dialog) == 1
    assert not narration.running and not narration.toggle_action.isChecked()
    assert narration.thread is None and tray.icon.toolTip() == "Timbre"
    narration.choose_action.trigger()
    assert len(dialog) == 2 and not narration.running
    assert settings.load().narrate_file == "" and seen.errors == []


def test_a_bad_voice_is_said_plainly_and_it_stays_off(qtbot, ui, seen, tmp_path):
    window, _tray, narration = ui
    narration.context.settings = dataclasses.replace(
        narration.context.settings,
        default_engine="piper",
        default_voice="nobody-at-all",
        narrate_file=str(tmp_path / "s.jsonl"),
    )
    narration.toggle_action.trigger()
    assert not narration.running and not narration.toggle_action.isChecked() and narration.thread is None
    assert len(seen.errors) == 1
    assert seen.errors[0].startswith("Narration could not start: ") and "nobody-at-all" in seen.errors[0]
    boxes = [box for box in window.findChildren(QMessageBox) if box.isVisible()]
    assert [box.text() for box in boxes] == seen.errors


def test_a_stream_that_cannot_be_read_turns_it_off(qtbot, ui, seen, tmp_path):
    _window, _tray, narration = ui
    folder = tmp_path / "not-a-file.jsonl"
    folder.mkdir()
    assert narration.start(str(folder))
    qtbot.waitUntil(lambda: not narration.running, timeout=10_000)
    assert not narration.toggle_action.isChecked()
    assert seen.errors == ["Narration stopped: not-a-file.jsonl could not be read (Is a directory)."]
    qtbot.waitUntil(lambda: not narration.thread.is_alive(), timeout=2000)


def test_interrupt_on_new_message_is_remembered_and_applies_at_once(qtbot, ui, tmp_path):
    _window, _tray, narration = ui
    assert not narration.interrupt_action.isChecked()
    assert narration.start(str(tmp_path / "s.jsonl"))
    narration.interrupt_action.trigger()
    assert narration.interrupt_action.isChecked()
    assert settings.load().narrate_on_new == "interrupt"
    assert narration.narrator.options.on_new == "interrupt"
    narration.interrupt_action.trigger()
    assert settings.load().narrate_on_new == "queue"


def test_quitting_while_a_sentence_is_being_made_does_not_hang(qtbot, ui, tmp_path):
    from app.ui.application import _shutdown

    window, _tray, narration = ui
    stream = tmp_path / "run.jsonl"
    jobs: list[str] = []
    window.lane.jobStarted.connect(lambda job: jobs.append(job.name))
    assert narration.start(str(stream))
    _append(stream, CLAUDE_WHOLE)
    qtbot.waitUntil(lambda: "Narrating" in jobs, timeout=10_000)  # a sentence is being made
    thread = narration.thread
    started = time.monotonic()
    _shutdown(window, window.context, narration)  # what the app does on quit
    assert time.monotonic() - started < 2.0
    assert not thread.is_alive() and not narration.running
    assert window.lane.pool.activeThreadCount() == 0


def test_the_voice_is_the_apps_default_voice() -> None:
    from app.ui.narration import narration_options

    chosen = narration_options(
        settings.Settings(default_voice="piper:joe", speed=1.25, narrate_on_new="interrupt")
    )
    assert (chosen.engine, chosen.voice, chosen.speed, chosen.on_new) == ("piper", "joe", 1.25, "interrupt")
    plain = narration_options(settings.Settings(default_engine="kokoro", default_voice="af_heart"))
    assert (plain.engine, plain.voice, plain.speed, plain.on_new) == ("kokoro", "af_heart", 1.0, "queue")
    default = narration_options(settings.Settings())
    assert (default.engine, default.voice) == (None, None)  # the registry's default, as the composer starts
    with pytest.raises(TimbreError, match="Choose a built-in default voice in Settings"):
        narration_options(settings.Settings(default_voice="profile:4"))
