"""Render the main window to PNG files, to look at what a user sees (and for the README).

    python -m app.ui.screenshots --out shots/

Writes ``empty.png`` (first launch), ``generating.png`` (mid-generation, audio streaming in),
``library.png`` (history and a voice profile) and ``dark.png`` (the same in dark mode), in a fresh data
folder so nothing of the user's shows up. Runs offscreen when there is no display.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

TEXTS = [
    "The lighthouse keeper woke before dawn and climbed the spiral stairs with a lamp in one hand.",
    "Good morning! Your next meeting starts in ten minutes, in the small room on the second floor.",
    "Chapter one. It was a bright cold day in April, and the clocks were striking thirteen.",
]
STREAMING = (
    "Outside, the sea was grey and restless. He checked the lens, wiped the glass, and wrote the weather "
    "in the log: wind from the west, rain by noon, and a single fishing boat heading home early. Then he "
    "sat by the window and waited for the sun to come up over the cliffs."
)


def _pump(app: object, until: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()  # type: ignore[attr-defined]
        if until():
            return True
        time.sleep(0.005)
    return False


def render(out: Path, size: tuple[int, int] = (1280, 800)) -> list[Path]:
    """Make the four screenshots in ``out``; returns their paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app import paths

    os.environ.setdefault("TIMBRE_MODELS_DIR", str(paths.models_dir()))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        os.environ["TIMBRE_HOME"] = home
        from app.ui.application import build
        from app.ui.theme import apply_theme

        running = build(with_tray=False)
        app, window = running.app, running.window
        apply_theme(app, "light")
        window.resize(*size)
        window.show()
        _pump(app, lambda: window.windowHandle() is not None and window.windowHandle().isExposed(), 5)
        _pump(app, lambda: False, 1.2)  # the header's first readings
        written = [out / "empty.png"]
        window.grab().save(str(written[-1]))

        for text in TEXTS:  # a history to show
            window.composer.text.setPlainText(text)
            window.composer.generate()
            _pump(app, lambda: not window.generation.busy, 120)
        _make_profile(window, app)

        window.composer.select_voice("kokoro:bf_emma")
        window.composer.text.setPlainText(STREAMING)
        window.composer.generate()
        track = lambda: window.playback.track  # noqa: E731
        _pump(app, lambda: track() is not None and not track().finished and track().duration > 6, 120)
        window.waveform.refresh()
        _pump(app, lambda: False, 0.3)
        written.append(out / "generating.png")
        window.grab().save(str(written[-1]))
        _pump(app, lambda: not window.generation.busy, 300)
        window.playback.pause()

        window.history_panel.select(window.context.history.list()[0].id)
        window.tabs.setCurrentWidget(window.history_panel)
        window.waveform.set_selection(2.0, 5.5)
        _pump(app, lambda: False, 0.3)
        written.append(out / "library.png")
        window.grab().save(str(written[-1]))

        apply_theme(app, "dark")
        window.tabs.setCurrentWidget(window.voices_panel)
        _pump(app, lambda: False, 0.5)
        written.append(out / "dark.png")
        window.grab().save(str(written[-1]))
        window.shutdown()
        running.context.close()
    return written


def _make_profile(window: object, app: object) -> None:
    """A voice profile from a real recording (Kokoro speaking), made through the Voices panel."""
    import soundfile as sf

    from app.core.models import SynthesisRequest
    from app.services.sinks import CollectSink

    sink = CollectSink()
    request = SynthesisRequest(
        text="Hello, this is my own voice. I recorded it this morning for Timbre, in a quiet room at home.",
        voice="bf_isabella",
    )
    window.context.synthesis.synthesize(request, sink)  # type: ignore[attr-defined]
    folder = Path(tempfile.mkdtemp())
    path = folder / "Isabella.wav"
    sf.write(str(path), sink.audio, sink.sample_rate)
    panel = window.voices_panel  # type: ignore[attr-defined]
    panel.create_from_files([path], "Isabella")
    _pump(app, lambda: panel.job is None and bool(window.context.profiles.list()), 180)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("shots"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for path in render(args.out):
        logger.warning("wrote %s", path)


if __name__ == "__main__":
    main()
