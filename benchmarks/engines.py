"""Every engine that can run here, in one run: load time, time to first audio, RTF, and memory.

For each engine: process memory before loading, after loading and after unloading; load time; Timbre's
time to first audio and RTF for a paragraph (streaming, through the synthesis service); and the raw
engine's whole-text time for the same paragraph, so the ratio shows what streaming buys. Engines whose
real weights cannot be had here (Qwen3-TTS, XTTS) run on tiny random checkpoints built like the tests':
their figures measure Timbre's overhead around the real code path, not the real model's speed, and the
output says "tiny". Kokoro on PyTorch runs a full-size random model (real compute, random weights).

    python benchmarks/engines.py [--json] [--engines piper,kokoro,qwen3,...]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the tiny-model builders the tests use
sys.path.insert(0, str(ROOT / "tests" / "engines"))

import psutil  # noqa: E402

from app.core.models import CancelToken, SynthesisRequest  # noqa: E402
from app.engines.base import Engine  # noqa: E402
from app.engines.compute import free_accelerator_memory  # noqa: E402
from app.engines.hub import Hub  # noqa: E402
from app.engines.registry import Registry  # noqa: E402
from app.services.sinks import NullSink  # noqa: E402
from app.services.synthesis import SynthesisService  # noqa: E402

TEXT = (
    "The old harbour town woke slowly on winter mornings. Fishing boats rocked against the stone quay, "
    "and gulls argued over scraps while the bakers pulled the first loaves from their ovens. Maria had "
    "lived there all her life, and she knew every alley and every crooked doorway."
)


MAX_SECONDS = 8.0
"""Audio asked of the sampling engines on random weights."""


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 1e6


class TimedSink(NullSink):
    def __init__(self) -> None:
        super().__init__()
        self.first: float | None = None

    def write(self, samples) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        super().write(samples)


def _qwen(models: Path) -> tuple[Callable[[], Engine], dict]:
    import tiny_qwen

    from app.engines.qwen3_engine import Qwen3PresetEngine

    hub = Hub(models)
    # never_stop: a random model's length is a coin toss; this one always runs to max_seconds, so the
    # figures compare like with like.
    built = tiny_qwen.build(models.parent / "qwen", "custom_voice", never_stop=True)
    hub.import_folder("qwen3-tts-0.6b-customvoice", built)
    return (lambda: Qwen3PresetEngine(hub=hub)), {"voice": "ryan", "seed": 1, "model": "tiny random"}


def _xtts(models: Path) -> tuple[Callable[[], Engine], dict]:
    import tiny_xtts

    from app.engines.xtts_engine import XttsEngine

    hub = Hub(models)
    hub.import_folder("xtts-v2", tiny_xtts.build_tiny_xtts(models.parent / "xtts"))
    return (lambda: XttsEngine(hub=hub)), {"seed": 1, "model": "tiny random"}


def _kokoro_torch(models: Path) -> tuple[Callable[[], Engine], dict]:
    import tiny_kokoro

    from app.engines.kokoro_torch_engine import KokoroTorchEngine

    hub = Hub(models)
    hub.import_folder("kokoro-82m", tiny_kokoro.build(models.parent / "kokoro", tiny_kokoro.real_config()))
    return (lambda: KokoroTorchEngine(hub=hub)), {"voice": "af_heart", "model": "full-size random"}


def _installed(engine_id: str) -> Callable[[Path], tuple[Callable[[], Engine], dict]]:
    def make(_models: Path) -> tuple[Callable[[], Engine], dict]:
        factory = Registry().get(engine_id).__class__
        voice = {"piper": "joe", "kokoro": "af_heart"}[engine_id]
        return factory, {"voice": voice, "model": "real"}

    return make


ENGINES: dict[str, Callable[[Path], tuple[Callable[[], Engine], dict]]] = {
    "piper": _installed("piper"),
    "kokoro": _installed("kokoro"),
    "qwen3": _qwen,
    "xtts": _xtts,
    "kokoro-torch": _kokoro_torch,
}


def measure(engine_id: str, factory: Callable[[], Engine], options: dict) -> dict:
    """Load, speak, unload. Deterministic engines speak the paragraph through Timbre's service (chunked,
    streamed) and whole in one raw call. Sampling engines on random weights have no meaningful length, so
    they speak a fixed MAX_SECONDS through the engine's stream, compared with the same call made whole."""
    request_fields = {k: v for k, v in options.items() if k in ("voice", "seed")}
    before = rss_mb()
    registry = Registry({engine_id: factory})
    engine = registry.get(engine_id)
    start = time.perf_counter()
    registry.load(engine)
    load_s = time.perf_counter() - start
    loaded = rss_mb()
    sampling = engine.capabilities.max_length
    request = SynthesisRequest(
        text=TEXT, engine=engine_id, max_seconds=MAX_SECONDS if sampling else None, **request_fields
    )
    warm = SynthesisRequest(text="Warm up.", engine=engine_id, max_seconds=1.0, **request_fields)
    list(engine.synthesize(warm, CancelToken()))
    warnings: list[str] = []
    if sampling:
        start = time.perf_counter()
        first, frames = None, 0
        for piece in engine.synthesize(request, CancelToken()):
            first = first if first is not None else time.perf_counter() - start
            frames += len(piece.samples)
        total = time.perf_counter() - start
        audio_s = frames / engine.capabilities.sample_rate
        rtf = total / audio_s if audio_s else 0.0
        raw_s = whole_call(engine, request)
    else:
        sink = TimedSink()
        start = time.perf_counter()
        result = SynthesisService(registry).synthesize(request, sink)
        first, audio_s, rtf, warnings = (
            (sink.first or start) - start,
            result.audio_seconds,
            result.rtf,
            result.warnings,
        )
        start = time.perf_counter()
        list(engine.synthesize(request, CancelToken()))
        raw_s = time.perf_counter() - start
    engine.unload()
    del engine, registry
    free_accelerator_memory()
    after = rss_mb()
    return {
        "engine": engine_id,
        "model": options["model"],
        "path": "engine stream vs whole call" if sampling else "Timbre service vs raw engine",
        "device": "cpu",
        "load_s": round(load_s, 3),
        "first_audio_s": round(first or 0.0, 3),
        "rtf": round(rtf, 3),
        "audio_s": round(audio_s, 2),
        "raw_whole_text_s": round(raw_s, 3),
        "first_audio_vs_raw_whole": round((first or 0.0) / raw_s, 3) if raw_s else None,
        "rss_before_mb": round(before),
        "rss_loaded_mb": round(loaded),
        "rss_after_unload_mb": round(after),
        "warnings": warnings,
    }


