"""Live narration against the raw engine, in one run: per-sentence delay and the gaps between sentences.

Replays a recorded agent stream (Claude Code stream-json with partial messages) with realistic timing:
each streamed delta is one token at ``--tokens-per-second``, a new message waits ``--first-token`` seconds,
and a tool result waits ``--tool-seconds``. Narration plays in real time on a silent clock (the speakers'
stand-in). For each sentence it prints:

- **delay**: from its last token arriving to its first audio sample being made;
- **own**: the raw engine's time to synthesize that sentence alone (measured afterwards, warm, same run);
- **in run**: the engine's time for that same sentence inside this run (its calls timed as they happen),
  which shares the machine with everything else narration does at that moment, so it is the fair base;
- **delay / own**, the issue's goal being at most 1.2 (given against both bases);
- **queued**: the part of the delay spent waiting for the engine to finish the sentences before it (the
  agent writes faster than anyone speaks, so later sentences wait their turn; they are not late to the ear,
  since they are made long before they are heard); **delay - queued** is Timbre's own latency;
- **gap**: silence heard between the previous sentence and this one beyond the pause Timbre put there,
  counted only when this sentence's text had arrived before the previous one finished playing.

    python benchmarks/narrate.py [--json] [--engine piper] [--voice joe] [--stream FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.models import CancelToken, SynthesisRequest  # noqa: E402
from app.services.devices import ClockStream  # noqa: E402
from app.services.narrate import NarrationOptions, Narrator  # noqa: E402
from app.services.speech_queue import SpeechQueue  # noqa: E402
from app.services.synthesis import SynthesisService  # noqa: E402

STREAM = ROOT / "benchmarks" / "data" / "agent_session.jsonl"


def replay(path: Path, tokens_per_second: float, first_token: float, tool_seconds: float) -> Iterator[bytes]:
    """The stream's lines at the pace an agent would write them."""
    token = 1.0 / tokens_per_second
    for line in path.read_bytes().splitlines(keepends=True):
        try:
            event = json.loads(line)
        except ValueError:
            yield line
            continue
        inner = event.get("event", {}) if event.get("type") == "stream_event" else {}
        if inner.get("type") == "message_start":
            time.sleep(first_token)
        elif inner.get("type") == "content_block_delta":
            time.sleep(token)
        elif event.get("type") == "user":
            time.sleep(tool_seconds)
        yield line


def own_time(service: SynthesisService, request: SynthesisRequest, text: str, repeats: int = 3) -> float:
    """The raw engine's best time for ``text`` alone, loaded and warm."""
    engine = service.registry.get(request.engine or "")
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _chunk in engine.synthesize(SynthesisRequest(text=text, voice=request.voice), CancelToken()):
            pass
        best = min(best, time.perf_counter() - started)
    return best


