"""The Qt binding itself: PySide6 6.12.0 on Python 3.11 loses a reference to ``True`` on every signal
emit, and the interpreter aborts after a few thousand. The app emits that many in minutes."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    bare = Signal()
    number = Signal(int)
    anything = Signal(object)


def test_signal_emits_leave_reference_counts_alone() -> None:
    emitter = _Emitter()
    received: list[object] = []
    emitter.anything.connect(received.append)
    before = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    for i in range(2000):
        emitter.bare.emit()
        emitter.number.emit(i)
        emitter.anything.emit("x")
    after = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    assert len(received) == 2000
    # A few references may come and go meanwhile; thousands lost means a broken binding.
    assert all(abs(b - a) < 100 for a, b in zip(before, after, strict=True)), (before, after)
