"""Voice ingestion speed: read + check + clean a 30 s and a 10 min recording (VAD, best window, loudness),
transcription RTF (Whisper base, multilingual), and the time to match a profile to the Kokoro voices
(voice prints cached, as after the first match on a machine).

    python benchmarks/voices.py [--json]
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

TEXT = (
    "The old lighthouse keeper climbed the stairs every evening. He lit the lamp and watched the ships "
    "pass by. On stormy nights he never slept at all, and in the morning he wrote everything down."
)


def main() -> None:
    import soundfile as sf

    from app.core import reference
    from app.core.media import load_media
    from app.core.models import CancelToken, SynthesisRequest
    from app.engines.registry import default_registry
    from app.services import matching
    from app.services.transcribe import transcribe
    from app.services.vad import speech_segments

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    kokoro = default_registry().get("kokoro")
    kokoro.load()
    said = np.concatenate(
        [c.samples for c in kokoro.synthesize(SynthesisRequest(TEXT, "bf_emma"), CancelToken())]
    )
    pause = np.zeros(12000, dtype=np.float32)
    unit = np.concatenate([said, pause])
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, seconds in (("30s", 30.0), ("10min", 600.0)):
            repeats = int(np.ceil(seconds * 24000 / len(unit)))
            path = Path(folder) / f"{label}.flac"
            sf.write(path, np.tile(unit, repeats)[: int(seconds * 24000)], 24000)
            speech_segments(said[:24000], 24000)  # warm-up: the VAD model loads once per process
            started = time.perf_counter()
            media = load_media(path)
            segments = speech_segments(media.audio, media.sample_rate)
            check = reference.check(media.audio, media.sample_rate, segments)
            cleaned = reference.clean(media.audio, media.sample_rate, segments)
            results[f"ingest_{label}_s"] = time.perf_counter() - started
            assert check.refusal is None and len(cleaned) <= 31 * 24000
        transcribe(said[:24000], 24000)  # warm-up: model load
        heard = transcribe(cleaned, reference.TARGET_RATE)
        results["transcribe_rtf"] = heard.rtf
        target = matching.profile_print([(said, 24000)])
        candidates = matching.candidate_voices(kokoro, "en", exclude=("bf_emma",))
        matching.voice_prints(kokoro, candidates)  # first time on a machine: each voice is heard once
        started = time.perf_counter()
        found = matching.match(kokoro, target, candidates)
        results["match_s"] = time.perf_counter() - started
    figures = {k: round(v, 3) for k, v in results.items()}
    figures.update(match_voice=found.voice, match_similarity=round(found.similarity, 3))
    figures["best_single"] = [found.best_single[0], round(found.best_single[1], 3)]
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>18}: {value}")


if __name__ == "__main__":
    main()
