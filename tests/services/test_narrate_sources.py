"""Following a stream file like ``tail -F``: appended lines, partial lines held, truncation, replacement."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services.narrate_sources import follow_file, stream_lines


class Follower:
    """Runs follow_file on a thread and collects its lines."""

    def __init__(self, path: Path, from_start: bool = False) -> None:
        self.stop = threading.Event()
        self.lines: queue.Queue[bytes] = queue.Queue()
        # Called here, read on the thread: "from now on" is fixed when following begins.
        source = follow_file(path, self.stop, from_start=from_start, poll=0.01)
        self.thread = threading.Thread(target=self._run, args=(source,), daemon=True)
        self.thread.start()

    def _run(self, source: Iterator[bytes]) -> None:
        for line in source:
            self.lines.put(line)

    def next(self, timeout: float = 3.0) -> bytes:
        return self.lines.get(timeout=timeout)

    def nothing_for(self, seconds: float) -> bool:
        try:
            self.lines.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        assert not self.thread.is_alive()


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)
        handle.flush()


@pytest.fixture
def stream(tmp_path: Path) -> Path:
    return tmp_path / "agent.jsonl"


def test_only_lines_written_after_it_starts_and_partial_lines_wait(stream: Path) -> None:
    stream.write_bytes(b'{"old": 1}\n')
    follower = Follower(stream)
    append(stream, b'{"at once": 0}\n')  # written before the thread has even opened the file
    assert follower.next() == b'{"at once": 0}\n'
    assert follower.nothing_for(0.1)  # the old line is not replayed
    append(stream, b'{"new": ')
    assert follower.nothing_for(0.1)  # half a line is held
    append(stream, b'2}\n{"third": 3}\n')
    assert follower.next() == b'{"new": 2}\n'
    assert follower.next() == b'{"third": 3}\n'
    follower.close()


def test_from_start_reads_what_is_there(stream: Path) -> None:
    stream.write_bytes(b"a\nb\n")
    follower = Follower(stream, from_start=True)
    assert [follower.next(), follower.next()] == [b"a\n", b"b\n"]
    follower.close()


def test_it_waits_for_the_file_to_appear(stream: Path) -> None:
    follower = Follower(stream)
    assert follower.nothing_for(0.1)
    append(stream, b"first\n")  # a file created after following began is read from its start
    assert follower.next() == b"first\n"
    follower.close()


def test_a_truncated_or_replaced_file_is_read_again_from_the_top(stream: Path) -> None:
    stream.write_bytes(b"")
    follower = Follower(stream)
    append(stream, b"one\ntwo\n")
    assert [follower.next(), follower.next()] == [b"one\n", b"two\n"]
    stream.write_bytes(b"x\n")  # truncated and rewritten: shorter than what was read
    assert follower.next() == b"x\n"
    replacement = stream.with_suffix(".new")
    replacement.write_bytes(b"fresh run\n")
    os.replace(replacement, stream)  # a new agent run writes a fresh file
    assert follower.next() == b"fresh run\n"
    follower.close()


def test_stop_ends_it_promptly(stream: Path) -> None:
    follower = Follower(stream)
    follower.close()  # asserts the thread ended within 2 s


def test_stream_lines_reads_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"1\n2\nlast without newline")
    with open(path, "rb") as handle:
        assert list(stream_lines(handle)) == [b"1\n", b"2\n", b"last without newline"]
