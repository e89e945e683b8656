"""The composer: engine and voice pickers from the real catalogue, controls greyed out where an engine
lacks them, and the request it builds."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from app.services.catalog import catalogue
from app.ui.widgets.composer import ComposerPanel
from app.ui.widgets.voice_picker import choices_from_catalogue


@pytest.fixture
def composer(qtbot, registry):
    panel = ComposerPanel()
    qtbot.addWidget(panel)
    entries = catalogue(registry)
    panel.set_catalogue(entries)
    profile = SimpleNamespace(
        id=7,
        name="Emma",
        language="en-gb",
        preferred_engine="kokoro",
        preferred_voice="bf_alice:0.6,bf_emma:0.4",
    )
    panel.set_choices(choices_from_catalogue(entries, [profile]))
    panel.show()
    return panel


def _engine(panel, engine_id):
    panel.engine.setCurrentIndex(panel.engine.findData(engine_id))


def test_engine_picker_filters_the_voices_and_languages(composer):
    _engine(composer, "piper")
    keys = {c.key for c in composer.voice.choices()}
    assert keys == {"piper:joe"}
    assert composer.voice.current().key == "piper:joe"
    assert not composer.language.isEnabled(), "Piper speaks one language: nothing to choose"

    _engine(composer, "kokoro")
    keys = {c.key for c in composer.voice.choices()}
    assert "kokoro:af_heart" in keys and "profile:7" in keys and "piper:joe" not in keys
    assert composer.voice.current().key == "kokoro:af_heart", "the engine's default voice"
    assert composer.language.isEnabled()
    languages = [composer.language.itemData(i) for i in range(composer.language.count())]
    assert languages[0] is None and "ja" in languages and "en-gb" in languages


def test_controls_an_engine_lacks_are_greyed_out_with_the_reason(composer):
    _engine(composer, "kokoro")
    composer.advanced.setChecked(True)
    for widget in (composer.temperature, composer.top_p, composer.top_k, composer.repetition_penalty):
        assert not widget.isEnabled()
        assert "Kokoro-82M (ONNX) does not use" in widget.toolTip()
    assert not composer.seed.isEnabled() and not composer.dice.isEnabled()

    # An engine that samples (as the cloning engines will) gets them all.
    entries = [dict(e) for e in catalogue()]
    for entry in entries:
        if entry["id"] == "kokoro":
            entry["capabilities"] = dict(
                entry["capabilities"], seeded=True, sampling=("temperature", "top_k")
            )
    composer.set_catalogue(entries)
    assert composer.temperature.isEnabled() and composer.top_k.isEnabled()
    assert not composer.top_p.isEnabled() and composer.seed.isEnabled()
    composer.text.setPlainText("Hello there.")
    composer.dice.click()
    seed = composer.seed.value()
    assert seed >= 0
    composer.temperature.setValue(0.7)
    request = composer.spec().request
    assert (request.seed, request.temperature, request.top_k, request.top_p) == (seed, 0.7, 50, None)


def test_the_spec_says_what_the_controls_show(composer, qtbot):
    _engine(composer, "kokoro")
    assert not composer.generate_button.isEnabled(), "nothing to say yet"
    qtbot.keyClicks(composer.text, "  Good morning, Emma.  ")
    assert composer.generate_button.isEnabled()
    assert "characters" in composer.length_label.text()
    assert composer.voice.select("profile:7")
    composer.speed.setValue(1.25)
    composer.language.setCurrentIndex(composer.language.findData("en-gb"))
    spec = composer.spec()
    assert spec.profile_id == 7
    assert dataclasses.asdict(spec.request) == {
        "text": "Good morning, Emma.",
        "voice": "bf_alice:0.6,bf_emma:0.4",
        "engine": "kokoro",
        "speed": 1.25,
        "language": "en-gb",
        "seed": None,
        "temperature": None,
        "top_p": None,
        "top_k": None,
        "repetition_penalty": None,
        "references": (),
        "instruct": None,
        "max_seconds": None,
    }
    with qtbot.waitSignal(composer.generateRequested) as emitted:
        qtbot.mouseClick(composer.generate_button, Qt.MouseButton.LeftButton)
    assert emitted.args[0] == spec


def test_busy_swaps_generate_for_stop(composer, qtbot):
    composer.text.setPlainText("Something to say.")
    composer.set_busy(True)
    assert not composer.generate_button.isEnabled() and composer.stop_button.isEnabled()
    with qtbot.waitSignal(composer.stopRequested):
        qtbot.mouseClick(composer.stop_button, Qt.MouseButton.LeftButton)
    with qtbot.assertNotEmitted(composer.generateRequested):
        composer.generate()
    composer.set_busy(False)
    assert composer.generate_button.isEnabled() and not composer.stop_button.isEnabled()


@pytest.fixture
def cloning_composer(qtbot, qwen_hub):
    from app.engines.piper_engine import PiperEngine
    from app.engines.qwen3_engine import Qwen3CloneEngine, Qwen3DesignEngine, Qwen3PresetEngine
    from app.engines.registry import Registry

    registry = Registry(
        {
            "piper": PiperEngine,
            "qwen3": lambda: Qwen3PresetEngine(size="1.7b", hub=qwen_hub),
            "qwen3-clone": lambda: Qwen3CloneEngine(hub=qwen_hub),
            "qwen3-design": lambda: Qwen3DesignEngine(hub=qwen_hub),
        }
    )
    panel = ComposerPanel()
    qtbot.addWidget(panel)
    entries = catalogue(registry)
    panel.set_catalogue(entries)
    recorded = SimpleNamespace(
        id=1,
        name="Ada",
        language="en",
        preferred_engine=None,
        preferred_voice=None,
        samples=[SimpleNamespace(duration=4.0)],
    )
    empty = SimpleNamespace(
        id=2, name="Bo", language=None, preferred_engine=None, preferred_voice=None, samples=[]
    )
    panel.set_choices(choices_from_catalogue(entries, [recorded, empty]))
    panel.show()
    return panel


@pytest.mark.slow
def test_profiles_are_voices_of_the_cloning_engine(cloning_composer):
    _engine(cloning_composer, "qwen3-clone")
    assert cloning_composer.voice.select("clone:qwen3-clone:1")
    spec_choice = cloning_composer.voice.current()
    assert spec_choice.available and "Cloned from 1 recording" in spec_choice.note
    assert not cloning_composer.voice.select("clone:qwen3-clone:2"), "no recordings, nothing to clone"
    cloning_composer.text.setPlainText("Hello there.")
    spec = cloning_composer.spec()
    assert spec.request.engine == "qwen3-clone" and spec.profile_id == 1 and spec.request.instruct is None
    assert cloning_composer.instruct.isHidden()


@pytest.mark.slow
def test_voice_design_asks_for_a_description_before_it_can_generate(cloning_composer, qtbot):
    cloning_composer.text.setPlainText("Hello there.")
    _engine(cloning_composer, "qwen3-design")
    assert cloning_composer.instruct.isVisible() and cloning_composer.instruct_label.text() == "Voice"
    assert not cloning_composer.generate_button.isEnabled()
    qtbot.keyClicks(cloning_composer.instruct, "A calm, deep voice.")
    assert cloning_composer.generate_button.isEnabled()
    assert cloning_composer.spec().request.instruct == "A calm, deep voice."
    _engine(cloning_composer, "qwen3")
    assert cloning_composer.instruct_label.text() == "Style" and cloning_composer.instruct.isVisible()
    # said before the wait: Qwen3 on this machine's CPU is slower than real time
    assert "Slower than real time" in cloning_composer.status.text()
    assert "on the CPU speaks about 8x slower than real time" in cloning_composer.status.toolTip()
    _engine(cloning_composer, "piper")
    assert cloning_composer.instruct.isHidden() and cloning_composer.spec().request.instruct is None
