"""Build tiny, randomly initialised checkpoints for the MLX engine tests: Qwen3-TTS and Kokoro.

Run once, as a subprocess, with the *main* virtualenv (``.venv``: torch, qwen-tts and kokoro live
there, while mlx-audio needs a newer transformers and lives in ``.venv-mlx``)::

    .venv/bin/python tests/engines/mlx/build_tiny.py OUT_DIR

It writes ``qwen3-customvoice``, ``qwen3-base`` and ``qwen3-voicedesign`` (the official Qwen3-TTS
layout, PyTorch weights as ``save_pretrained`` writes them) and ``kokoro`` (the Kokoro-82M config with a
one-layer PL-BERT, weights as ``.safetensors`` under the original PyTorch key names, two voice packs)
into OUT_DIR, then ``OUT_DIR/COMPLETE`` last. mlx-audio's loaders convert the PyTorch layout on load, as
they do for the official weights.

Sizes are chosen for mlx-audio's loader, not for speed alone:

- mlx-audio decides per Conv1d weight whether it is already in MLX layout by comparing its
  dimensions; a 1x1 convolution with 64 input channels or fewer is read the wrong way round. So every
  such convolution here has more than 64 input channels: the codec decoder's last stage has 66
  channels, the speaker encoder's layers 72.
- MLX on a Linux CPU convolves slowly (about 2 s for one second of 72-channel audio), so the codec
  decoder has two upsampling stages (24 x 20 x the fixed 2 x 2) instead of four, keeping 1920 samples
  per 80 ms frame with the least work at 24 kHz.
- The codec's codebooks are initialised as all-zero sums, which decode every code to silence; they
  are filled with random values so the audio is not trivially zero.
- A random talker ends an utterance with its end-of-speech code about once in 65 steps, which would
  make lengths a lottery; its output rows for the 64 speech codes are scaled up and the end-of-speech
  row zeroed, so generation runs to the length limit and tests can rely on it.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

CODEBOOK = 64
CODEBOOKS = 4
HIDDEN = 32
SPEAKERS = {"ryan": 40, "dylan": 41}
KOKORO_VOICES = ("ef_tiny", "em_tiny")
"""Spanish voice ids: Kokoro's Spanish reader is espeak-ng, which needs no download (English needs a
spaCy model)."""


def _special(k: int) -> int:
    return CODEBOOK + 100 + k


def _text_tokenizer():  # noqa: ANN202 - transformers is imported lazily
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tts_pad>", "<tts_bos>", "<tts_eos>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = ["assistant\nuser\nsystem\n"] * 200 + [
        "Hello world. The quick brown fox jumps over the lazy dog. A calm voice, very happy."
    ] * 20
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus, trainer)
    return Qwen2TokenizerFast(
        tokenizer_object=tok, unk_token=None, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )


def build_qwen(out_dir: Path, model_type: str, model_size: str) -> Path:
    """A complete Qwen3-TTS checkpoint folder (``base`` or ``custom_voice``)."""
    import torch
    from qwen_tts.core import Qwen3TTSTokenizerV2Config, Qwen3TTSTokenizerV2Model
    from qwen_tts.core.models import Qwen3TTSConfig, Qwen3TTSForConditionalGeneration
    from qwen_tts.core.models.processing_qwen3_tts import Qwen3TTSProcessor
    from transformers import EncodecFeatureExtractor

    out_dir.mkdir(parents=True, exist_ok=True)
    tok = _text_tokenizer()
    ids = {
        t: tok.convert_tokens_to_ids(t)
        for t in ["<|im_start|>", "<|im_end|>", "<tts_pad>", "<tts_bos>", "<tts_eos>"]
    }
    eos = _special(2)
    cfg = Qwen3TTSConfig(
        talker_config=dict(
            vocab_size=CODEBOOK + 1024,
            hidden_size=HIDDEN,
            intermediate_size=2 * HIDDEN,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=16,
            text_hidden_size=HIDDEN,
            text_vocab_size=len(tok),
            rope_scaling={"interleaved": True, "mrope_section": [4, 2, 2], "rope_type": "default"},
            num_code_groups=CODEBOOKS,
            codec_pad_id=_special(0),
            codec_bos_id=_special(1),
            codec_eos_token_id=eos,
            codec_think_id=_special(6),
            codec_nothink_id=_special(7),
            codec_think_bos_id=_special(8),
            codec_think_eos_id=_special(9),
            codec_language_id={
                "english": _special(20),
                "chinese": _special(21),
                "german": _special(22),
                "beijing_dialect": _special(23),
            },
            spk_id={name: _special(k) for name, k in SPEAKERS.items()},
            spk_is_dialect={"ryan": False, "dylan": "beijing_dialect"},
            code_predictor_config=dict(
                vocab_size=CODEBOOK,
                hidden_size=HIDDEN,
                intermediate_size=2 * HIDDEN,
                num_hidden_layers=1,
                num_attention_heads=2,
                num_key_value_heads=1,
                head_dim=16,
                num_code_groups=CODEBOOKS,
            ),
        ),
        speaker_encoder_config=dict(
            enc_dim=HIDDEN,
            enc_channels=[72, 72, 72, 72, 216],
            enc_attention_channels=72,
            enc_res2net_scale=2,
            enc_se_channels=72,
        ),
        tokenizer_type="qwen3_tts_tokenizer_12hz",
        tts_model_size=model_size,
        tts_model_type=model_type,
        im_start_token_id=ids["<|im_start|>"],
        im_end_token_id=ids["<|im_end|>"],
        tts_pad_token_id=ids["<tts_pad>"],
        tts_bos_token_id=ids["<tts_bos>"],
        tts_eos_token_id=ids["<tts_eos>"],
    )
    torch.manual_seed(0)
    model = Qwen3TTSForConditionalGeneration(cfg)
    with torch.no_grad():
        head = model.talker.codec_head.weight
        head[:CODEBOOK] *= 40.0
        head[eos] = 0.0
    model.save_pretrained(out_dir)
    # save_pretrained writes "model_type" into speaker_encoder_config, which its __init__ rejects on reload.
    config_path = out_dir / "config.json"
    config = json.loads(config_path.read_text())
    config["speaker_encoder_config"].pop("model_type", None)
    config_path.write_text(json.dumps(config, indent=1))
    Qwen3TTSProcessor(tokenizer=tok).save_pretrained(out_dir)
    generation = dict(
        do_sample=True,
        top_k=50,
        top_p=1.0,
        temperature=0.9,
        repetition_penalty=1.05,
        subtalker_dosample=True,
        subtalker_top_k=50,
        subtalker_top_p=1.0,
        subtalker_temperature=0.9,
        max_new_tokens=64,
    )
    (out_dir / "generation_config.json").write_text(json.dumps(generation))
    st_cfg = Qwen3TTSTokenizerV2Config(
        encoder_config=dict(
            hidden_size=HIDDEN,
            num_filters=4,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            head_dim=16,
            intermediate_size=2 * HIDDEN,
            codebook_size=CODEBOOK,
            codebook_dim=16,
            num_quantizers=CODEBOOKS,
            num_semantic_quantizers=1,
            vector_quantization_hidden_dimension=16,
            frame_rate=12.5,
            sampling_rate=24000,
            upsample_groups=HIDDEN,
        ),
        decoder_config=dict(
            codebook_size=CODEBOOK,
            codebook_dim=256,
            hidden_size=HIDDEN,
            latent_dim=96,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            head_dim=16,
            intermediate_size=2 * HIDDEN,
            num_quantizers=CODEBOOKS,
            decoder_dim=264,
            upsample_rates=(24, 20),
        ),
        encoder_valid_num_quantizers=CODEBOOKS,
    )
    st_dir = out_dir / "speech_tokenizer"
    codec = Qwen3TTSTokenizerV2Model(st_cfg)
    with torch.no_grad():  # codebooks start as all-zero sums: every code would decode to silence
        for name, tensor in [*codec.named_parameters(), *codec.named_buffers()]:
            if name.endswith(("embedding_sum", "embed_sum")):
                tensor.copy_(torch.randn(tensor.shape))
    codec.save_pretrained(st_dir)
    EncodecFeatureExtractor(feature_size=1, sampling_rate=24000, padding_value=0.0).save_pretrained(st_dir)
    return out_dir


def build_kokoro(out_dir: Path) -> Path:
    """Kokoro-82M's real config with a one-layer PL-BERT and random weights, plus two voice packs."""
    import importlib.resources as ir

    import torch
    from kokoro import KModel
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    # The real Kokoro-82M config (with its 178-symbol phoneme vocabulary) ships in the kokoro-onnx wheel.
    config = json.loads((ir.files("kokoro_onnx") / "config.json").read_text())
    tiny = copy.deepcopy(config)
    tiny["plbert"].update(hidden_size=32, num_attention_heads=2, intermediate_size=64, num_hidden_layers=1)
    tiny["n_layer"] = 1
    # One resblock per vocoder stage instead of three: the vocoder is most of the work, and its widths
    # (512 in, hard-wired) cannot shrink.
    tiny["istftnet"].update(resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3, 5]])
    (out_dir / "config.json").write_text(json.dumps(tiny, indent=1))
    empty = out_dir / "empty.pth"
    torch.save({}, empty)  # KModel always reads a state dict; an empty one keeps the random init
    torch.manual_seed(0)
    model = KModel(repo_id="hexgrad/Kokoro-82M", config=str(out_dir / "config.json"), model=str(empty))
    empty.unlink()
    lin = model.predictor.duration_proj.linear_layer
    with torch.no_grad():  # random init predicts ~25 frames a phoneme; about 2 keeps the audio short
        lin.weight.zero_()
        lin.bias.fill_(-3.2)
    # mlx-audio's AdaIN normalises without affine parameters; torch's InstanceNorm1d(affine=True)
    # starts as the identity (weight 1, bias 0), so leaving those out changes nothing.
    instance_norms = {
        name for name, module in model.named_modules() if isinstance(module, torch.nn.InstanceNorm1d)
    }
    state = {
        k: v.detach().contiguous()
        for k, v in model.state_dict().items()
        if k.rsplit(".", 1)[0] not in instance_norms
    }
    save_file(state, str(out_dir / "kokoro-v1_0.safetensors"))
    voices = out_dir / "voices"
    voices.mkdir(exist_ok=True)
    for i, name in enumerate(KOKORO_VOICES):
        gen = torch.Generator().manual_seed(100 + i)
        pack = torch.randn(510, 1, 256, generator=gen) * 0.1
        save_file({"voice": pack.contiguous()}, str(voices / f"{name}.safetensors"))
    return out_dir


def main(out: str) -> None:
    root = Path(out)
    build_qwen(root / "qwen3-customvoice", "custom_voice", "1b7")  # 1.7B takes style instructions
    build_qwen(root / "qwen3-base", "base", "0b6")
    build_qwen(root / "qwen3-voicedesign", "voice_design", "1b7")
    build_kokoro(root / "kokoro")
    (root / "COMPLETE").write_text("ok\n")


if __name__ == "__main__":
    main(sys.argv[1])
