"""The transformers engine: any Qwen checkpoint on CPU or one GPU, streamed.

Runs `model.generate` on a bounded thread pool (one thread per concurrent generation) and
bridges tokens back to the event loop, so a replica keeps answering health checks and other
requests while it generates. LoRA adapters are loaded with PEFT at start; generations with
different adapters take turns (deployments/hf/adapters.py says why).
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, AsyncIterator

import torch
from huggingface_hub import snapshot_download
from transformers.utils import logging as hf_logging
from transformers import (
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoTokenizer,
    GenerationConfig,
    LogitsProcessorList,
    StoppingCriteriaList,
)

from deployments.engine import Engine, EngineDelta
from deployments.errors import EngineError, InvalidRequestError
from deployments.hf.adapters import AdapterGate, activate_adapter, load_adapters
from deployments.hf.processor import load_vl_processor
from deployments.hf.sampling import GREEDY_BELOW_TEMPERATURE, SeededSampler
from deployments.hf.streaming import StopWhenFinished, StreamEnd, TokenStreamer
from deployments.hf.tiny import ensure_tiny_checkpoint
from deployments.images import load_images
from deployments.lora import adapter_folder, check_adapter
from deployments.prompt import chat_messages, completion_budget
from deployments.types import GenerationRequest, Usage
from serve_app.config import ImageConfig, ModelConfig, TransformersEngineConfig

# What a transformers checkpoint needs; leaves out other formats a hub repo may carry.
_CHECKPOINT_FILES = ["*.json", "*.safetensors", "*.txt", "*.jinja", "*.model", "*.tiktoken"]
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class TransformersEngine(Engine):
    def __init__(self, model: ModelConfig, images: ImageConfig, cache_dir: Path) -> None:
        assert isinstance(model.engine, TransformersEngineConfig)
        self._config = model
        self._options = model.engine
        self._images = images
        self._cache_dir = cache_dir
        self._device = _resolve_device(model.engine.device)
        self._executor = ThreadPoolExecutor(
            max_workers=model.engine.max_concurrency, thread_name_prefix=f"generate-{model.name}"
        )
        self._slots = asyncio.Semaphore(model.engine.max_concurrency)
        self._gate = AdapterGate(lambda adapter: activate_adapter(self._model, adapter))
        self._active = 0  # generation threads running or finishing
        self._model: Any = None
        self._tokenizer: Any = None
        self._processor: Any = None  # image models only
        self._eos_token_ids: list[int] = []

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    def _load(self) -> None:
        hf_logging.disable_progress_bar()  # per-shard progress bars would flood replica logs
        if self._options.torch_threads is not None:
            torch.set_num_threads(self._options.torch_threads)
        source = self._checkpoint_folder()
        dtype = _DTYPES.get(self._options.dtype) or (
            torch.bfloat16 if self._device.type == "cuda" else torch.float32
        )
        model_class = AutoModelForImageTextToText if self._config.accepts_images else AutoModelForCausalLM
        self._model = model_class.from_pretrained(source, dtype=dtype).to(self._device).eval()
        if self._config.adapters:
            folders = {a.name: adapter_folder(a) for a in self._config.adapters}
            self._model = load_adapters(self._model, folders).to(self._device)
        self._tokenizer = AutoTokenizer.from_pretrained(source)
        if self._config.accepts_images:
            self._processor = load_vl_processor(source)
        configured = self._model.generation_config.eos_token_id
        ids = configured if isinstance(configured, list) else [configured]
        self._eos_token_ids = [i for i in ids if i is not None] or [self._tokenizer.eos_token_id]

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
        inputs = await asyncio.to_thread(self._encode, request, images)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        max_new_tokens = completion_budget(prompt_tokens, request.sampling.max_tokens, self._config.context_length)

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | StreamEnd | BaseException] = asyncio.Queue()
        streamer = TokenStreamer(
            self._tokenizer,
            loop=loop,
            queue=queue,
            stop=request.sampling.stop,
            eos_token_ids=self._eos_token_ids,
            max_new_tokens=max_new_tokens,
        )
        job = await self._start_generation(request, inputs, streamer, max_new_tokens)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise EngineError(f"generation failed: {type(item).__name__}") from item
                if isinstance(item, StreamEnd):
                    usage = Usage(prompt_tokens, item.completion_tokens)
                    yield EngineDelta("", finish_reason=item.finish_reason, usage=usage)  # type: ignore[arg-type]
                    return
                yield EngineDelta(item)
        finally:
            streamer.abort()  # no-op when generation already ended
            await asyncio.shield(job)

    async def _start_generation(
        self, request: GenerationRequest, inputs: dict[str, Any], streamer: TokenStreamer, max_new_tokens: int
    ) -> "asyncio.Future[None]":
        """Wait for the request's adapter and a slot, then start its thread.

        Adapter turn and slot are given back when the thread has finished, not when the consumer
        leaves: a new generation (or an adapter switch) never overlaps one still running.
        """
        await self._gate.acquire(request.adapter)
        try:
            await self._slots.acquire()
        except BaseException:
            self._gate.release()
            raise
        self._active += 1
        job = asyncio.get_running_loop().run_in_executor(
            self._executor, self._run_generate, inputs, request, streamer, max_new_tokens
        )
        job.add_done_callback(self._generation_ended)
        return job

    def _generation_ended(self, _job: "asyncio.Future[None]") -> None:
        self._active -= 1
        self._slots.release()
        self._gate.release()

    def active_generations(self) -> int:
        """Generation threads still running; a consumer that left stops counting once its
        thread has stopped."""
        return self._active

    def _run_generate(
        self, inputs: dict[str, Any], request: GenerationRequest, streamer: TokenStreamer, max_new_tokens: int
    ) -> None:
        sampling = request.sampling
        # Everything in the try: a failure on this thread must reach the awaiting request, or
        # the request would wait forever.
        try:
            processors = LogitsProcessorList()
            if sampling.temperature >= GREEDY_BELOW_TEMPERATURE:
                processors.append(
                    SeededSampler(
                        temperature=sampling.temperature,
                        top_p=sampling.top_p,
                        seed=sampling.seed,
                        device=self._device,
                    )
                )
            config = GenerationConfig(
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=self._eos_token_ids,
                pad_token_id=self._tokenizer.pad_token_id,
            )
            with torch.inference_mode():
                self._model.generate(
                    **inputs,
                    generation_config=config,
                    logits_processor=processors,
                    stopping_criteria=StoppingCriteriaList([StopWhenFinished(streamer)]),
                    streamer=streamer,
                )
        except Exception as exc:  # reported to the awaiting request, never lost on the thread
            streamer.fail(exc)

    async def _request_images(self, request: GenerationRequest) -> list[Any]:
        if not request.images:
            return []
        if self._processor is None:
            raise InvalidRequestError(
                f"model {self._config.name!r} does not accept images", param="messages"
            )
        return await load_images(request.images, self._images)

    def _encode(self, request: GenerationRequest, images: list[Any]) -> dict[str, Any]:
        chat = chat_messages(request.messages, with_images=self._processor is not None)
        prompt = self._tokenizer.apply_chat_template(
            chat, tokenize=False, add_generation_prompt=True, **dict(request.chat_template_kwargs)
        )
        if self._processor is not None:
            encoded = self._processor(text=[prompt], images=images or None, return_tensors="pt")
        else:
            encoded = self._tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        return {key: value.to(self._device) for key, value in encoded.items()}

    async def check_health(self) -> None:
        if self._model is None:
            raise EngineError(f"model {self._config.name!r} is not loaded")

    async def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._model = None
        if self._device.type == "cuda":
            torch.cuda.empty_cache()


def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
