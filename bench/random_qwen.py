"""A random-weight checkpoint with the real Qwen2.5-0.5B architecture, built locally.

No real checkpoint can be downloaded where the benchmarks run, and the tiny demo models are too
small to show what a real model's decoding costs: a step of Qwen2.5-0.5B reads about 0.5 billion
weights. Random weights of the same shapes cost exactly as much per step, so this checkpoint
measures real-size batching; its text means nothing.

It uses the tiny tokenizer (a few thousand ids) with the real 151,936-row embedding, as Qwen's
checkpoints pad their vocabulary: the rows past the tokenizer are zero, so their logits are 0,
and the others are scaled up so the sampled tokens are always ones the tokenizer can decode.
"""

from pathlib import Path

import torch
import transformers

from deployments.hf.tiny import ensure_tiny_checkpoint

QWEN2_5_0_5B = {
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
    "max_position_embeddings": 32768,
    "tie_word_embeddings": True,
    "rope_parameters": {"rope_type": "default", "rope_theta": 1_000_000.0},
}
_LOGIT_SCALE = 40.0  # in-vocabulary logits of a few tens: the zero rows never get drawn


def ensure_random_qwen2_5_0_5b(cache_dir: Path, dtype: str = "bfloat16") -> Path:
    """The checkpoint folder under `cache_dir`, built once (about 20 s, 1 GB in bfloat16)."""
    folder = Path(cache_dir) / f"random-qwen2.5-0.5b-{dtype}"
    if (folder / "config.json").is_file():
        return folder
    tiny = ensure_tiny_checkpoint("qwen2", cache_dir)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny)
    end_of_text = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    config = transformers.Qwen2Config(
        **QWEN2_5_0_5B, bos_token_id=end_of_text, eos_token_id=end_of_turn, pad_token_id=end_of_text
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = transformers.Qwen2ForCausalLM(config)
    with torch.no_grad():
        embedding = model.model.embed_tokens.weight
        embedding[len(tokenizer) :] = 0
        embedding[: len(tokenizer)] *= _LOGIT_SCALE
    model = model.to(getattr(torch, dtype))
    model.generation_config = transformers.GenerationConfig(
        eos_token_id=[end_of_turn, end_of_text], pad_token_id=end_of_text
    )
    staging = folder.with_name(folder.name + ".tmp")
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    staging.rename(folder)
    return folder