def whole_call(engine: Engine, request: SynthesisRequest) -> float:
    """Seconds for the engine's own non-streaming call (the package's offline API) for ``request``."""
    from app.engines.compute import seed_everything

    seed_everything(request.seed or 0)
    start = time.perf_counter()
    if engine.id == "qwen3":
        engine._model.generate_custom_voice(  # type: ignore[attr-defined]
            text=request.text,
            speaker=request.voice,
            language="Auto",
            **engine._generation_kwargs(request),  # type: ignore[attr-defined]
        )
    else:
        list(engine.synthesize(request, CancelToken()))  # engines without a separate offline call
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--engines", default=",".join(ENGINES))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for engine_id in args.engines.split(","):
            models = Path(tmp) / engine_id / "models"
            models.mkdir(parents=True)
            factory, options = ENGINES[engine_id](models)
            rows.append(measure(engine_id, factory, options))
            if not args.json:
                r = rows[-1]
                print(
                    f"{engine_id:13} {r['model']:17} load {r['load_s']:6.2f} s"
                    f"  first audio {r['first_audio_s']:6.2f} s  RTF {r['rtf']:5.2f}"
                    f"  raw whole {r['raw_whole_text_s']:.2f} s"
                    f"  first/raw-whole {r['first_audio_vs_raw_whole']}"
                    f"  RSS {r['rss_before_mb']} -> {r['rss_loaded_mb']} -> {r['rss_after_unload_mb']} MB"
                )
    if args.json:
        print(json.dumps({"engines": rows, "text_chars": len(TEXT)}, indent=1))


if __name__ == "__main__":
    main()
