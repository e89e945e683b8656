"""A tiny random-weight XTTS v2 checkpoint, laid out like the real ``coqui/XTTS-v2`` folder.

The real weights (1.9 GB, non-commercial licence) cannot be fetched here, so the tests run the real
``coqui-tts`` code on a model with the same structure and file formats: ``config.json`` (an
``XttsConfig``), ``model.pth`` (``{"model": state_dict, "config": XttsConfig}``, pickled as the official
file is), ``vocab.json`` (a BPE tokenizer with the special and language tokens XTTS expects) and
``speakers_xtts.pth`` (name -> conditioning latents). The GPT is one 32-wide layer; the HiFi-GAN
vocoder and the speaker encoder keep their real size (``coqui-tts`` hard-codes them), so their cost per
second of audio is the real one. Built in ~5 s.
"""

from __future__ import annotations

from pathlib import Path

SPEAKERS = ("Claribel Dervla", "Daisy Studious", "Andrew Chipper")
"""Three studio speaker names (as in the real speakers_xtts.pth), with random latents."""

CORPUS = (
    "hello world the quick brown fox jumps over the lazy dog , . ! ? ' - "
    "this is a longer sentence for streaming speech in small pieces one two three four five six "
    "good morning again and again we speak slowly then quickly"
)


def build_tiny_xtts(folder: Path, max_audio_tokens: int = 16) -> Path:
    """Write the four files of a tiny XTTS v2 into ``folder`` and return it.

    ``max_audio_tokens`` bounds the GPT (the real model allows 605, about 28 s); the tiny one stops after
    ``max_audio_tokens - 3`` tokens of ~46 ms each, since random weights rarely emit the stop token.
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from TTS.tts.configs.xtts_config import XttsConfig
    from TTS.tts.layers.xtts.tokenizer import VoiceBpeTokenizer
    from TTS.tts.models.xtts import Xtts, _legacy_safe_globals

    folder.mkdir(parents=True, exist_ok=True)
    config = XttsConfig()
    # The sampling and conditioning defaults of the real config.json (the library's own differ).
    config.temperature = 0.75
    config.repetition_penalty = 5.0
    config.gpt_cond_len = 30
    config.gpt_cond_chunk_len = 4
    config.max_ref_len = 30

    specials = ["[STOP]", "[UNK]", "[SPACE]", "[START]"] + [f"[{lang}]" for lang in config.languages]
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator([CORPUS] * 50, trainers.BpeTrainer(vocab_size=200, special_tokens=specials))
    tokenizer.save(str(folder / "vocab.json"))

    # Real v2: 30 layers x 1024 channels, 605 audio tokens, perceiver resampler, 1024-sample code stride.
    config.model_args.update(
        dict(
            gpt_layers=1,
            gpt_n_model_channels=32,
            gpt_n_heads=2,
            decoder_input_dim=32,
            gpt_max_audio_tokens=max_audio_tokens,
            gpt_use_perceiver_resampler=True,
        )
    )
    torch.manual_seed(0)
    model = Xtts(config)
    model.tokenizer = VoiceBpeTokenizer(str(folder / "vocab.json"))
    model.init_models()
    config.save_json(str(folder / "config.json"))
    # Pickled like the official model.pth: the weights beside an XttsConfig object whose parts are
    # named by their old module (coqui-tts reads that through its legacy allow-list).
    with _legacy_safe_globals():
        torch.save({"model": model.state_dict(), "config": config}, folder / "model.pth")

    width = config.model_args.gpt_n_model_channels
    speakers = {}
    for name in SPEAKERS:
        embedding = torch.randn(1, 512, 1)
        speakers[name] = {
            "gpt_cond_latent": torch.randn(1, 32, width),
            "speaker_embedding": embedding / embedding.norm(),
        }
    torch.save(speakers, folder / "speakers_xtts.pth")
    return folder
