"""Tiny checkpoints load with the real Qwen classes, generate, and build reproducibly and safely."""

import json
import multiprocessing
import shutil
from pathlib import Path

import pytest
import torch
import transformers
from PIL import Image

from deployments.hf import tiny
from deployments.hf.processor import load_vl_processor
from deployments.hf.tiny import BUILD_VERSION, build_tiny_checkpoint, ensure_tiny_checkpoint
from serve_app.config import TINY_ARCHITECTURES

CLASSES = {
    "qwen2": "Qwen2ForCausalLM",
    "qwen3-moe": "Qwen3MoeForCausalLM",
    "qwen2.5-vl": "Qwen2_5_VLForConditionalGeneration",
}
NEW_TOKENS = 8


def load(folder: Path, architecture: str):
    return getattr(transformers, CLASSES[architecture]).from_pretrained(folder).eval()


def test_every_configured_architecture_is_built(tiny_checkpoints: dict[str, Path]) -> None:
    assert set(tiny_checkpoints) == set(TINY_ARCHITECTURES) == set(CLASSES)


@pytest.mark.parametrize("architecture", list(CLASSES))
def test_config_names_the_real_class(tiny_checkpoints: dict[str, Path], architecture: str) -> None:
    folder = tiny_checkpoints[architecture]
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == [CLASSES[architecture]]
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    text_config = config.get("text_config", config)
    assert text_config["vocab_size"] == len(tokenizer)
    generation = json.loads((folder / "generation_config.json").read_text())
    assert generation["eos_token_id"] == tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    assert generation["pad_token_id"] == tokenizer.pad_token_id


@pytest.mark.parametrize("architecture", ["qwen2", "qwen3-moe"])
def test_text_models_generate(tiny_checkpoints: dict[str, Path], architecture: str) -> None:
    folder = tiny_checkpoints[architecture]
    model = load(folder, architecture)
    assert type(model).__name__ == CLASSES[architecture]
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], add_generation_prompt=True, return_dict=True, return_tensors="pt"
    )
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False)
    assert out.shape == (1, inputs["input_ids"].shape[1] + NEW_TOKENS)


def test_vl_processor_expands_the_image_and_the_model_generates(tiny_checkpoints: dict[str, Path]) -> None:
    folder = tiny_checkpoints["qwen2.5-vl"]
    processor = load_vl_processor(folder)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]}]
    prompt = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = processor(text=[prompt], images=[Image.new("RGB", (112, 84), "red")], return_tensors="pt")

    image_tokens = int((inputs["input_ids"] == processor.image_token_id).sum())
    assert image_tokens == int(inputs["image_grid_thw"].prod()) // 4 == 12
    assert inputs["pixel_values"].shape[0] == int(inputs["image_grid_thw"].prod())

    model = load(folder, "qwen2.5-vl")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False)
    assert out.shape == (1, inputs["input_ids"].shape[1] + NEW_TOKENS)


def test_vl_processor_pixel_bounds_are_set_at_construction(tiny_checkpoints: dict[str, Path]) -> None:
    def image_tokens(**pixels: int) -> int:
        processor = load_vl_processor(tiny_checkpoints["qwen2.5-vl"], **pixels)
        inputs = processor(text=[prompt], images=[Image.new("RGB", (640, 480))], return_tensors="pt")
        return int(inputs["image_grid_thw"].prod()) // 4

    prompt = "<|vision_start|><|image_pad|><|vision_end|>"
    assert image_tokens() <= 16 < image_tokens(max_pixels=28 * 28 * 64) <= 64


@pytest.mark.parametrize("architecture", list(CLASSES))
def test_builds_are_byte_identical(
    tiny_checkpoints: dict[str, Path], tmp_path: Path, architecture: str
) -> None:
    first = tiny_checkpoints[architecture]
    second = build_tiny_checkpoint(architecture, tmp_path / architecture)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert "model.safetensors" in names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_vl_processor_prefers_a_processor_chat_template(
    tiny_checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "vl"
    shutil.copytree(tiny_checkpoints["qwen2.5-vl"], folder)
    (folder / "chat_template.json").write_text(json.dumps({"chat_template": "{{ messages[0].role }}"}))
    assert load_vl_processor(folder).chat_template == "{{ messages[0].role }}"


def test_unknown_architecture_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="qwen2, qwen3-moe, qwen2.5-vl"):
        build_tiny_checkpoint("llama", tmp_path)


def test_ensure_from_three_processes_builds_one_folder(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        paths = pool.starmap(ensure_tiny_checkpoint, [("qwen2", tmp_path)] * 3)
    final = tmp_path / "tiny" / f"qwen2-{BUILD_VERSION}"
    assert paths == [final] * 3
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [".lock", final.name]
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= {
        p.name for p in final.iterdir()
    }
    load(final, "qwen2")


def test_ensure_reuses_and_never_exposes_a_failed_build(tmp_path: Path, monkeypatch) -> None:
    def half_build(architecture: str, folder: Path) -> Path:
        (folder / "config.json").write_text("{}")
        raise RuntimeError("disk full")

    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / ".build-dead.tmp").mkdir()  # left by a builder that was killed
    monkeypatch.setattr(tiny, "build_tiny_checkpoint", half_build)
    with pytest.raises(RuntimeError, match="disk full"):
        ensure_tiny_checkpoint("qwen2", tmp_path)
    assert [p.name for p in (tmp_path / "tiny").iterdir()] == [".lock"]

    monkeypatch.undo()
    built = ensure_tiny_checkpoint("qwen2", tmp_path)
    monkeypatch.setattr(tiny, "build_tiny_checkpoint", half_build)
    assert ensure_tiny_checkpoint("qwen2", tmp_path) == built
