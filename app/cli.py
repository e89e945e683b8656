"""The ``timbre`` command line: speak text, list voices, set up offline voices, start the app.

Results go to stdout, progress and errors to stderr; every failure exits non-zero with one plain line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from app import __version__
from app.core.errors import CancelledError, OutputError, TimbreError
from app.core.models import SynthesisRequest

logger = logging.getLogger("app.cli")

DEMO_SENTENCE = "Hello! Timbre is ready. Everything you hear is made right here, on your own computer."
LONG_TEXT_CHARS = 400
"""Texts longer than this show progress on stderr."""


class _Progress:
    """A one-line progress display on stderr (rewritten in place on a terminal)."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = -1

    def __call__(self, fraction: float, chunks: int) -> None:
        percent = int(fraction * 100)
        if self.tty:
            self.stream.write(f"\rSpeaking… {percent:3d}% ({chunks} chunks)")
        elif percent // 10 != self._last // 10:
            self.stream.write(f"Speaking… {percent}% ({chunks} chunks)\n")
        self._last = percent
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _read_text(value: str) -> str:
    if value == "-":
        data = sys.stdin.buffer.read()
        return data.decode("utf-8", errors="replace")
    return value


def _cmd_speak(args: argparse.Namespace) -> int:
    from app import settings
    from app.services.sinks import FileSink, PlaybackSink, Sink, TeeSink
    from app.services.synthesis import SynthesisService

    text = _read_text(args.text)
    play = args.play if args.play is not None else args.out is None
    if not (play or args.out or args.save):
        raise OutputError("Nothing to do: with --no-play and --no-save, add --out FILE.wav.")
    prefs = settings.load()
    if args.device:
        os.environ["TIMBRE_DEVICE"] = args.device  # engines read it when they load: never a silent fallback
    service = SynthesisService()  # it checks every input before any file or device is touched
    voice, engine, profile_id = args.voice, args.engine, None
    references: tuple = ()
    if args.profile:
        voice, engine, profile_id, references = _profile_voice(service, args.profile, args.voice, args.engine)
    request = SynthesisRequest(
        text=text,
        voice=voice or (None if references else prefs.default_voice or None),
        engine=engine or (None if voice else prefs.default_engine or None),
        speed=args.speed if args.speed is not None else prefs.speed,
        language=args.language,
        seed=args.seed,
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k,
        references=references,
        instruct=args.instruct,
    )
    service.prepare(request)  # and so do we, before the library is opened

    sinks: list[Sink] = []
    if args.out is not None:
        sinks.append(FileSink(args.out))
    if play:
        sinks.append(PlaybackSink())
    extra: Sink | None = None if not sinks else sinks[0] if len(sinks) == 1 else TeeSink(*sinks)

    progress = _Progress() if len(text) > LONG_TEXT_CHARS and not args.quiet else None
    saved = ""
    try:
        if args.save:
            from app.services.history import HistoryService

            result, generation = HistoryService().speak_and_save(
                service, request, extra, progress=progress, profile_id=profile_id
            )
            saved = f" Saved in history as #{generation.id}."
        else:
            # Not None: the "Nothing to do" check above ensured a file or the speakers.
            result = service.synthesize(request, cast(Sink, extra), progress=progress)
    finally:
        if progress is not None:
            progress.done()
    if not args.quiet:
        for warning in result.warnings:
            sys.stderr.write(f"Note: {warning}\n")
        where = f" to {Path(args.out).expanduser()}" if args.out else ""
        sys.stderr.write(
            f"Spoke {result.audio_seconds:.1f} s{where} with {result.engine}/{result.voice} "
            f"(first audio {result.first_audio_seconds or 0:.2f} s, RTF {result.rtf:.2f}).{saved}\n"
        )
    return 0


def _profile_voice(
    service: Any, name: str, voice: str | None, engine: str | None
) -> tuple[str | None, str | None, int, tuple]:
    """How a profile speaks: cloned from its recordings by a cloning engine (the one asked for, else the
    first installed), else with its matched built-in voice."""
    from app.services.profiles import ProfileService

    profiles = ProfileService()
    profile = profiles.show(name)
    if voice and engine:
        return voice, engine, profile.id, ()
    cloner = service.cloning_engine(engine)
    if cloner is not None and profile.samples:
        return None, cloner, profile.id, profiles.references(profile.id)
    if not profile.preferred_voice:
        raise TimbreError(
            f'The profile "{profile.name}" has no voice yet. Install a cloning engine '
            f"('timbre models download qwen3-tts-0.6b-base') or run: timbre profiles match \"{profile.name}\""
        )
    return profile.preferred_voice, profile.preferred_engine, profile.id, ()


