"""Piper on its real en_US-joe-medium weights."""

from __future__ import annotations

import numpy as np
import pytest
from speech import rms, seconds, voiced_fraction, words_per_second_ok

from app.core.errors import CancelledError, VoiceNotFoundError
from app.core.models import CancelToken, SynthesisRequest

TEXT = "The quick brown fox jumps over the lazy dog."


def _speak(engine, text=TEXT, **kwargs):
    pieces = list(engine.synthesize(SynthesisRequest(text=text, **kwargs), CancelToken()))
    assert pieces, "Piper yielded nothing"
    assert {p.sample_rate for p in pieces} == {22050}
    return np.concatenate([p.samples for p in pieces])


def test_speaks_a_sentence_at_speech_length(piper):
    audio = _speak(piper)
    assert audio.dtype == np.float32
    assert words_per_second_ok(TEXT, seconds(audio, 22050))
    assert rms(audio) > 0.02
    assert voiced_fraction(audio, 22050) > 0.4
    assert np.max(np.abs(audio)) <= 1.0


def test_speed_changes_duration(piper):
    normal = seconds(_speak(piper, speed=1.0), 22050)
    fast = seconds(_speak(piper, speed=1.8), 22050)
    assert fast < normal * 0.8


def test_capabilities_and_voices(piper):
    caps = piper.capabilities
    assert caps.sample_rate == 22050
    assert "en-us" in caps.languages
    voices = piper.voices()
    assert [v.id for v in voices] == ["joe"]
    assert voices[0].available


def test_voice_aliases_and_unknown_voice(piper):
    assert piper.resolve_voice("en_US-joe-medium") == "joe"
    assert piper.resolve_voice("JOE") == "joe"
    with pytest.raises(VoiceNotFoundError) as info:
        piper.resolve_voice("jo")
    assert "joe" in info.value.suggestions


def test_cancel_stops_before_the_next_sentence(piper):
    cancel = CancelToken()
    text = "First sentence here. Second sentence here. Third sentence here. Fourth one."
    produced = []
    with pytest.raises(CancelledError):
        for piece in piper.synthesize(SynthesisRequest(text=text), cancel):
            produced.append(piece)
            cancel.cancel()
    assert len(produced) == 1


def test_unload_then_speak_again(piper):
    piper.unload()
    assert not piper.loaded
    audio = _speak(piper, text="Back again.")
    assert piper.loaded
    assert rms(audio) > 0.02
