"""Streaming audio out of qwen-tts, which itself only returns the whole utterance at the end.

The talker produces one codec frame (one code per codebook, 12.5 frames a second) per generation step.
We wrap the talker's ``forward`` to catch each step's frame as it is made and, every few frames, decode
the new frames with the codec's causal decoder, giving it the previous frames as left context. The
pieces therefore join into the waveform that the offline call returns, to float rounding (tests check).
Everything that touches torch runs on one thread (the generation thread); the caller's thread only
takes finished pieces from a queue, so a cancel or a consumer that stops early is handled by raising
inside the next step.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from app.core.errors import CancelledError
from app.core.models import CancelToken

logger = logging.getLogger(__name__)

LEFT_CONTEXT_FRAMES = 72
"""Frames of left context each piece is decoded with: the codec decoder is causal and its transformer
attends 72 steps back, so pieces join into the offline audio (qwen-tts's own ``chunked_decode`` gives
only 25 frames between its 300-frame chunks)."""
FIRST_PIECE_FRAMES = 4
"""The first piece is decoded after this many frames (0.32 s of audio), for fast first audio."""
PIECE_FRAMES = 12
"""Later pieces are about a second long: fewer decoder calls, same result."""


class _Stop(Exception):
    """Raised inside the talker's step to end generation early (cancel, or the consumer went away)."""


class _End:
    """Marks the end of the piece queue."""


def stream_generation(
    model: Any,
    generate: Callable[[], Any],
    cancel: CancelToken,
    prefix_codes: Any = None,
) -> Iterator[np.ndarray]:
    """Run ``generate()`` (a qwen-tts ``generate_*`` call) and yield float32 audio pieces as they form.

    ``model`` is the :class:`qwen_tts.Qwen3TTSModel`. ``prefix_codes`` (frames x codebooks) are the
    reference codes of an in-context clone: the package decodes them in front of the new speech and
    cuts them off, so they serve as left context here and are never yielded.
    """
    import torch

    inner = model.model
    talker = inner.talker
    decoder = inner.speech_tokenizer.model.decoder
    eos = int(inner.config.talker_config.codec_eos_token_id)
    upsample = int(decoder.total_upsample)
    pieces: queue.Queue[object] = queue.Queue(maxsize=64)
    abandon = threading.Event()
    frames: list[Any] = []
    if prefix_codes is not None:
        frames.extend(torch.as_tensor(prefix_codes).to(next(decoder.parameters()).device))
    state = {"done": len(frames), "ended": False, "first": True}

    def flush(final: bool) -> None:
        new = len(frames) - state["done"]
        want = FIRST_PIECE_FRAMES if state["first"] else PIECE_FRAMES
        if new <= 0 or (not final and new < want):
            return
        start = max(0, state["done"] - LEFT_CONTEXT_FRAMES)
        codes = torch.stack(frames[start:]).T.unsqueeze(0).clamp(min=0)  # (1, codebooks, frames)
        with torch.inference_mode():
            wav = decoder(codes)[0, 0, (state["done"] - start) * upsample :]
        state["done"] = len(frames)
        state["first"] = False
        pieces.put(wav.float().cpu().numpy())

    original = talker.forward

    @functools.wraps(original)  # transformers' generate() validates kwargs against this signature
    def hooked(*args: Any, **kwargs: Any) -> Any:
        if cancel.cancelled or abandon.is_set():
            raise _Stop
        out = original(*args, **kwargs)
        codes = out.hidden_states[1]  # this step's frame, (batch, codebooks); None while prefilling
        if codes is not None and not state["ended"]:
            if int(codes[0, 0]) == eos:
                state["ended"] = True
            else:
                frames.append(codes[0].detach().clone())
                flush(final=False)
        return out

    def run() -> None:
        try:
            generate()
            flush(final=True)
            pieces.put(_End())
        except _Stop:
            pieces.put(_End())
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            pieces.put(exc)

    talker.forward = hooked
    worker = threading.Thread(target=run, name="qwen3-generate", daemon=True)
    worker.start()
    try:
        while True:
            item = pieces.get()
            if isinstance(item, _End):
                break
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
        if cancel.cancelled:
            raise CancelledError()
    finally:
        abandon.set()
        while worker.is_alive():  # drain so a blocked put() can finish, then the thread sees _Stop
            try:
                pieces.get(timeout=0.05)
            except queue.Empty:
                pass
        worker.join()
        talker.forward = original
