"""Build a tiny, randomly initialised NLLB-200 checkpoint offline.

The real architecture (M2M100) at toy sizes, with a real NLLB fast tokenizer: a BPE vocabulary trained
in memory on a few sentences, wrapped as ``NllbTokenizerFast`` so the 202 FLORES-200 language codes are
its special tokens. Saved as the Hugging Face repository lays it out (``pytorch_model.bin``,
``tokenizer.json``...), so importing it through the model manager runs the translator's real loading
path in well under a second.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world, the tests are passing and the build is green.",
    "O rato roeu a roupa do rei de Roma.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Le renard brun saute par-dessus le chien paresseux.",
    "I fixed the bug in the parser and added a test for it.",
]


def _tokenizer():  # noqa: ANN202 - transformers is imported lazily
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import NllbTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "<pad>", "</s>", "<unk>"])
    tok.train_from_iterator(CORPUS * 10, trainer)
    # The language codes become added special tokens after the trained vocabulary, as in NLLB itself.
    return NllbTokenizerFast(tokenizer_object=tok, src_lang="eng_Latn")


def build(out_dir: Path, seed: int = 0) -> Path:
    """Write a complete checkpoint folder; the same seed gives the same weights."""
    import torch
    from transformers import GenerationConfig, M2M100Config, M2M100ForConditionalGeneration

    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer()
    ids = {name: tokenizer.convert_tokens_to_ids(name) for name in ("<s>", "<pad>", "</s>")}
    config = M2M100Config(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=1024,
        scale_embedding=True,
        init_std=0.5,  # far above the real 0.02, so the forced language token visibly steers the output
        bos_token_id=ids["<s>"],
        pad_token_id=ids["<pad>"],
        eos_token_id=ids["</s>"],
        decoder_start_token_id=ids["</s>"],
        tokenizer_class="NllbTokenizer",
    )
    torch.manual_seed(seed)
    model = M2M100ForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=ids["<s>"],
        pad_token_id=ids["<pad>"],
        eos_token_id=ids["</s>"],
        decoder_start_token_id=ids["</s>"],
        max_length=200,
    )
    model.save_pretrained(out_dir, safe_serialization=False)
    tokenizer.save_pretrained(out_dir)
    return out_dir
