"""Cycles are collected on the GUI thread only, from a timer."""

from __future__ import annotations

import gc
import threading

from app.ui.gc_guard import MainThreadCollector


def test_collection_happens_on_the_main_thread_from_the_timer(qtbot) -> None:
    collected_on: list[int] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            collected_on.append(threading.get_ident())

    collector = MainThreadCollector(interval_ms=20)
    collector.start()
    try:
        assert not gc.isenabled()

        def make_garbage() -> None:
            for _ in range(2000):
                Cycle()

        worker = threading.Thread(target=make_garbage)
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: len(collected_on) == 2000, timeout=5000)
        assert set(collected_on) == {threading.get_ident()}
    finally:
        collector.stop()
        gc.disable()  # the session's collector (tests/ui/conftest.py) goes on collecting from its timer
