"""``timbre profiles``: create from recordings, add samples, list, show, rename, delete, undo, export
and import voice profiles."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _service() -> Any:
    from app.services.profiles import ProfileService

    return ProfileService()


def _summary(profile: Any) -> str:
    voice = f"{profile.preferred_engine or '-'}/{profile.preferred_voice or '-'}"
    count = len(profile.samples)
    samples = f"{count} sample{'s' if count != 1 else ''}, {profile.total_seconds:.1f} s"
    return f"{profile.name:<24} {samples:<20} {profile.language or '':<6} {voice}"


def _cmd_list(args: argparse.Namespace) -> int:
    from app.services.profiles import profile_as_dict

    service = _service()
    profiles = service.list()
    if args.json:
        json.dump([profile_as_dict(p, service) for p in profiles], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif not profiles:
        sys.stderr.write("No voice profiles yet. Make one with: timbre profiles create NAME recording.wav\n")
    else:
        for profile in profiles:
            print(_summary(profile))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from app.services.profiles import profile_as_dict

    service = _service()
    data = profile_as_dict(service.show(args.name), service)
    if args.json:
        json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for key in ("name", "description", "language", "preferred_engine", "preferred_voice", "created_at"):
        print(f"{key:>16}: {data[key] if data[key] is not None else ''}")
    print(f"{'tags':>16}: {', '.join(data['tags'])}")
    print(f"{'samples':>16}: {len(data['samples'])} ({data['total_seconds']:.1f} s)")
    for sample in data["samples"]:
        transcript = sample["transcript"] or "(no transcript)"
        print(f"{'':>16}  #{sample['id']} {sample['duration']:.1f} s  {transcript}")
        print(f"{'':>16}     {sample['path']}")
    return 0


def _cmd_rename(args: argparse.Namespace) -> int:
    profile = _service().rename(args.name, args.new_name)
    sys.stderr.write(f'Renamed to "{profile.name}".\n')
    return 0


def _cmd_delete(args: argparse.Namespace) -> int:
    profile = _service().delete(args.name)
    sys.stderr.write(f"Moved \"{profile.name}\" to the trash. 'timbre profiles undo' brings it back.\n")
    return 0


def _cmd_undo(args: argparse.Namespace) -> int:
    profile = _service().undo()
    sys.stderr.write(f'Restored "{profile.name}".\n')
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    service = _service()
    profile = service.show(args.name)
    out = Path(args.out) if args.out else Path.cwd() / _file_name(profile.name)
    written = service.export(profile.id, out)
    print(written)
    sys.stderr.write(f'Exported "{profile.name}" ({len(profile.samples)} samples) to {written}.\n')
    return 0


def _file_name(name: str) -> str:
    from app.services.profiles import SUFFIX

    safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in name).strip() or "voice"
    return safe + SUFFIX


def _cmd_import(args: argparse.Namespace) -> int:
    profile = _service().import_(Path(args.file), args.name)
    sys.stderr.write(f'Imported "{profile.name}" with {len(profile.samples)} samples.\n')
    print(profile.name)
    return 0


def _report(line: str) -> None:
    sys.stderr.write(line + "\n")


def _cmd_create(args: argparse.Namespace) -> int:
    from app.services.voices import VoiceService

    service = VoiceService()
    profile, warnings = service.create_profile(
        args.name, [Path(f) for f in args.files], args.transcript, args.description or "", _report
    )
    for warning in warnings:
        sys.stderr.write(f"warning: {warning}\n")
    seconds = profile.total_seconds
    sys.stderr.write(
        f'Created "{profile.name}" from {len(profile.samples)} recording(s), {seconds:.1f} s of clean speech'
        f"{f' ({profile.language})' if profile.language else ''}.\n"
    )
    for sample in profile.samples:
        sys.stderr.write(f'  #{sample.id} heard: "{sample.transcript}"\n')
    print(profile.name)
    return 0


def _cmd_add_sample(args: argparse.Namespace) -> int:
    from app.services.voices import VoiceService

    sample, warnings = VoiceService().add_sample(args.name, Path(args.file), args.transcript, _report)
    for warning in warnings:
        sys.stderr.write(f"warning: {warning}\n")
    sys.stderr.write(f'Added sample #{sample.id} ({sample.duration:.1f} s), heard: "{sample.transcript}"\n')
    return 0


def _cmd_match(args: argparse.Namespace) -> int:
    from app.services.voices import VoiceMatcher, VoiceService

    service = VoiceService()
    result: Any = VoiceMatcher(service.library).match(args.name, _report)
    profile = service.store.get(args.name)
    if args.json:
        json.dump(
            {
                "profile": profile.name,
                "voice": result.voice,
                "similarity": round(result.similarity, 4),
                "best_single": [result.best_single[0], round(result.best_single[1], 4)],
                "ranking": [[v, round(s, 4)] for v, s in result.ranking],
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    print(f"{profile.name}: kokoro/{result.voice} (similarity {result.similarity:.2f})")
    for voice, score in result.ranking[:5]:
        print(f"  {score:.2f}  {voice}")
    sys.stderr.write(
        f'Saved as the voice of "{profile.name}": timbre speak "Hello" --profile "{profile.name}"\n'
    )
    return 0


def _cmd_transcript(args: argparse.Namespace) -> int:
    from app.services.voices import VoiceService

    sample = VoiceService().set_transcript(args.name, args.sample, args.text)
    sys.stderr.write(f'Sample #{sample.id} now reads: "{sample.transcript}"\n')
    return 0


def add_profiles_parser(sub: Any) -> None:
    """Attach ``profiles`` and its subcommands to the main parser's subparsers."""
    profiles = sub.add_parser("profiles", help="voice profiles: list, show, rename, delete, export, import")
    actions = profiles.add_subparsers(dest="profiles_command", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="a new voice from recordings (any audio or video file)")
    create.add_argument("name")
    create.add_argument("files", nargs="+", metavar="FILE")
    create.add_argument("--transcript", help="what is said in the recording (default: transcribed)")
    create.add_argument("--description", help="a note for yourself, e.g. 'warm, slow'")
    create.set_defaults(func=_cmd_create)

    add = actions.add_parser("add-sample", help="add another recording to a profile")
    add.add_argument("name")
    add.add_argument("file")
    add.add_argument("--transcript", help="what is said in the recording (default: transcribed)")
    add.set_defaults(func=_cmd_add_sample)

    transcript = actions.add_parser("transcript", help="correct what a sample says (see 'profiles show')")
    transcript.add_argument("name")
    transcript.add_argument("sample", type=int, help="sample number, as 'profiles show' lists it")
    transcript.add_argument("text")
    transcript.set_defaults(func=_cmd_transcript)

    matcher = actions.add_parser("match", help="find the built-in voice (or blend) closest to a profile")
    matcher.add_argument("name")
    matcher.add_argument("--json", action="store_true")
    matcher.set_defaults(func=_cmd_match)

    listing = actions.add_parser("list", help="every profile, by name")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=_cmd_list)

    show = actions.add_parser("show", help="everything about one profile, with its samples")
    show.add_argument("name", help="profile name (or id)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_cmd_show)

    rename = actions.add_parser("rename", help="give a profile a new name")
    rename.add_argument("name")
    rename.add_argument("new_name")
    rename.set_defaults(func=_cmd_rename)

    delete = actions.add_parser("delete", help="move a profile to the trash (undo brings it back)")
    delete.add_argument("name")
    delete.set_defaults(func=_cmd_delete)

    undo = actions.add_parser("undo", help="restore the last deleted profile")
    undo.set_defaults(func=_cmd_undo)

    export = actions.add_parser("export", help="save a profile, with its audio, as one .timbrevoice file")
    export.add_argument("name")
    export.add_argument("--out", help="where to write it (default: NAME.timbrevoice here)")
    export.set_defaults(func=_cmd_export)

    imp = actions.add_parser("import", help="add a profile from a .timbrevoice file")
    imp.add_argument("file")
    imp.add_argument("--name", help="import under this name (default: its own, made unique)")
    imp.set_defaults(func=_cmd_import)
