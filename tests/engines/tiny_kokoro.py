"""Kokoro-82M checkpoints with random weights, laid out like ``hexgrad/Kokoro-82M``, for the engine tests.

The real ``config.json`` (with the 178-symbol phoneme vocabulary) ships inside the ``kokoro-onnx`` wheel.
``tiny_config`` shrinks PL-BERT, the prosody layers and the vocoder's residual blocks so a phrase takes a
second or two on a CPU; the 1024/512-wide decoder is hard-wired in ``kokoro`` and stays. ``build`` writes
``config.json``, ``kokoro-v1_0.pth`` (a state dict made by the real ``KModel`` class, saved in the official
layout: one dict per sub-module, keys prefixed ``module.``) and optional ``voices/<id>.pt`` tables, so the
engine reads them through the same path as the published weights. No network is used.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from importlib import resources
from pathlib import Path

import numpy as np

MODEL_FILE = "kokoro-v1_0.pth"
PARTS = ("bert", "bert_encoder", "predictor", "text_encoder", "decoder")
FRAMES_PER_PHONEME = 2.0
"""Random weights predict ~25 frames (0.6 s) per phoneme; the builder fixes it at 2 (50 ms), which keeps
audio short (tests run faster) and makes speed 2.0 exactly one frame per phoneme."""
SAMPLES_PER_FRAME = 600
"""24 kHz audio: the decoder upsamples each predicted frame 2 x 10 x 6, and the iSTFT hop is 5."""


def real_config() -> dict:
    """Kokoro-82M v1.0's own config, as shipped in the ``kokoro-onnx`` wheel."""
    return json.loads((resources.files("kokoro_onnx") / "config.json").read_text(encoding="utf-8"))


def tiny_config() -> dict:
    """The real config with PL-BERT at 1 layer of width 32, one prosody layer and one resblock per stage."""
    config = copy.deepcopy(real_config())
    config["plbert"].update(hidden_size=32, num_attention_heads=2, intermediate_size=64, num_hidden_layers=1)
    config["n_layer"] = 1
    config["istftnet"].update(resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3, 5]])
    return config


def random_voice(seed: int) -> np.ndarray:
    """A (510, 1, 256) style table shaped like an official voice."""
    return (np.random.default_rng(seed).standard_normal((510, 1, 256)) * 0.1).astype(np.float32)


def build(folder: Path, config: dict, voices: dict[str, np.ndarray] | None = None, seed: int = 0) -> Path:
    """Write a loadable Kokoro model folder; returns ``folder``."""
    import torch
    from kokoro import KModel

    folder.mkdir(parents=True, exist_ok=True)
    empty = folder / "empty.pth"
    torch.save({}, empty)  # KModel always reads a state dict; an empty one keeps its random init
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's LSTM-dropout and weight_norm notices
        model = KModel(repo_id="hexgrad/Kokoro-82M", config=config, model=str(empty))
    empty.unlink()
    duration = model.predictor.duration_proj.linear_layer
    with torch.no_grad():
        # duration = sum over max_dur bins of sigmoid(logit): constant logits give a fixed frame count.
        duration.weight.zero_()
        duration.bias.fill_(math.log(FRAMES_PER_PHONEME / (config["max_dur"] - FRAMES_PER_PHONEME)))
    state = {part: {f"module.{k}": v for k, v in getattr(model, part).state_dict().items()} for part in PARTS}
    torch.save(state, folder / MODEL_FILE)
    del state, model
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    for name, table in (voices or {}).items():
        (folder / "voices").mkdir(exist_ok=True)
        torch.save(
            torch.from_numpy(np.ascontiguousarray(table, dtype=np.float32)), folder / "voices" / f"{name}.pt"
        )
    return folder
