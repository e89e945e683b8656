"""``timbre models``: list, download, remove, verify and import the weights of the cloning engines.

Downloads show one live progress line on stderr and can be stopped with Ctrl-C at any moment: what has
arrived is kept, and the same command picks up where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

PROGRESS_INTERVAL = 0.2
"""Seconds between redraws of the progress line on a terminal."""


def _hub() -> Any:
    from app.engines.hub import Hub

    return Hub()


def size_text(nbytes: float) -> str:
    """Bytes as people read them: 512 KB, 412.3 MB, 1.87 GB."""
    if nbytes >= 1e9:
        return f"{nbytes / 1e9:.2f} GB"
    if nbytes >= 1e6:
        return f"{nbytes / 1e6:.1f} MB"
    return f"{max(nbytes, 0) / 1e3:.0f} KB"


def _time_text(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.0f} min left"
    return f"{seconds:.0f} s left"


def progress_line(event: Any) -> str:
    """``xtts-v2  412.3 MB of 1.87 GB · 21.4 MB/s · 68 s left``"""
    parts = [f"{event.model_id}  {size_text(event.done)} of {size_text(event.total)}"]
    if event.speed > 0:
        parts.append(f"{size_text(event.speed)}/s")
    if event.seconds_left is not None:
        parts.append(_time_text(event.seconds_left))
    return " · ".join(parts)


class _ProgressLine:
    """Redraws the line in place on a terminal; elsewhere (a log file) writes a line every 10 %."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._shown_at = 0.0
        self._tenth = -1
        self._width = 0

    def __call__(self, event: Any) -> None:
        line = progress_line(event)
        if self.tty:
            now = time.monotonic()
            if now - self._shown_at < PROGRESS_INTERVAL and event.done < event.total:
                return
            self._shown_at = now
            self.stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            tenth = int(event.fraction * 10)
            if tenth == self._tenth:
                return
            self._tenth = tenth
            self.stream.write(line + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()


def _state_text(status: Any) -> str:
    if status.state == "partial":
        percent = 100 * status.bytes_on_disk / status.spec.size_bytes if status.spec.size_bytes else 0
        return f"partial ({min(percent, 99):.0f}%)"
    return str(status.state)


def _cmd_list(args: argparse.Namespace) -> int:
    statuses = _hub().list_models()
    if args.json:
        json.dump([s.as_dict() for s in statuses], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    rows = [("MODEL", "ENGINE", "SIZE", "STATUS", "LICENCE")]
    for status in statuses:
        spec = status.spec
        size = (
            size_text(status.bytes_on_disk)
            if status.state == "installed"
            else f"~{size_text(spec.size_bytes)}"
        )
        licence = spec.licence + ("" if spec.commercial_use else " (non-commercial)")
        rows.append((spec.id, spec.engine, size, _state_text(status), licence))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        sys.stdout.write("  ".join([*cells, row[4]]) + "\n")
    return 0


def _ask(question: str) -> bool:
    sys.stderr.write(question)
    sys.stderr.flush()
    answer = sys.stdin.readline()  # "" at the end of input (nobody there to answer): no
    return answer.strip().lower() in ("y", "yes")


def _cmd_download(args: argparse.Namespace) -> int:
    from app.core.errors import CancelledError
    from app.core.models import CancelToken

    hub = _hub()
    spec = hub.spec(args.id)
    if hub.is_installed(spec.id):
        sys.stderr.write(f"{spec.id} is already installed in {hub.path(spec.id)}.\n")
        return 0
    sys.stderr.write(f"{spec.description}. About {size_text(spec.size_bytes)}.\n{spec.licence_notice}\n")
    accepted = spec.commercial_use or args.yes or _ask("Download? [y/N] ")
    if not accepted:
        sys.stderr.write("Nothing was downloaded.\n")
        return 1

    # The download runs in a thread so that Ctrl-C only sets the cancel flag: the transfer then stops
    # between two blocks with its files closed and its bookkeeping written, ready to resume.
    cancel, line, outcome, finished = CancelToken(), _ProgressLine(), {}, threading.Event()

    def work() -> None:
        try:
            outcome["path"] = hub.download(spec.id, progress=line, cancel=cancel, accept_licence=True)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which reports it
            outcome["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=work, name=f"download-{spec.id}", daemon=True).start()
    # An Event, not Thread.join: a join interrupted by Ctrl-C can wrongly report the thread finished.
    try:
        while not finished.wait(0.1):
            pass
    except KeyboardInterrupt:
        cancel.cancel()
        finished.wait()
    line.end()
    error = outcome.get("error")
    if isinstance(error, CancelledError):
        sys.stderr.write(
            f"Download cancelled. Run 'timbre models download {spec.id}' again to pick up where it stopped.\n"
        )
        return 130
    if error is not None:
        raise error
    path = outcome["path"]
    sys.stderr.write(f"Installed {spec.id} in {path}.\n")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    hub = _hub()
    spec = hub.spec(args.id)
    freed = hub.remove(spec.id)
    if freed:
        sys.stderr.write(f"Removed {spec.id}: {size_text(freed)} freed.\n")
    else:
        sys.stderr.write(f"{spec.id} is not installed; there was nothing to remove.\n")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    hub = _hub()
    report = hub.verify(args.id)
    if report.ok:
        sys.stderr.write(f"{report.model_id}: all {report.checked} files are present and intact.\n")
        return 0
    for label, names in (
        ("missing", report.missing),
        ("wrong size", report.wrong_size),
        ("damaged (checksum does not match)", report.wrong_sha256),
    ):
        for name in names:
            sys.stdout.write(f"{name}: {label}\n")
    sys.stderr.write(
        f"{report.model_id} is damaged. Run 'timbre models remove {report.model_id}', "
        f"then 'timbre models download {report.model_id}'.\n"
    )
    return 1


def _cmd_import(args: argparse.Namespace) -> int:
    hub = _hub()
    path = hub.import_folder(args.id, Path(args.folder))
    sys.stderr.write(f"Imported {hub.spec(args.id).id} into {path}.\n")
    return 0


def add_models_parser(sub: Any) -> None:
    """Attach ``models`` and its subcommands to the main parser's subparsers."""
    models = sub.add_parser("models", help="model weights for the cloning engines: list, download, remove")
    actions = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="every model, with its size, status and licence")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=_cmd_list)

    download = actions.add_parser("download", help="fetch a model from Hugging Face (resumes if stopped)")
    download.add_argument("id", help="model id (see 'timbre models list')")
    download.add_argument(
        "--yes", "-y", action="store_true", help="accept the model's licence without asking"
    )
    download.set_defaults(func=_cmd_download)

    remove = actions.add_parser("remove", help="delete a model (and any unfinished download of it)")
    remove.add_argument("id")
    remove.set_defaults(func=_cmd_remove)

    verify = actions.add_parser("verify", help="check that a model's files are all there and intact")
    verify.add_argument("id")
    verify.set_defaults(func=_cmd_verify)

    imp = actions.add_parser("import", help="install a model from a folder (a Hugging Face snapshot)")
    imp.add_argument("id")
    imp.add_argument("folder")
    imp.set_defaults(func=_cmd_import)
