"""The runaway guard on a forced runaway: the tiny Qwen3 checkpoint that can never sample its stop code."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.models import CancelToken, Capabilities, SynthesisRequest
from app.engines.base import Availability, Engine
from app.engines.registry import Registry
from app.services.guard import guarded_pieces, length_bounds
from app.services.sinks import CollectSink
from app.services.synthesis import SynthesisService

pytestmark = pytest.mark.slow


def test_expected_length_follows_the_text_and_the_speed():
    short, long = length_bounds("Hello."), length_bounds("Hello there, how are you doing today? " * 4)
    assert short.expected < long.expected
    assert long.low < long.expected < long.high
    assert length_bounds("Hello there, friend.", speed=2.0).expected == pytest.approx(
        length_bounds("Hello there, friend.").expected / 2
    )
    # Chinese packs a syllable into a character: eight of them take longer than eight Latin letters.
    assert length_bounds("今天天气很好呀").expected > length_bounds("abcdefg").expected


def collect(pieces) -> np.ndarray:
    return np.concatenate([p.samples for p in pieces])


def test_a_runaway_is_cut_retried_with_other_seeds_and_reported(qwen_runaway):
    reports: list[str] = []
    calls: list[SynthesisRequest] = []
    original = qwen_runaway.synthesize

    def counting(request, cancel):
        calls.append(request)
        return original(request, cancel)

    qwen_runaway.synthesize = counting
    try:
        audio = collect(
            guarded_pieces(
                qwen_runaway,
                SynthesisRequest(text="Hello world.", seed=5),
                CancelToken(),
                write_through=False,
                report=reports.append,
            )
        )
    finally:
        del qwen_runaway.synthesize
    bounds = length_bounds("Hello world.")
    assert len(calls) == 3, "the first attempt and two retries"
    assert len({c.seed for c in calls}) == 3 and calls[0].seed == 5
    assert all(c.max_seconds == pytest.approx(bounds.high) for c in calls)
    assert len(audio) / 24000 <= bounds.high
    assert np.abs(audio[-100:]).max() <= np.abs(audio).max() * 0.05 + 1e-12, "the cut is faded out"
    assert sum("ran on past" in r for r in reports) == 3
    assert "Kept the closest of 3 attempts" in reports[-1]


class FirstAttemptRunsAway(Engine):
    """Qwen3's forced runaway on the first call, then Piper's real speech: a retry that comes out right."""

    id = "flaky"
    name = "Flaky"

    def __init__(self, runaway: Engine, good: Engine) -> None:
        super().__init__()
        self.runaway, self.good, self.calls = runaway, good, 0

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(sample_rate=22050, languages=("en",), max_length=True, seeded=True)

    def availability(self) -> Availability:
        return Availability(True)

    def voices(self):
        return []

    def _load(self) -> None:
        self.good.load()

    def _unload(self) -> None:
        pass

    def synthesize(self, request, cancel):
        self.calls += 1
        engine = self.runaway if self.calls == 1 else self.good
        yield from engine.synthesize(
            SynthesisRequest(text=request.text, max_seconds=request.max_seconds), cancel
        )


def test_write_through_passes_pieces_on_at_once_and_retries_after_them(qwen_runaway):
    from app.engines.piper_engine import PiperEngine

    flaky = FirstAttemptRunsAway(qwen_runaway, PiperEngine())
    flaky.load()
    reports: list[str] = []
    pieces = list(
        guarded_pieces(
            flaky,
            SynthesisRequest(text="Hello world.", seed=1),
            CancelToken(),
            write_through=True,
            report=reports.append,
        )
    )
    rates = [p.sample_rate for p in pieces]
    assert 24000 in rates and 22050 in rates, "the runaway was heard, then the retry"
    assert flaky.calls == 2
    assert "ran on past" in reports[0] and "came out right on attempt 2" in reports[1]


def test_the_service_reports_runaways_and_keeps_files_within_bounds(qwen_runaway):
    registry = Registry({"qwen3": lambda: qwen_runaway})
    sink = CollectSink()
    text = "Hello world. How are you?"
    result = SynthesisService(registry).synthesize(
        SynthesisRequest(text=text, engine="qwen3", voice="ryan", seed=3), sink
    )
    assert result.chunks >= 1 and result.frames > 0
    assert any("ran on past" in w for w in result.warnings)
    assert any("Kept the closest" in w for w in result.warnings)
    # every chunk (here a sentence) was cut at its own bound: the take is at most their sum, plus pauses
    bound = sum(length_bounds(sentence).high for sentence in ("Hello world.", "How are you?"))
    assert result.chunks == 2 and result.audio_seconds <= bound + 1.0


def test_deterministic_engines_are_not_guarded():
    from app.engines.piper_engine import PiperEngine

    piper = PiperEngine()
    reports: list[str] = []
    pieces = list(
        guarded_pieces(
            piper, SynthesisRequest(text="Hello."), CancelToken(), write_through=False, report=reports.append
        )
    )
    assert pieces and not reports and not piper.capabilities.max_length
