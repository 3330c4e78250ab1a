"""Where a model's replicas run on a Ray cluster: GPUs, one node per replica, GPU type.

A vLLM model sharded over N = tensor × pipeline parallel GPUs needs all N on one node (NCCL over
NVLink/PCIe, not the network). Ray Serve reserves them per replica as a placement group with
`STRICT_PACK`, as Ray Serve LLM does; Serve always puts the replica actor in the first bundle.
How the bundles look depends on who uses the GPUs:

- vLLM's `mp` executor starts its workers as processes of the replica, which see only the GPUs
  Ray gave the replica actor: the actor holds all N GPUs, in one bundle.
- vLLM's `ray` executor starts one Ray actor per GPU bundle of the replica's placement group
  (the engine hands it the group): N bundles of one GPU, the replica actor's CPU merged into the
  first, and the actor itself claims no GPU so that bundle's GPU stays free for a worker.

An `accelerator_type` becomes Ray's `accelerator_type:<T>` resource (a tiny amount, as Ray
does), so bundles land only on nodes with that GPU.
"""

from typing import Any

from serve_app.config import ModelConfig, VLLMEngineConfig

# Logical CPUs of a GPU replica: its event loop, tokenization and vLLM's engine-core process.
GPU_REPLICA_NUM_CPUS = 1
# The amount Ray itself attaches when an actor asks for an accelerator type.
ACCELERATOR_RESOURCE_AMOUNT = 0.001
PLACEMENT_STRATEGY = "STRICT_PACK"


def accelerator_resource(accelerator_type: str) -> dict[str, float]:
    """Ray's custom resource for a GPU type, as every node with that GPU advertises it."""
    return {f"accelerator_type:{accelerator_type}": ACCELERATOR_RESOURCE_AMOUNT}


def gpu_placement(model: ModelConfig) -> dict[str, Any]:
    """Deployment options (`ray_actor_options`, placement group) for a model on GPUs."""
    engine = model.engine
    gpus = engine.num_gpus if isinstance(engine, VLLMEngineConfig) else 1
    accelerator = accelerator_resource(model.accelerator_type) if model.accelerator_type else {}
    if gpus == 1:  # one actor with one GPU: nothing to pack
        actor: dict[str, Any] = {"num_cpus": GPU_REPLICA_NUM_CPUS, "num_gpus": 1}
        if model.accelerator_type:
            actor["accelerator_type"] = model.accelerator_type
        return {"ray_actor_options": actor}
    assert isinstance(engine, VLLMEngineConfig)
    if engine.distributed_executor_backend == "mp":
        bundles = [{"CPU": GPU_REPLICA_NUM_CPUS, "GPU": gpus, **accelerator}]
        actor_gpus = gpus
    else:
        worker = {"GPU": 1, **accelerator}
        bundles = [{"CPU": GPU_REPLICA_NUM_CPUS, **worker}] + [dict(worker) for _ in range(gpus - 1)]
        actor_gpus = 0
    return {
        "ray_actor_options": {"num_cpus": GPU_REPLICA_NUM_CPUS, "num_gpus": actor_gpus},
        "placement_group_bundles": bundles,
        "placement_group_strategy": PLACEMENT_STRATEGY,
    }
