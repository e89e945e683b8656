"""Matching a profile to the built-in voices, on real recordings made by the built-in voices."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from app.cli import main
from app.core.models import CancelToken, SynthesisRequest
from app.services import matching, speaker
from app.services.voices import VoiceMatcher
from app.storage.library import Library

HELD_OUT = "bf_emma"
TEXT = "She sold the little house by the river and moved to the city, where the winters were long and grey."


@pytest.fixture(scope="module")
def emma(kokoro) -> np.ndarray:
    request = SynthesisRequest(text=TEXT, voice=HELD_OUT)
    return np.concatenate([c.samples for c in kokoro.synthesize(request, CancelToken())])


def test_a_voice_left_out_is_matched_by_gender_and_accent_and_the_blend_helps(kokoro, emma):
    target = matching.profile_print([(emma, 24000)])
    candidates = matching.candidate_voices(kokoro, "en", exclude=(HELD_OUT,))
    assert HELD_OUT not in candidates and "af_heart" in candidates and "ff_siwis" not in candidates
    result = matching.match(kokoro, target, candidates)
    best, _ = result.ranking[0]
    assert best.startswith("bf_"), f"a British woman should sound closest, got {result.ranking[:3]}"
    assert result.best_single[0] == best
    assert result.similarity > result.best_single[1], (
        "the fitted blend sounds more like her than any one voice"
    )
    lead = result.voice.split(",")[0].split(":")[0]
    assert lead.startswith("bf_") or lead.startswith("af_"), result.voice


def test_profile_match_from_the_command_line_then_speak_with_it(
    timbre_home, tmp_path, emma, capsys, registry
):
    recording = tmp_path / "emma.wav"
    sf.write(recording, np.concatenate([np.zeros(12000, np.float32), emma]), 24000)
    assert main(["profiles", "create", "Emma", str(recording), "--transcript", TEXT]) == 0
    assert capsys.readouterr().out.strip() == "Emma"
    assert main(["speak", "Hello.", "--profile", "Emma", "--no-play"]) == 1
    assert "profiles match" in capsys.readouterr().err

    with Library() as library:
        matcher = VoiceMatcher(library, registry)
        assert not matcher.is_print_cached("Emma")
    assert main(["profiles", "match", "Emma", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["ranking"][0][0] == HELD_OUT, "her own voice is among the candidates and must win"
    assert found["similarity"] >= found["best_single"][1] > 0.85

    assert main(["speak", "Good evening, and welcome home.", "--profile", "Emma", "--no-play"]) == 0
    capsys.readouterr()
    assert main(["history", "show", "1", "--json"]) == 0
    generation = json.loads(capsys.readouterr().out)
    assert generation["profile_id"] is not None and generation["engine"] == "kokoro"

    with Library() as library:
        matcher = VoiceMatcher(library, registry)
        assert matcher.is_print_cached("Emma"), "the voice print is kept for next time"
        audio, rate = sf.read(generation["path"], dtype="float32")
        own = matcher.score(audio, rate, "Emma")
        adam = np.concatenate(
            [
                c.samples
                for c in registry.get("kokoro").synthesize(
                    SynthesisRequest(text=TEXT, voice="am_adam"), CancelToken()
                )
            ]
        )
        assert own > matcher.score(adam, 24000, "Emma") + 0.3
        sample = library.profiles.get("Emma").samples[0]
        library.profiles.set_transcript(sample.id, TEXT.upper())
        assert not matcher.is_print_cached("Emma"), "editing a transcript invalidates the cached conditioning"
        assert speaker.similarity(matcher.profile_print("Emma"), matcher.profile_print("Emma")) > 0.999
        assert matcher.is_print_cached("Emma")
