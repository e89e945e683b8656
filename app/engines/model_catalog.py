"""The model catalogue: every set of weights Timbre can download, with its files, size and licence.

Kept apart from the hub (which moves the files) so the list reads as one table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """One downloadable model: a repository and the files of it that an engine reads."""

    id: str
    engine: str
    repo: str
    description: str
    files: tuple[str, ...]
    """Paths in the repository; a trailing ``*`` matches any name in that folder (``voices/*.pt``)."""
    required: tuple[str, ...]
    """Files that must be present for the model to load (checked after a download or an import)."""
    size_bytes: int
    """About how much it downloads (the exact sizes come from the hub's file list)."""
    licence: str
    licence_url: str
    commercial_use: bool = True
    revision: str = "main"
    memory_bytes: int = 0
    """About how much memory the engine takes with these weights loaded."""

    @property
    def licence_notice(self) -> str:
        """The licence in one or two sentences, said before a download."""
        text = f"{self.repo} is licensed under the {self.licence} ({self.licence_url})."
        if not self.commercial_use:
            text += " It may not be used for commercial purposes."
        return text


_QWEN_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "preprocessor_config.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "speech_tokenizer/config.json",
    "speech_tokenizer/preprocessor_config.json",
    "speech_tokenizer/model.safetensors",
)
_QWEN_REQUIRED = ("config.json", "model.safetensors", "speech_tokenizer/model.safetensors")
_APACHE = ("Apache License 2.0", "https://www.apache.org/licenses/LICENSE-2.0")
GB = 1_000_000_000


def _qwen(size: str, kind: str, repo_kind: str, description: str, nbytes: float) -> ModelSpec:
    return ModelSpec(
        id=f"qwen3-tts-{size.lower()}-{kind}",
        engine={"customvoice": "qwen3", "base": "qwen3-clone", "voicedesign": "qwen3-design"}[kind],
        repo=f"Qwen/Qwen3-TTS-12Hz-{size}-{repo_kind}",
        description=description,
        files=_QWEN_FILES,
        required=_QWEN_REQUIRED,
        size_bytes=int(nbytes * GB),
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        memory_bytes=int(nbytes * 1.3 * GB),
    )


CATALOG: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        _qwen("0.6B", "base", "Base", "Qwen3-TTS 0.6B: clone a voice from a 3-second recording", 2.5),
        _qwen("1.7B", "base", "Base", "Qwen3-TTS 1.7B: clone a voice (higher quality, slower)", 4.5),
        _qwen("0.6B", "customvoice", "CustomVoice", "Qwen3-TTS 0.6B: 9 preset speakers with styles", 2.5),
        _qwen("1.7B", "customvoice", "CustomVoice", "Qwen3-TTS 1.7B: 9 preset speakers with styles", 4.5),
        _qwen("1.7B", "voicedesign", "VoiceDesign", "Qwen3-TTS 1.7B: design a voice from a description", 4.5),
        ModelSpec(
            id="xtts-v2",
            engine="xtts",
            repo="coqui/XTTS-v2",
            description="Coqui XTTS v2: clone a voice in 17 languages; 58 studio speakers",
            files=("config.json", "model.pth", "vocab.json", "speakers_xtts.pth"),
            required=("config.json", "model.pth", "vocab.json"),
            size_bytes=int(1.9 * GB),
            licence="Coqui Public Model License 1.0.0",
            licence_url="https://coqui.ai/cpml",
            commercial_use=False,
            memory_bytes=int(2.5 * GB),
        ),
        ModelSpec(
            id="kokoro-82m",
            engine="kokoro-torch",
            repo="hexgrad/Kokoro-82M",
            description="Kokoro-82M full precision for PyTorch (CPU, CUDA, Apple GPU)",
            files=("config.json", "kokoro-v1_0.pth", "voices/*.pt"),
            required=("config.json", "kokoro-v1_0.pth"),
            size_bytes=int(0.36 * GB),
            licence=_APACHE[0],
            licence_url=_APACHE[1],
            memory_bytes=int(0.6 * GB),
        ),
        ModelSpec(
            id="nllb-200-distilled-600m",
            engine="nllb",
            repo="facebook/nllb-200-distilled-600M",
            description="NLLB-200 distilled 600M: translates narration between 200 languages",
            # main has only the pickle weights (model.safetensors sits in an unmerged pull request); the
            # fast tokenizer reads tokenizer.json, so sentencepiece.bpe.model is not needed.
            files=(
                "config.json",
                "generation_config.json",
                "pytorch_model.bin",
                "tokenizer.json",
                "tokenizer_config.json",
                "special_tokens_map.json",
            ),
            required=("config.json", "pytorch_model.bin", "tokenizer.json"),
            size_bytes=int(2.48 * GB),
            licence="Creative Commons Attribution-NonCommercial 4.0",
            licence_url="https://creativecommons.org/licenses/by-nc/4.0/",
            commercial_use=False,
            memory_bytes=int(2.5 * GB),
        ),
    )
}


_MLX_QWEN_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "model.safetensors.index.json",
    "preprocessor_config.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "speech_tokenizer/*",
)
"""What the mlx-community Qwen3-TTS conversions hold (patterns a repository may lack are skipped)."""
_MLX_QWEN_REQUIRED = ("config.json", "model.safetensors", "speech_tokenizer/model.safetensors")


def _mlx_qwen(size: str, kind: str, repo_kind: str, description: str, nbytes: float) -> ModelSpec:
    return ModelSpec(
        id=f"qwen3-tts-{size.lower()}-{kind}-mlx",
        engine={"customvoice": "qwen3-mlx", "base": "qwen3-clone-mlx", "voicedesign": "qwen3-design-mlx"}[
            kind
        ],
        repo=f"mlx-community/Qwen3-TTS-12Hz-{size}-{repo_kind}-bf16",
        description=description,
        files=_MLX_QWEN_FILES,
        required=_MLX_QWEN_REQUIRED,
        size_bytes=int(nbytes * GB),
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        memory_bytes=int(nbytes * 1.3 * GB),
    )


MLX_MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        _mlx_qwen("0.6B", "customvoice", "CustomVoice", "Qwen3-TTS 0.6B for MLX: 9 preset speakers", 1.2),
        _mlx_qwen(
            "1.7B", "customvoice", "CustomVoice", "Qwen3-TTS 1.7B for MLX: 9 preset speakers with styles", 3.4
        ),
        _mlx_qwen(
            "0.6B", "base", "Base", "Qwen3-TTS 0.6B for MLX: clone a voice from a 3-second recording", 1.2
        ),
        _mlx_qwen("1.7B", "base", "Base", "Qwen3-TTS 1.7B for MLX: clone a voice (higher quality)", 3.4),
        _mlx_qwen(
            "1.7B",
            "voicedesign",
            "VoiceDesign",
            "Qwen3-TTS 1.7B for MLX: design a voice from a description",
            3.4,
        ),
        ModelSpec(
            id="kokoro-82m-mlx",
            engine="kokoro-mlx",
            repo="mlx-community/Kokoro-82M-bf16",
            description="Kokoro-82M for MLX (Apple GPU)",
            files=("config.json", "kokoro-v1_0.safetensors", "voices/*.safetensors"),
            required=("config.json", "kokoro-v1_0.safetensors"),
            size_bytes=int(0.36 * GB),
            licence=_APACHE[0],
            licence_url=_APACHE[1],
            memory_bytes=int(0.6 * GB),
        ),
    )
}
"""The MLX entries of the model catalogue (``engines/hub.py`` lists them beside the PyTorch ones)."""


CATALOG.update(MLX_MODELS)