class EngineTimer:
    """Times the engine's own calls during the run: (monotonic start, seconds) for each call."""

    def __init__(self, engine: object) -> None:
        self.calls: list[tuple[float, float]] = []
        self._original = engine.synthesize  # type: ignore[attr-defined]
        engine.synthesize = self._timed  # type: ignore[attr-defined]

    def _timed(self, request: SynthesisRequest, cancel: CancelToken) -> Iterator[object]:
        started = time.monotonic()
        busy = 0.0
        mark = started
        for chunk in self._original(request, cancel):
            busy += time.monotonic() - mark
            yield chunk
            mark = time.monotonic()
        self.calls.append((started, busy + time.monotonic() - mark))

    def seconds_within(self, start: float, end: float) -> float:
        return sum(seconds for at, seconds in self.calls if start <= at <= end)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--engine", default=None, help="default piper (with --translate-to: by language)")
    parser.add_argument("--voice", default=None)
    parser.add_argument("--stream", type=Path, default=STREAM)
    parser.add_argument("--tokens-per-second", type=float, default=60.0)
    parser.add_argument("--first-token", type=float, default=0.8)
    parser.add_argument("--tool-seconds", type=float, default=1.5)
    parser.add_argument("--translate-to", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    engine_id = args.engine or (None if (args.translate_to or args.voice) else "piper")
    options = NarrationOptions(voice=args.voice, engine=engine_id, translate_to=args.translate_to)
    narrator = Narrator(options, queue=SpeechQueue(device=ClockStream()))
    request = narrator.prepare()
    load_started = time.perf_counter()
    engine = narrator.service.registry.get(request.engine or "")
    narrator.service.registry.load(engine)
    own_time(narrator.service, request, "Warming up.", repeats=1)
    load_seconds = time.perf_counter() - load_started
    timer = EngineTimer(engine)

    started = time.monotonic()
    summary = narrator.run(replay(args.stream, args.tokens_per_second, args.first_token, args.tool_seconds))
    wall = time.monotonic() - started
    heard = narrator.queue.heard

    rows = []
    previous = None
    for u in summary.utterances:
        if u.error or u.first_audio_at is None:
            rows.append({"index": u.index, "text": u.text, "error": u.error or "no audio"})
            continue
        queued = max(0.0, (previous.synth_done_at or 0.0) - u.text_at) if previous else 0.0
        own = own_time(narrator.service, request, u.text)
        in_run = timer.seconds_within(u.synth_started_at or 0.0, u.synth_done_at or float("inf"))
        delay = u.first_audio_at - u.text_at
        times = heard.get(u.index)
        gap = None
        if previous is not None and times and times.started_at is not None:
            before = heard.get(previous.index)
            if before and before.ended_at is not None and u.text_at < before.ended_at:
                gap = max(0.0, times.started_at - before.ended_at - times.lead_in)
        rows.append(
            {
                "index": u.index,
                "text": u.text,
                "chars": len(u.text),
                "audio_s": round(u.audio_seconds, 3),
                "delay_s": round(delay, 3),
                "queued_s": round(queued, 3),
                "own_delay_s": round(delay - queued, 3),
                "release_s": round(u.released_at - u.text_at, 3),
                "translate_s": round(u.translate_seconds, 3),
                "make_s": round(u.first_audio_at - (u.synth_started_at or u.first_audio_at), 3),
                "engine_s": round(own, 3),
                "engine_in_run_s": round(in_run, 3),
                "delay_over_engine": round(delay / own, 2),
                "own_delay_over_engine": round((delay - queued) / own, 2),
                "own_delay_over_engine_in_run": round((delay - queued) / in_run, 2) if in_run else None,
                "gap_s": None if gap is None else round(gap, 3),
            }
        )
        previous = u
    spoken = [r for r in rows if "error" not in r]
    ratios = [r["own_delay_over_engine"] for r in spoken]
    in_run = [r["own_delay_over_engine_in_run"] for r in spoken if r["own_delay_over_engine_in_run"]]
    gaps = [r["gap_s"] for r in spoken if r["gap_s"] is not None]
    result = {
        "engine": request.engine,
        "voice": request.voice,
        "stream": str(args.stream.relative_to(ROOT) if args.stream.is_relative_to(ROOT) else args.stream),
        "tokens_per_second": args.tokens_per_second,
        "load_s": round(load_seconds, 2),
        "wall_s": round(wall, 2),
        "sentences": len(spoken),
        "not_spoken": [r for r in rows if "error" in r],
        "median_own_delay_over_engine": round(statistics.median(ratios), 2) if ratios else None,
        "max_own_delay_over_engine": max(ratios) if ratios else None,
        "median_own_delay_over_engine_in_run": round(statistics.median(in_run), 2) if in_run else None,
        "max_own_delay_over_engine_in_run": max(in_run) if in_run else None,
        "gaps_checked": len(gaps),
        "max_gap_s": max(gaps) if gaps else 0.0,
        "sentences_detail": rows,
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{result['engine']}/{result['voice']}, {result['sentences']} sentences, {wall:.1f} s wall")
    print(
        f"{'#':>3} {'chars':>5} {'audio':>6} {'delay':>6} {'queued':>6} {'own':>6} {'engine':>6} "
        f"{'in run':>6} {'own/eng':>7} {'/in run':>7} {'gap':>6}  text"
    )
    for r in spoken:
        gap = "-" if r["gap_s"] is None else f"{r['gap_s']:.3f}"
        print(
            f"{r['index']:>3} {r['chars']:>5} {r['audio_s']:>6.2f} {r['delay_s']:>6.3f} "
            f"{r['queued_s']:>6.3f} {r['own_delay_s']:>6.3f} {r['engine_s']:>6.3f} "
            f"{r['engine_in_run_s']:>6.3f} {r['own_delay_over_engine']:>7.2f} "
            f"{r['own_delay_over_engine_in_run'] or 0:>7.2f} {gap:>6}  {r['text'][:40]}"
        )
    print(
        f"own delay / engine alone: median {result['median_own_delay_over_engine']}, "
        f"max {result['max_own_delay_over_engine']}; / engine in this run: median "
        f"{result['median_own_delay_over_engine_in_run']}, max {result['max_own_delay_over_engine_in_run']}; "
        f"max gap {result['max_gap_s']:.3f} s over {result['gaps_checked']} joins"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
