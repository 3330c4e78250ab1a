"""The transformers engine: any Qwen checkpoint on CPU or one GPU, batched and streamed.

Concurrent requests share each decoding step: a continuous batcher (deployments/hf/batcher.py)
runs one decode loop per replica on its own thread, and every request joins it at the next step
and leaves when it ends, streaming its own tokens back to the event loop. The replica keeps
answering health checks and other requests while it decodes.

Why not transformers' own continuous batching (`model.init_continuous_batching`): it has one
seed per manager (a request's `seed` would not reproduce its text), no stop strings, no images
(transformers #43386) and no LoRA adapters, and on this project's CPUs it gave 0.68× this loop's
tokens/s at one stream and 0.73× at eight (README, "Batching in the transformers engine"). The batcher here is a small loop on the model's own forward and
attention interface that serves all of these; `bench/engine_throughput.py` measures both.

LoRA adapters are loaded with PEFT at start; one batch runs one adapter, so requests for
different adapters take turns (deployments/hf/adapters.py says why).
"""

import asyncio
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, AsyncIterator

import torch
from huggingface_hub import snapshot_download
from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoTokenizer
from transformers.utils import logging as hf_logging

from deployments.engine import Engine, EngineDelta
from deployments.errors import EngineError, InvalidRequestError
from deployments.hf.adapters import AdapterGate, activate_adapter, load_adapters
from deployments.hf.batcher import ContinuousBatcher, LoadedModel, single_threaded_torch
from deployments.hf.kv_cache import kv_bytes_per_token
from deployments.hf.processor import load_vl_processor
from deployments.hf.ragged_attention import RAGGED_ATTENTION
from deployments.hf.sampling import TokenSampler
from deployments.hf.sequence import Finished, OutputSink, Prompt, Sequence
from deployments.hf.streaming import TextStream
from deployments.hf.tiny import ensure_tiny_checkpoint
from deployments.images import load_images
from deployments.lora import adapter_folder, check_adapter
from deployments.prompt import chat_messages, completion_budget
from deployments.types import GenerationRequest, Usage
from serve_app.config import ImageConfig, ModelConfig, TransformersEngineConfig

# What a transformers checkpoint needs; leaves out other formats a hub repo may carry.
_CHECKPOINT_FILES = ["*.json", "*.safetensors", "*.txt", "*.jinja", "*.model", "*.tiktoken"]
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_MIB = 2**20


