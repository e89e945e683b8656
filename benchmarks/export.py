"""Export speed: seconds to write one minute of speech-like audio in each format, with and without
loudness normalisation, as a fraction of the audio's length (lower is better; 0.05 = 20x real time).

    python benchmarks/export.py [--json] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def speech_like(seconds: float, rate: int = 24000) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(a * np.sin(2 * np.pi * 180 * k * t) for k, a in [(1, 1), (2, 0.5), (3, 0.3)])
    envelope = np.abs(np.sin(2 * np.pi * 2.5 * t)) ** 3
    return (0.15 * voice * envelope + 0.005 * rng.standard_normal(t.size)).astype(np.float32)


def main() -> None:
    from app.core.export import EXPORT_FORMATS, export_audio
    from app.core.loudness import normalise_loudness

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    rate = 24000
    audio = speech_like(args.seconds, rate)
    results: dict[str, float] = {}
    normalise_loudness(audio[:rate], rate, -16.0)  # warm-up: the first call imports scipy and pyloudnorm
    started = time.perf_counter()
    normalise_loudness(audio, rate, -16.0)
    results["normalise_rtf"] = (time.perf_counter() - started) / args.seconds
    with tempfile.TemporaryDirectory() as folder:
        for suffix in EXPORT_FORMATS:
            for loud in (None, -16.0):
                started = time.perf_counter()
                export_audio(audio, rate, Path(folder) / f"x{suffix}", loudness=loud)
                key = f"{suffix[1:]}{'_lufs' if loud is not None else ''}_rtf"
                results[key] = (time.perf_counter() - started) / args.seconds
    results = {k: round(v, 4) for k, v in results.items()}
    if args.json:
        print(json.dumps({"audio_seconds": args.seconds, **results}, indent=2))
    else:
        for key, value in results.items():
            print(f"{key:>16}: {value:.4f} s per second of audio ({1 / value:.0f}x real time)")


if __name__ == "__main__":
    main()
