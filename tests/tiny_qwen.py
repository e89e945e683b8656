"""Build tiny, randomly initialised Qwen3-TTS checkpoints (Base, CustomVoice, VoiceDesign) offline.

The architecture is the real one at toy sizes (hidden 32, 4 codebooks of 64 codes), so
``Qwen3TTSModel.from_pretrained`` and every generate call run their real code in a second or two.
Gotchas (from the verified recipe): the text tokenizer is trained in memory with the chat specials;
``save_pretrained`` writes a ``model_type`` into the speaker-encoder config that its ``__init__``
rejects on reload, so it is removed.
"""

from __future__ import annotations

import json
from pathlib import Path

CODEBOOK = 64
CODEBOOKS = 4
HIDDEN = 32
SPEAKERS = {"ryan": 40, "dylan": 41}


def _text_tokenizer():  # noqa: ANN202 - transformers is imported lazily
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tts_pad>", "<tts_bos>", "<tts_eos>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = ["assistant\nuser\nsystem\n"] * 200 + [
        "Hello world. The quick brown fox jumps over the lazy dog."
    ] * 20
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus, trainer)
    return Qwen2TokenizerFast(
        tokenizer_object=tok, unk_token=None, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )


def build(out_dir: Path, model_type: str, never_stop: bool = False, size: str = "0b6") -> Path:
    """Write a complete checkpoint folder for ``model_type`` (base, custom_voice, voice_design).

    ``never_stop`` moves the stop code outside the codec vocabulary, so the model can never sample it
    and always generates up to the length bound: a forced runaway, and a stream of known length.
    ``size`` is what the checkpoint says it is (``0b6`` or ``1b7``): qwen-tts ignores style instructions
    on 0.6B CustomVoice models.
    """
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

    def special(k: int) -> int:
        return CODEBOOK + 100 + k

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
            codec_pad_id=special(0),
            codec_bos_id=special(1),
            codec_eos_token_id=CODEBOOK + 1024 if never_stop else special(2),
            codec_think_id=special(6),
            codec_nothink_id=special(7),
            codec_think_bos_id=special(8),
            codec_think_eos_id=special(9),
            codec_language_id={
                "english": special(20),
                "chinese": special(21),
                "german": special(22),
                "beijing_dialect": special(23),
            },
            spk_id={name: special(k) for name, k in SPEAKERS.items()},
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
            enc_channels=[16, 16, 16, 16, 48],
            enc_attention_channels=8,
            enc_res2net_scale=2,
            enc_se_channels=8,
        ),
        tokenizer_type="qwen3_tts_tokenizer_12hz",
        tts_model_size=size,
        tts_model_type=model_type,
        im_start_token_id=ids["<|im_start|>"],
        im_end_token_id=ids["<|im_end|>"],
        tts_pad_token_id=ids["<tts_pad>"],
        tts_bos_token_id=ids["<tts_bos>"],
        tts_eos_token_id=ids["<tts_eos>"],
    )
    torch.manual_seed(0)
    Qwen3TTSForConditionalGeneration(cfg).save_pretrained(out_dir)
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
            codebook_dim=16,
            hidden_size=HIDDEN,
            latent_dim=HIDDEN,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            head_dim=16,
            intermediate_size=2 * HIDDEN,
            num_quantizers=CODEBOOKS,
            decoder_dim=32,
        ),
        encoder_valid_num_quantizers=CODEBOOKS,
    )
    st_dir = out_dir / "speech_tokenizer"
    codec = Qwen3TTSTokenizerV2Model(st_cfg)
    with (
        torch.no_grad()
    ):  # codebooks start at zero (they are learnt by EMA): give them values, or all is silence
        for name, param in codec.named_parameters():
            if name.endswith("_codebook.embedding_sum"):
                param.normal_(0.0, 1.0)
        for name, buffer in codec.named_buffers():
            if name.endswith("_codebook.embedding_sum"):
                buffer.normal_(0.0, 1.0)
    codec.save_pretrained(st_dir)
    EncodecFeatureExtractor(feature_size=1, sampling_rate=24000, padding_value=0.0).save_pretrained(st_dir)
    return out_dir
