"""The inference lane: one thread, results and errors on the main thread, cancel, and ordering."""

from __future__ import annotations

import threading
import time

from app.core.errors import TimbreError


def test_job_runs_off_the_main_thread_and_reports_on_it(qtbot, lane) -> None:
    seen: dict[str, object] = {}
    main = threading.get_ident()

    def work(ctx):
        seen["thread"] = threading.get_ident()
        ctx.progress(0.5, "half way")
        ctx.emit("chunk-1")
        return 42

    progress, chunks, done = [], [], []

    def on_done(result):
        seen["done_thread"] = threading.get_ident()
        done.append(result)

    lane.submit("answer", work, on_done=on_done, on_progress=progress.append, on_chunk=chunks.append)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert done == [42]
    assert seen["thread"] != main
    assert seen["done_thread"] == main
    assert [p.text for p in progress] == ["half way"] and progress[0].fraction == 0.5
    assert chunks == ["chunk-1"]
    assert not lane.busy


def test_errors_arrive_as_plain_data(qtbot, lane) -> None:
    errors = []

    def fails(_ctx):
        raise TimbreError("The reference is 1.2 s long; it needs at least 3 s.")

    def crashes(_ctx):
        return {}["missing"]

    lane.submit("fails", fails, on_error=errors.append)
    lane.submit("crashes", crashes, on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 2, timeout=5000)
    assert errors[0].message == "The reference is 1.2 s long; it needs at least 3 s."
    assert errors[0].expected
    assert not errors[1].expected and "KeyError" in errors[1].details
    assert errors[1].message.startswith("Something went wrong")


def test_one_lane_runs_jobs_one_at_a_time_in_order(qtbot, lane) -> None:
    order: list[str] = []
    active = []
    overlap = []

    def make(name):
        def work(_ctx):
            active.append(name)
            if len(active) > 1:
                overlap.append(list(active))
            time.sleep(0.05)
            order.append(name)
            active.remove(name)

        return work

    for name in "abcd":
        lane.submit(name, make(name))
    qtbot.waitUntil(lambda: not lane.busy, timeout=5000)
    assert order == list("abcd")
    assert overlap == []


def test_cancel_stops_a_running_job_and_skips_a_queued_one(qtbot, lane) -> None:
    started = threading.Event()
    cancelled: list[str] = []
    done: list[object] = []

    def long(ctx):
        started.set()
        for _ in range(500):
            ctx.raise_if_cancelled()
            time.sleep(0.01)
        return "finished"

    ran_queued = []
    first = lane.submit("long", long, on_done=done.append, on_cancelled=lambda: cancelled.append("long"))
    second = lane.submit(
        "queued", lambda _ctx: ran_queued.append(1), on_cancelled=lambda: cancelled.append("queued")
    )
    assert started.wait(5)
    t0 = time.perf_counter()
    first.cancel()
    second.cancel()
    qtbot.waitUntil(lambda: len(cancelled) == 2, timeout=5000)
    assert time.perf_counter() - t0 < 1.0
    assert cancelled == ["long", "queued"]
    assert done == [] and ran_queued == []


def test_busy_signal_brackets_the_work(qtbot, lane) -> None:
    states: list[bool] = []
    lane.busyChanged.connect(states.append)
    lane.submit("quick", lambda _ctx: None)
    lane.submit("quick2", lambda _ctx: None)
    qtbot.waitUntil(lambda: states == [True, False], timeout=5000)