class TransformersEngine(Engine):
    def __init__(self, model: ModelConfig, images: ImageConfig, cache_dir: Path) -> None:
        assert isinstance(model.engine, TransformersEngineConfig)
        self._config = model
        self._options = model.engine
        self._images = images
        self._cache_dir = cache_dir
        self._device = _resolve_device(model.engine.device)
        self._gate = AdapterGate(lambda adapter: activate_adapter(self._model, adapter))
        self._model: Any = None
        self._tokenizer: Any = None
        self._processor: Any = None  # image models only
        self._rope_index: Any = None  # M-RoPE models only: positions of an image prompt
        self._eos_token_ids: frozenset[int] = frozenset()
        self._batcher = ContinuousBatcher(
            device=self._device,
            max_sequences=model.engine.max_concurrency,
            torch_threads=model.engine.torch_threads,
            name=model.name,
        )
        # Tokenizing and image processing, off the event loop and off the decode loop's thread.
        self._helpers = ThreadPoolExecutor(
            max_workers=2, thread_name_prefix=f"encode-{model.name}", initializer=single_threaded_torch
        )
        self._loaded = False

    async def start(self) -> None:
        await asyncio.wrap_future(self._batcher.start(self._load))
        self._loaded = True

    def _load(self) -> LoadedModel:
        """Runs on the decode loop's thread (deployments/hf/batcher.py says why)."""
        hf_logging.disable_progress_bar()  # per-shard progress bars would flood replica logs
        source = self._checkpoint_folder()
        dtype = _DTYPES.get(self._options.dtype) or (
            torch.bfloat16 if self._device.type == "cuda" else torch.float32
        )
        model_class = AutoModelForImageTextToText if self._config.accepts_images else AutoModelForCausalLM
        model = model_class.from_pretrained(source, dtype=dtype).to(self._device).eval()
        # Only the language model attends over the packed batch; a vision tower keeps its own.
        model.set_attn_implementation(
            {"text_config": RAGGED_ATTENTION} if self._config.accepts_images else RAGGED_ATTENTION
        )
        self._rope_index = next((m.get_rope_index for m in model.modules() if hasattr(m, "get_rope_index")), None)
        text_config = model.config.get_text_config()
        kv_cache_tokens = self._kv_cache_tokens(kv_bytes_per_token(text_config, dtype))
        if self._config.adapters:
            folders = {a.name: adapter_folder(a) for a in self._config.adapters}
            model = load_adapters(model, folders).to(self._device)
        self._model = model
        self._tokenizer = AutoTokenizer.from_pretrained(source)
        if self._config.accepts_images:
            self._processor = load_vl_processor(source)
        configured = model.generation_config.eos_token_id
        ids = configured if isinstance(configured, list) else [configured]
        self._eos_token_ids = frozenset(i for i in ids if i is not None) or frozenset({self._tokenizer.eos_token_id})
        return LoadedModel(model, text_config.num_hidden_layers, kv_cache_tokens)

    def _kv_cache_tokens(self, bytes_per_token: int) -> int:
        """Tokens `kv_cache_mib` holds; it must hold one whole context, or a request could never run."""
        tokens = int(self._options.kv_cache_mib * _MIB) // bytes_per_token
        if tokens < self._config.context_length:
            needed = math.ceil(self._config.context_length * bytes_per_token / _MIB * 100) / 100
            raise ValueError(
                f"models[{self._config.name}].engine.kv_cache_mib: {self._options.kv_cache_mib} MiB holds "
                f"{tokens} tokens of this model's KV cache ({bytes_per_token} bytes per token), fewer than "
                f"its context_length {self._config.context_length}; allowed: at least {needed}, or a "
                "smaller context_length"
            )
        return tokens

    def _checkpoint_folder(self) -> Path:
        """A local folder with the checkpoint: built (tiny), given, or from the hub cache.

        `snapshot_download` honours HF_HUB_OFFLINE=1: it then only looks in the local cache.
        """
        if self._config.tiny_architecture is not None:
            return ensure_tiny_checkpoint(self._config.tiny_architecture, self._cache_dir)
        local = Path(self._config.source).expanduser()
        if local.is_dir():
            return local
        return Path(
            snapshot_download(
                self._config.source, revision=self._config.revision, allow_patterns=_CHECKPOINT_FILES
            )
        )

    async def generate(self, request: GenerationRequest) -> AsyncIterator[EngineDelta]:
        check_adapter(self._config, request.adapter)
        images = await self._request_images(request)
        prompt = await asyncio.get_running_loop().run_in_executor(self._helpers, self._encode, request, images)
        prompt_tokens = len(prompt.token_ids)
        max_new_tokens = completion_budget(prompt_tokens, request.sampling.max_tokens, self._config.context_length)
        sequence = self._sequence(request, prompt, max_new_tokens)
        batcher = self._batcher

        await self._gate.acquire(request.adapter)
        # The adapter's turn ends when the batch has let the sequence go, not when its client
        # leaves: an adapter switch never happens under a running sequence.
        sequence.sink.retired.add_done_callback(lambda _: self._gate.release())
        try:
            batcher.submit(sequence)
        except BaseException:
            sequence.sink.retire()
            raise
        try:
            while True:
                # All text since the last delta in one: a consumer that fell behind catches up
                # in one delta instead of one per token.
                items = await sequence.sink.next_items()
                text = "".join(item for item in items if isinstance(item, str))
                end = next((item for item in items if not isinstance(item, str)), None)
                if isinstance(end, BaseException):
                    raise EngineError(f"generation failed: {type(end).__name__}") from end
                if isinstance(end, Finished):
                    usage = Usage(prompt_tokens, end.completion_tokens)
                    yield EngineDelta(text, finish_reason=end.finish_reason, usage=usage)  # type: ignore[arg-type]
                    return
                if text:
                    yield EngineDelta(text)
        finally:
            batcher.cancel(sequence)  # no-op once it has finished
            await asyncio.shield(sequence.sink.retired)

    def _sequence(self, request: GenerationRequest, prompt: Prompt, max_new_tokens: int) -> Sequence:
        sampling = request.sampling
        try:
            sampler = TokenSampler(
                temperature=sampling.temperature, top_p=sampling.top_p, seed=sampling.seed, device=self._device
            )
        except (RuntimeError, ValueError, OverflowError) as exc:  # e.g. a seed torch cannot take
            raise EngineError(f"generation failed: {type(exc).__name__}") from exc
        return Sequence(
            prompt,
            sampler=sampler,
            text=TextStream(self._tokenizer, sampling.stop),
            max_new_tokens=max_new_tokens,
            eos_token_ids=self._eos_token_ids,
            sink=OutputSink(asyncio.get_running_loop()),
            solo=sampling.seed is not None,
        )

    def active_generations(self) -> int:
        """Sequences in the batch; one whose client left stops counting once the batch dropped it."""
        return self._batcher.active()

    async def _request_images(self, request: GenerationRequest) -> list[Any]:
        if not request.images:
            return []
        if self._processor is None:
            raise InvalidRequestError(
                f"model {self._config.name!r} does not accept images", param="messages"
            )
        return await load_images(request.images, self._images)

    def _encode(self, request: GenerationRequest, images: list[Any]) -> Prompt:
        chat = chat_messages(request.messages, with_images=self._processor is not None)
        text = self._tokenizer.apply_chat_template(
            chat, tokenize=False, add_generation_prompt=True, **dict(request.chat_template_kwargs)
        )
        if self._processor is None:
            return Prompt.text(self._tokenizer(text, add_special_tokens=False)["input_ids"])
        encoded = self._processor(text=[text], images=images or None, return_tensors="pt")
        token_ids = encoded["input_ids"][0].tolist()
        if not images:
            return Prompt.text(token_ids, axes=3)
        positions, offset = self._rope_index(
            encoded["input_ids"], mm_token_type_ids=encoded["mm_token_type_ids"], image_grid_thw=encoded["image_grid_thw"]
        )
        vision = {name: encoded[name].to(self._device) for name in ("pixel_values", "image_grid_thw")}
        return Prompt(token_ids, positions[:, 0].tolist(), int(offset), vision)

    async def check_health(self) -> None:
        if not self._loaded:
            raise EngineError(f"model {self._config.name!r} is not loaded")
        if not self._batcher.alive:
            raise EngineError(f"model {self._config.name!r}: the decode loop has stopped")

    async def shutdown(self) -> None:
        await asyncio.to_thread(self._batcher.stop)
        self._helpers.shutdown(wait=False, cancel_futures=True)
        self._loaded = False
        self._model = None
        if self._device.type == "cuda":
            torch.cuda.empty_cache()


def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
