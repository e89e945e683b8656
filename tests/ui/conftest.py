"""GUI tests: real widgets on the offscreen platform; every inference lane is drained at teardown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def main_thread_gc(qapp) -> Iterator[None]:
    """As in the app: cycles are collected on the GUI thread only (see app/ui/gc_guard.py)."""
    from app.ui.gc_guard import MainThreadCollector

    collector = MainThreadCollector(interval_ms=200)
    collector.start()
    yield
    collector.stop()


@pytest.fixture
def lane(qtbot) -> Iterator[object]:
    """A fresh inference lane, cancelled and drained after the test so no job outlives it."""
    from app.ui.worker import InferenceLane

    lane = InferenceLane()
    yield lane
    lane.cancel_all()
    assert lane.wait(30_000), "a job was still running 30 s after the test ended"
    qtbot.wait(10)  # deliver the queued end-of-job signals before the lane goes
