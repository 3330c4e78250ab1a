"""GPU placement: bundles, strategy and accelerator types, checked by Ray Serve's own validation."""

from typing import Any

import pytest
from pydantic import ValidationError
from ray.serve._private.config import ReplicaConfig

from serve_app.config import ModelConfig, ray_accelerator_types
from serve_app.placement import gpu_placement


def vllm_model(accelerator_type: str | None = None, **engine: Any) -> ModelConfig:
    return ModelConfig(
        name="coder",
        source="Qwen/Qwen2.5-Coder-32B-Instruct",
        context_length=32768,
        accelerator_type=accelerator_type,
        engine={"kind": "vllm", **engine},
    )


def ray_accepts(options: dict[str, Any]) -> ReplicaConfig:
    """Ray Serve's validation of a replica's options (the actor must fit the first bundle)."""
    return ReplicaConfig.create(
        lambda: None,
        ray_actor_options=options["ray_actor_options"],
        placement_group_bundles=options.get("placement_group_bundles"),
        placement_group_strategy=options.get("placement_group_strategy"),
    )


def test_one_gpu_needs_no_placement_group() -> None:
    options = gpu_placement(vllm_model("L4"))
    assert options == {"ray_actor_options": {"num_cpus": 1, "num_gpus": 1, "accelerator_type": "L4"}}
    ray_accepts(options)


def test_mp_executor_replica_holds_every_gpu_in_one_bundle() -> None:
    options = gpu_placement(vllm_model("H100", tensor_parallel_size=2, pipeline_parallel_size=2))
    assert options["placement_group_bundles"] == [{"CPU": 1, "GPU": 4, "accelerator_type:H100": 0.001}]
    assert options["placement_group_strategy"] == "STRICT_PACK"
    assert options["ray_actor_options"] == {"num_cpus": 1, "num_gpus": 4}
    ray_accepts(options)


def test_ray_executor_one_bundle_per_gpu_replica_in_the_first() -> None:
    options = gpu_placement(vllm_model("H100", tensor_parallel_size=4, distributed_executor_backend="ray"))
    bundles = options["placement_group_bundles"]
    assert bundles[0] == {"CPU": 1, "GPU": 1, "accelerator_type:H100": 0.001}
    assert bundles[1:] == [{"GPU": 1, "accelerator_type:H100": 0.001}] * 3
    assert options["placement_group_strategy"] == "STRICT_PACK"
    # The replica claims no GPU: the first bundle's GPU is for one of vLLM's Ray workers.
    assert options["ray_actor_options"] == {"num_cpus": 1, "num_gpus": 0}
    ray_accepts(options)


def test_without_accelerator_type_bundles_ask_only_for_gpus() -> None:
    options = gpu_placement(vllm_model(tensor_parallel_size=2, distributed_executor_backend="ray"))
    assert options["placement_group_bundles"] == [{"CPU": 1, "GPU": 1}, {"GPU": 1}]


def test_transformers_on_cuda_gets_one_gpu_of_the_type() -> None:
    model = ModelConfig(
        name="m", source="tiny:qwen2", context_length=512, accelerator_type="A10G",
        engine={"kind": "transformers", "device": "cuda"},
    )
    assert gpu_placement(model) == {
        "ray_actor_options": {"num_cpus": 1, "num_gpus": 1, "accelerator_type": "A10G"}
    }


def test_unknown_accelerator_type_names_field_value_and_allowed() -> None:
    with pytest.raises(ValidationError) as caught:
        vllm_model("H1OO")
    error = caught.value.errors()[0]
    assert error["loc"] == ("accelerator_type",)
    assert "'H1OO'" in error["msg"] and "'H100'" in error["msg"] and "'L4'" in error["msg"]


def test_known_types_come_from_ray() -> None:
    assert {"H100", "L4", "L40S", "A100-80G", "V100"} <= set(ray_accelerator_types())


def test_accelerator_type_on_a_cpu_model_is_refused() -> None:
    with pytest.raises(ValidationError, match="accelerator_type: 'L4' needs a GPU engine"):
        ModelConfig(name="m", source="tiny:qwen2", context_length=512, accelerator_type="L4")


def test_ray_validation_catches_an_actor_larger_than_its_bundle() -> None:
    """The check above can fail: a replica that claims a GPU its first bundle lacks."""
    with pytest.raises(ValueError, match="bundle"):
        ray_accepts({
            "ray_actor_options": {"num_cpus": 1, "num_gpus": 2},
            "placement_group_bundles": [{"CPU": 1, "GPU": 1}, {"GPU": 1}],
            "placement_group_strategy": "STRICT_PACK",
        })
