"""``timbre history``: list, search, show, play, export, regenerate, favourite, delete and undo."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

_STAR = "★"


def _filters(args: argparse.Namespace) -> Any:
    from app.services.history import HistoryFilter

    return HistoryFilter(
        voice=args.voice, engine=args.engine, since=args.since, until=args.until, favourites=args.favourites
    )


def _row(generation: Any) -> str:
    text = " ".join(generation.text.split())
    text = text if len(text) <= 60 else text[:59] + "…"
    when = generation.created_at[:16].replace("T", " ")
    star = _STAR if generation.favourite else " "
    voice = f"{generation.engine}/{generation.voice}"
    return f"#{generation.id:<6} {when}  {voice:<20} {generation.duration:6.1f} s {star} {text}"


def _print_list(items: list[Any], args: argparse.Namespace, service: Any) -> int:
    from app.services.history import as_dict

    if args.json:
        json.dump([as_dict(g, service) for g in items], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif not items:
        sys.stderr.write("Nothing found.\n")
    else:
        for generation in items:
            print(_row(generation))
    return 0


def _service() -> Any:
    from app.services.history import HistoryService

    return HistoryService()


def _cmd_list(args: argparse.Namespace) -> int:
    service = _service()
    return _print_list(service.list(_filters(args), args.page, args.page_size), args, service)


def _cmd_search(args: argparse.Namespace) -> int:
    service = _service()
    return _print_list(service.search(args.query, _filters(args), args.page, args.page_size), args, service)


def _cmd_show(args: argparse.Namespace) -> int:
    from app.services.history import as_dict

    service = _service()
    data = as_dict(service.show(args.id), service)
    if args.json:
        json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for key in ("id", "created_at", "engine", "voice", "duration", "sample_rate", "favourite", "path"):
        print(f"{key:>12}: {data[key]}")
    print(f"{'parameters':>12}: {json.dumps(data['params'])}")
    print(f"{'timings':>12}: {json.dumps(data['timings'])}")
    print(f"{'text':>12}: {data['text']}")
    return 0


def _cmd_favourite(args: argparse.Namespace) -> int:
    generation = _service().favourite(args.id, not args.off)
    state = "now a favourite" if generation.favourite else "no longer a favourite"
    sys.stderr.write(f"#{generation.id} is {state}.\n")
    return 0


def _cmd_delete(args: argparse.Namespace) -> int:
    generation = _service().delete(args.id)
    sys.stderr.write(f"Moved #{generation.id} to the trash. 'timbre history undo' brings it back.\n")
    return 0


def _cmd_undo(args: argparse.Namespace) -> int:
    generation = _service().undo()
    sys.stderr.write(f"Restored #{generation.id}: {_row(generation)}\n")
    return 0


def _cmd_play(args: argparse.Namespace) -> int:
    from app.services.playback import SoundDeviceOutput

    SoundDeviceOutput.check_available()  # a plain error before anything starts, on a machine with no speakers
    seconds = _service().play(args.id)
    sys.stderr.write(f"Played #{args.id} ({seconds:.1f} s).\n")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    loudness = None if args.loudness is None else float(args.loudness)
    written = _service().export(args.id, Path(args.out), loudness=loudness, bitrate=args.bitrate)
    print(written)
    level = f" at {loudness:g} LUFS" if loudness is not None else ""
    sys.stderr.write(f"Exported #{args.id} to {written}{level}.\n")
    return 0


def _cmd_regenerate(args: argparse.Namespace) -> int:
    from app.services.sinks import PlaybackSink
    from app.services.synthesis import SynthesisService

    also = PlaybackSink() if args.play else None
    result, generation = _service().regenerate(SynthesisService(), args.id, also)
    sys.stderr.write(
        f"Regenerated #{args.id} as #{generation.id} with {generation.engine}/{generation.voice} "
        f"(seed {generation.seed}, {result.audio_seconds:.1f} s).\n"
    )
    print(generation.id)
    return 0


def add_history_parser(sub: Any) -> None:
    """Attach ``history`` and its subcommands to the main parser's subparsers."""
    history = sub.add_parser("history", help="what you have generated: list, search, show, delete, undo")
    actions = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)

    def listing(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--voice", help="only this voice")
        parser.add_argument("--engine", help="only this engine")
        parser.add_argument("--since", help="from this date (YYYY-MM-DD)")
        parser.add_argument("--until", help="up to and including this date (YYYY-MM-DD)")
        parser.add_argument("--favourites", action="store_true", help="only favourites")
        parser.add_argument("--page", type=int, default=1)
        parser.add_argument("--page-size", type=int, default=20)
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    listing_parser = actions.add_parser("list", help="newest first")
    listing(listing_parser)
    listing_parser.set_defaults(func=_cmd_list)

    search = actions.add_parser("search", help="find generations by their text (type any words)")
    search.add_argument("query")
    listing(search)
    search.set_defaults(func=_cmd_search)

    show = actions.add_parser("show", help="everything about one generation")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_cmd_show)

    play = actions.add_parser("play", help="listen to a generation")
    play.add_argument("id", type=int)
    play.set_defaults(func=_cmd_play)

    export = actions.add_parser("export", help="save a copy as .wav, .flac, .mp3 or .m4a")
    export.add_argument("id", type=int)
    export.add_argument("--out", required=True, help="file to write; its ending picks the format")
    export.add_argument(
        "--loudness",
        nargs="?",
        const=-16.0,
        type=float,
        metavar="LUFS",
        help="normalise loudness (default target -16 LUFS, the podcast norm)",
    )
    export.add_argument("--bitrate", type=int, metavar="KBPS", help="for .mp3 and .m4a (default 192 / 160)")
    export.set_defaults(func=_cmd_export)

    regenerate = actions.add_parser("regenerate", help="say it again: same engine, voice, settings and seed")
    regenerate.add_argument("id", type=int)
    regenerate.add_argument("--play", action="store_true", help="also play the new take")
    regenerate.set_defaults(func=_cmd_regenerate)

    favourite = actions.add_parser("favourite", help="mark (or with --off unmark) a favourite")
    favourite.add_argument("id", type=int)
    favourite.add_argument("--off", action="store_true")
    favourite.set_defaults(func=_cmd_favourite)

    delete = actions.add_parser("delete", help="move to the trash (undo brings it back)")
    delete.add_argument("id", type=int)
    delete.set_defaults(func=_cmd_delete)

    undo = actions.add_parser("undo", help="restore the last deleted generation")
    undo.set_defaults(func=_cmd_undo)