def _cmd_voices(args: argparse.Namespace) -> int:
    from app.services.catalog import catalogue

    engines = catalogue()
    if args.json:
        json.dump(engines, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for engine in engines:
        status = "ready offline" if engine["available"] else f"unavailable: {engine['reason']}"
        languages = ", ".join(engine["capabilities"]["languages"])
        print(f"{engine['name']} [{engine['id']}], {status}; languages: {languages}")
        for voice in engine["voices"]:
            mark = "✓" if voice["available"] else "✗"
            default = "  (default)" if voice["id"] == engine["default_voice"] else ""
            print(f"  {mark} {voice['id']:<16} {voice['name']}{default}")
    return 0


def _cmd_setup(args: argparse.Namespace) -> int:
    from app.services.setup import install_offline_voices

    def report(line: str) -> None:
        sys.stderr.write(line + "\n")

    shown = [-1]

    def progress(done: int, total: int) -> None:
        percent = int(done * 100 / total) if total else 0
        if percent // 10 != shown[0] // 10:
            sys.stderr.write(f"  {done / 1e6:.1f} of {total / 1e6:.1f} MB ({percent}%)\n")
            shown[0] = percent

    install_offline_voices(report, progress)
    return 0


def _cmd_gui(args: argparse.Namespace) -> int:
    """The desktop app (it keeps running in the menu bar when its window is closed)."""
    from app.ui.application import run, smoke_test

    argv = [sys.argv[0] if sys.argv else "timbre"]
    if args.smoke:
        seconds = smoke_test(argv)
        print(f"Timbre {__version__}: the window was on screen {seconds:.2f} s after start-up, then closed.")
        return 0
    return run(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="timbre", description="Local text-to-speech and voice cloning.")
    parser.add_argument("--version", action="version", version=f"timbre {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    speak = sub.add_parser("speak", help="say text aloud or save it to a file")
    speak.add_argument("text", help="the text to say, or - to read it from standard input")
    speak.add_argument(
        "--voice", help="voice id (see 'timbre voices'); Kokoro blends: af_heart:0.7,am_michael:0.3"
    )
    speak.add_argument(
        "--engine",
        help="engine id (piper, kokoro, qwen3, qwen3-clone, qwen3-design, xtts, kokoro-torch); "
        "by default the engine that has the voice",
    )
    speak.add_argument("--profile", help="speak with a voice profile (see 'timbre profiles list')")
    speak.add_argument("--speed", type=float, help="speaking rate, 1.0 is normal (0.5 to 2.0)")
    speak.add_argument("--language", help="language code (en, fr, zh...); by default the voice's own")
    speak.add_argument(
        "--instruct",
        help="a speaking style for Qwen3 preset voices ('Very happy.'), or with --engine qwen3-design the "
        "voice to design ('A calm, deep male voice.')",
    )
    speak.add_argument("--seed", type=int, help="the same seed gives the same audio (sampling engines)")
    speak.add_argument("--temperature", type=float, help="sampling temperature (Qwen3, XTTS)")
    speak.add_argument("--top-p", type=float, dest="top_p", help="nucleus sampling (Qwen3, XTTS)")
    speak.add_argument("--top-k", type=int, dest="top_k", help="top-k sampling (Qwen3, XTTS)")
    speak.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps", "mlx"],
        help="where to run the engine (default auto)",
    )
    speak.add_argument("--out", help="save to this .wav or .flac file")
    play = speak.add_mutually_exclusive_group()
    play.add_argument(
        "--play", dest="play", action="store_true", default=None, help="play through the speakers"
    )
    play.add_argument("--no-play", dest="play", action="store_false", help="do not play (default with --out)")
    speak.add_argument(
        "--no-save", dest="save", action="store_false", help="do not keep this generation in the history"
    )
    speak.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    speak.set_defaults(func=_cmd_speak)

    voices = sub.add_parser("voices", help="list engines and voices, and whether each works offline now")
    voices.add_argument("--json", action="store_true", help="machine-readable output")
    voices.set_defaults(func=_cmd_voices)

    setup = sub.add_parser("setup", help="prepare the offline voices (run once after installing)")
    setup.set_defaults(func=_cmd_setup)

    gui = sub.add_parser("gui", help="start the app")
    gui.add_argument("--smoke", action="store_true", help="show the window, then quit (a start-up check)")
    gui.set_defaults(func=_cmd_gui)

    from app.cli_history import add_history_parser

    add_history_parser(sub)
    from app.cli_profiles import add_profiles_parser

    add_profiles_parser(sub)
    from app.cli_models import add_models_parser

    add_models_parser(sub)
    from app.cli_narrate import add_narrate_parser

    add_narrate_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except CancelledError:
        sys.stderr.write("timbre: cancelled\n")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `timbre voices | head`): not an error worth a message.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stops the interpreter's flush at exit failing
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("\ntimbre: cancelled\n")
        return 130
    except TimbreError as exc:
        sys.stderr.write(f"timbre: {exc}\n")
        return 1
    except Exception as exc:  # noqa: BLE001 - last resort: one line for the user, the trace in the log
        logger.debug("Unexpected failure", exc_info=True)
        sys.stderr.write(f"timbre: unexpected error: {type(exc).__name__}: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
