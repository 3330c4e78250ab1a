"""Tiny random-weight checkpoints of the real Qwen architectures, built locally in seconds.

The demo and the tests must serve Qwen2, Qwen3-MoE and Qwen2.5-VL without the internet, through
the same transformers classes, tokenizer files and chat templates as hub checkpoints. Weights
are seeded, so every build writes the same bytes; `ensure_tiny_checkpoint` lets many replica
processes share one cached build without ever exposing a half-written folder.
"""

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
import transformers

from deployments.hf import templates
from deployments.hf import tokenizer as tokenizer_module
from deployments.hf.tokenizer import (
    ENDOFTEXT,
    IM_END,
    IMAGE_PAD,
    VIDEO_PAD,
    VISION_END,
    VISION_START,
    write_tokenizer,
)
from serve_app.config import TINY_ARCHITECTURES

SEED = 0
_TEXT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 4096,
    "rope_parameters": {"rope_type": "default", "rope_theta": 1_000_000.0},
    "tie_word_embeddings": True,
}
# vLLM's CPU attention needs head_dim >= 64: Qwen2 widened to two 64-wide heads, with Qwen3's
# chat template (the thinking switch), for runs of the vLLM engine on a CPU build.
_WIDE_TEXT = {
    **_TEXT,
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_attention_heads": 2,
    "num_key_value_heads": 2,
    "head_dim": 64,
}
# head_dim 16: the three M-RoPE sections (temporal, height, width) cover its 8 frequencies.
_VL_TEXT = {**_TEXT, "rope_parameters": {**_TEXT["rope_parameters"], "mrope_section": [2, 3, 3]}}
_VISION = {
    "depth": 2,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_heads": 2,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "window_size": 112,
    "fullatt_block_indexes": [1],
    "out_hidden_size": _TEXT["hidden_size"],
}
# A 112x84 image resizes to 112x84 (multiples of 28): 8x6 patches, merged 2x2 into 12 tokens.
_PREPROCESSOR = {
    "min_pixels": 56 * 56,
    "max_pixels": 28 * 28 * 16,
    "patch_size": _VISION["patch_size"],
    "temporal_patch_size": _VISION["temporal_patch_size"],
    "merge_size": _VISION["spatial_merge_size"],
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "image_processor_type": "Qwen2VLImageProcessor",
    "processor_class": "Qwen2_5_VLProcessor",
}
# architecture -> (config class, model class, chat template, config kwargs)
_RECIPES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", templates.QWEN2_5, _TEXT),
    "qwen3-moe": (
        "Qwen3MoeConfig",
        "Qwen3MoeForCausalLM",
        templates.QWEN3,
        {
            **_TEXT,
            "num_experts": 4,
            "num_experts_per_tok": 2,
            "moe_intermediate_size": 64,
            "norm_topk_prob": True,
        },
    ),
    "qwen2.5-vl": (
        "Qwen2_5_VLConfig",
        "Qwen2_5_VLForConditionalGeneration",
        templates.QWEN2_5_VL,
        {"text_config": _VL_TEXT, "vision_config": _VISION, "tie_word_embeddings": True},
    ),
    "qwen2-wide": ("Qwen2Config", "Qwen2ForCausalLM", templates.QWEN3, _WIDE_TEXT),
}

def _recipe_hash() -> str:
    """Hash the recipe's source and the transformers version: any change names a new cache folder."""
    digest = hashlib.sha256(transformers.__version__.encode())
    for module_file in (tokenizer_module.__file__, templates.__file__, __file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()[:10]


BUILD_VERSION = _recipe_hash()


def build_tiny_checkpoint(architecture: str, folder: Path) -> Path:
    """Write a complete checkpoint folder (weights, configs, tokenizer, template) into `folder`."""
    if architecture not in _RECIPES:
        choices = ", ".join(_RECIPES)
        raise ValueError(f"unknown tiny architecture {architecture!r}; choose one of {choices}")
    config_class, model_class, chat_template, config_kwargs = _RECIPES[architecture]
    folder = Path(folder)
    tokenizer = write_tokenizer(folder, chat_template)
    ids = {
        token: tokenizer.token_to_id(token)
        for token in (ENDOFTEXT, IM_END, VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD)
    }
    token_ids = {"bos_token_id": ids[ENDOFTEXT], "eos_token_id": ids[IM_END], "pad_token_id": ids[ENDOFTEXT]}
    vocab = {"vocab_size": tokenizer.get_vocab_size()}
    if "text_config" in config_kwargs:
        config = getattr(transformers, config_class)(
            **{**config_kwargs, "text_config": {**config_kwargs["text_config"], **vocab, **token_ids}},
            image_token_id=ids[IMAGE_PAD],
            video_token_id=ids[VIDEO_PAD],
            vision_start_token_id=ids[VISION_START],
            vision_end_token_id=ids[VISION_END],
        )
        (folder / "preprocessor_config.json").write_text(json.dumps(_PREPROCESSOR, indent=2) + "\n")
    else:
        config = getattr(transformers, config_class)(**config_kwargs, **vocab, **token_ids)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        model = getattr(transformers, model_class)(config)
    model.generation_config = transformers.GenerationConfig(
        bos_token_id=ids[ENDOFTEXT], eos_token_id=[ids[IM_END], ids[ENDOFTEXT]], pad_token_id=ids[ENDOFTEXT]
    )
    model.save_pretrained(folder)
    return folder


def ensure_tiny_checkpoint(architecture: str, cache_dir: Path) -> Path:
    """Return the cached build of `architecture`, building it once even across processes.

    Builders hold one lock file while they build into a temporary sibling, then rename it into
    place; the final name therefore only ever holds a finished folder.
    """
    final = Path(cache_dir) / "tiny" / f"{architecture}-{BUILD_VERSION}"
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if final.is_dir():
            return final
        # Under the lock, any temporary folder belongs to a builder that died.
        for stale in final.parent.glob(".build-*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=".build-", suffix=".tmp", dir=final.parent))
        staging.chmod(0o755)  # mkdtemp's 0o700 would hide a shared cache from other users
        try:
            build_tiny_checkpoint(architecture, staging)
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return final


def build_tiny_adapter(base: Path, folder: Path, *, rank: int = 8, seed: int = 1) -> Path:
    """A seeded random LoRA adapter in PEFT format for the text checkpoint in `base`.

    Its weights are random, not zero (PEFT's default makes a fresh adapter a no-op), so the
    adapter really changes what the model computes.
    """
    from peft import LoraConfig, get_peft_model

    model = transformers.AutoModelForCausalLM.from_pretrained(base)
    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        init_lora_weights=False,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        get_peft_model(model, config).save_pretrained(folder)
    return Path(folder)


def write_tiny_checkpoints(target: Path) -> dict[str, Path]:
    """Build every tiny architecture into `target/<architecture>` (the `tiny-models` command)."""
    return {arch: build_tiny_checkpoint(arch, Path(target) / arch) for arch in TINY_ARCHITECTURES}
