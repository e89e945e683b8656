"""Desktop app responsiveness: start-up to a visible window, the longest main-thread stall while a
generation streams in, and the waveform's redraw time for an hour of audio.

    python benchmarks/app.py [--json] [--launches 5] [--engines piper,kokoro]

Goals (issue 6): window on screen within 1.5 s with no engine loaded; no main-thread stall over 50 ms
while generating; a full waveform redraw of an hour of audio within 16 ms. Runs offscreen when there
is no display. Each stall run starts with the engine unloaded, so model loading is part of it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PARAGRAPH = (
    "The lighthouse keeper woke before dawn, as he always did, and climbed the spiral stairs with a lamp "
    "in one hand and a mug of tea in the other. Outside, the sea was grey and restless. He checked the "
    "lens, wiped the glass, and wrote the weather in the log: wind from the west, rain by noon, and a "
    "single fishing boat heading home early. Then he sat by the window and waited for the sun."
)


def launch_times(count: int) -> list[float]:
    """Seconds from process start to the window being exposed, each in a fresh process and data folder."""
    times = []
    for _ in range(count):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "TIMBRE_HOME": home}
            if "TIMBRE_MODELS_DIR" not in env:
                from app import paths

                env["TIMBRE_MODELS_DIR"] = str(paths.models_dir())
            proc = subprocess.run(
                [sys.executable, "-m", "app", "gui", "--smoke"],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                check=True,
            )
            seconds = float(proc.stdout.split("on screen ")[1].split(" s")[0])
            times.append(seconds)
    return times


class StallProbe:
    """A 5 ms QTimer on the main thread; the longest gap between its ticks is the longest stall."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now


def stalls(engine: str, voice: str) -> dict[str, float]:
    """Generate the paragraph in the real window and measure main-thread gaps until it is saved."""
    from PySide6.QtWidgets import QApplication

    from app.ui.application import build

    with tempfile.TemporaryDirectory() as home:
        os.environ["TIMBRE_HOME"] = home
        running = build(with_tray=False)
        window = running.window
        window.show()
        app: QApplication = running.app
        for _ in range(20):
            app.processEvents()
        window.context.synthesis.registry.unload_all()
        window.composer.select_voice(f"{engine}:{voice}")
        window.composer.text.setPlainText(PARAGRAPH)
        done: list[object] = []
        window.generation.finished.connect(done.append)
        window.generation.failed.connect(done.append)
        probe = StallProbe()
        probe.start()
        started = time.perf_counter()
        window.composer.generate()
        while not done and time.perf_counter() - started < 300:
            app.processEvents()
            time.sleep(0.001)
        probe.stop()
        elapsed = time.perf_counter() - started
        audio = window.playback.track.duration if window.playback.track else 0.0
        window.shutdown()
        window.context.close()
        window.deleteLater()
        app.processEvents()
    gaps = np.array(probe.gaps) * 1000
    return {
        "engine": engine,
        "audio_s": round(audio, 2),
        "generation_s": round(elapsed, 2),
        "max_stall_ms": round(float(gaps.max()), 1),
        "p99_stall_ms": round(float(np.percentile(gaps, 99)), 1),
        "ticks": int(gaps.size),
    }


def waveform_redraw(hours: float = 1.0, rate: int = 24000) -> dict[str, float]:
    """Redraw times (ms) of the real waveform widget for an hour of audio at several zooms."""
    from PySide6.QtWidgets import QApplication

    from app.core.peaks import PeakPyramid
    from app.core.track import AudioTrack
    from app.ui.widgets.waveform import WaveformView, redraw_seconds

    app = QApplication.instance() or QApplication([])
    frames = int(hours * 3600 * rate)
    rng = np.random.default_rng(0)
    audio = np.zeros(frames, np.float32)
    audio[:: rate // 7] = rng.uniform(-0.9, 0.9, audio[:: rate // 7].size).astype(np.float32)
    view = WaveformView()
    view.resize(1000, 240)
    view.show()
    app.processEvents()
    track = AudioTrack.from_array(audio, rate)
    started = time.perf_counter()
    pyramid = PeakPyramid(track)
    pyramid.update()  # the app does this on its I/O lane, off the main thread
    peaks_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    view.set_track(track, pyramid)
    show_ms = (time.perf_counter() - started) * 1000  # what the main thread pays
    app.processEvents()
    results = {"peaks_off_thread_ms": round(peaks_ms, 1), "set_track_ms": round(show_ms, 1)}
    duration = frames / rate
    for label, span in (("fit", None), ("10min", 600.0), ("10s", 10.0), ("50ms", 0.05)):
        if span is None:
            view.zoom_to_fit()
        else:
            middle = duration / 2
            view.set_view_range(middle, middle + span)
        app.processEvents()
        times = redraw_seconds(view, repeats=30)
        results[f"redraw_{label}_median_ms"] = round(statistics.median(times) * 1000, 2)
        results[f"redraw_{label}_max_ms"] = round(max(times) * 1000, 2)
    view.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--engines", default="piper,kokoro")
    args = parser.parse_args()

    launches = launch_times(args.launches)
    report: dict[str, object] = {
        "launch_s": {
            "first": round(launches[0], 3),
            "median": round(statistics.median(launches), 3),
            "max": round(max(launches), 3),
        },
        "waveform_1h": waveform_redraw(),
    }
    voices = {"piper": "joe", "kokoro": "af_heart"}
    report["generation_stalls"] = [stalls(e, voices[e]) for e in args.engines.split(",") if e]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
