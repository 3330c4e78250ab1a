"""KubeRay RayService manifests rendered from the project's Serve config files.

A RayService has two halves: the Ray cluster (head, GPU worker groups, autoscaler), kept in a
committed base file under `k8s/base/`, and `serveConfigV2`, the same Serve config that
`serve deploy` takes. Rendering fills the second half from a config file, so Kubernetes and
`serve deploy` run one configuration. It also checks what neither Ray nor KubeRay reports until a
replica stays pending for ever: that every deployment's replica fits on one pod of some group.
"""

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_DIR = Path(__file__).resolve().parents[1]
K8S_DIR = REPO_DIR / "k8s"
# KubeRay's serve Service forwards to this port of the Ray pods; the proxy must listen on all
# interfaces of the pod, not on the loopback a laptop config uses.
SERVE_HTTP_OPTIONS = {"host": "0.0.0.0", "port": 8000}
# Ray node label of the pods that host the Router (set on the head group in the base file).
ROUTER_NODE_LABEL = "qwen-router/role"
GPU_RESOURCE = "nvidia.com/gpu"


@dataclass(frozen=True)
class Profile:
    """A kind of cluster: its base file, and the committed manifest rendered from `config`."""

    base: Path
    output: Path
    config: Path


PROFILES: dict[str, Profile] = {
    "gpu": Profile(
        K8S_DIR / "base" / "rayservice-gpu.yaml",
        K8S_DIR / "rayservice-gpu.yaml",
        REPO_DIR / "serve_app" / "configs" / "cluster.yaml",
    ),
    "cpu": Profile(
        K8S_DIR / "base" / "rayservice-cpu.yaml",
        K8S_DIR / "rayservice-cpu.yaml",
        REPO_DIR / "serve_app" / "configs" / "demo.yaml",
    ),
}


class RenderError(ValueError):
    """The config cannot run on the profile's cluster; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def render_rayservice(config: Path, profile: str = "gpu", image: str | None = None) -> dict[str, Any]:
    """The RayService for a Serve config file on a profile's cluster; raises RenderError."""
    from serve_app.serve_config import check_serve_config

    if profile not in PROFILES:
        raise RenderError([f"profile: unknown profile {profile!r}; allowed: {sorted(PROFILES)}"])
    manifest = yaml.safe_load(PROFILES[profile].base.read_text())
    cluster = manifest["spec"]["rayClusterConfig"]
    try:
        document = yaml.safe_load(config.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RenderError([f"cannot read YAML: {exc}"]) from None
    if not isinstance(document, dict) or not isinstance(document.get("applications"), list):
        raise RenderError(["applications: a Serve config needs a list of applications"])
    serve_config = serve_config_for_kubernetes(document, cluster["headGroupSpec"].get("labels") or {})
    problems = check_serve_config(serve_config) or placement_problems(serve_config, cluster)
    if problems:
        raise RenderError(problems)
    manifest["spec"]["serveConfigV2"] = _Literal(_dump(serve_config))
    if image:
        for container in _ray_containers(cluster):
            container["image"] = image
    return manifest


def serve_config_for_kubernetes(document: dict[str, Any], head_labels: dict[str, str]) -> dict[str, Any]:
    """The Serve config as KubeRay runs it: proxies reachable on the pod, the Router on the head.

    The Router is pinned with a label selector only where the head group carries the
    `ROUTER_NODE_LABEL` label, so CPU-only clusters leave its placement to Ray.
    """
    serve_config = copy.deepcopy(document)
    serve_config["http_options"] = {**(serve_config.get("http_options") or {}), **SERVE_HTTP_OPTIONS}
    if ROUTER_NODE_LABEL not in head_labels:
        return serve_config
    from router.ingress import Router
    from serve_app.builder import ROUTER_DEPLOYMENT

    selector = {ROUTER_NODE_LABEL: head_labels[ROUTER_NODE_LABEL]}
    for application in serve_config["applications"]:
        deployments = application.setdefault("deployments", [])
        entry = next((d for d in deployments if d.get("name") == ROUTER_DEPLOYMENT), None)
        if entry is None:
            entry = {"name": ROUTER_DEPLOYMENT}
            deployments.append(entry)
        # Serve replaces the code's ray_actor_options with the config's: keep the code's CPUs.
        options = entry.setdefault("ray_actor_options", dict(Router.ray_actor_options or {}))
        options.setdefault("label_selector", selector)
    return serve_config


def placement_problems(serve_config: dict[str, Any], cluster: dict[str, Any]) -> list[str]:
    """Every GPU deployment whose replica fits no worker group's pod, and every group too small
    for the most replicas of the deployments that fit only there."""
    specs = cluster.get("workerGroupSpecs") or []
    groups = {spec["groupName"]: _pod_resources(spec) for spec in specs}
    capacity = {spec["groupName"]: spec["maxReplicas"] * groups[spec["groupName"]]["GPU"] for spec in specs}
    problems, demand = [], dict.fromkeys(groups, 0.0)
    for where, replica, max_replicas in gpu_replica_demand(serve_config):
        fits = [name for name, pod in groups.items() if all(pod.get(k, 0) >= v for k, v in replica.items())]
        if not fits:
            offered = "; ".join(f"{name}: {_describe(pod)}" for name, pod in groups.items()) or "none"
            problems.append(f"{where}: a replica needs {_describe(replica)} on one pod; worker groups: {offered}")
        elif len(fits) == 1:
            demand[fits[0]] += max_replicas * replica["GPU"]
    for name, gpus in demand.items():
        if gpus > capacity[name]:
            problems.append(
                f"workerGroupSpecs[{name}].maxReplicas: its pods hold {capacity[name]:g} GPUs, "
                f"the deployments that only fit there scale to {gpus:g}"
            )
    return problems


def dump_manifest(manifest: dict[str, Any], command: str) -> str:
    """The manifest as YAML, headed by the command that renders it."""
    header = f"# Generated by `{command}`: edit k8s/base/ or the Serve config, then render again.\n"
    return header + _dump(manifest)


def render_command(config: Path, profile: str, image: str | None = None) -> str:
    """The command line that renders this manifest, with the config path relative to the repo."""
    shown = config.resolve()
    shown = shown.relative_to(REPO_DIR) if shown.is_relative_to(REPO_DIR) else shown
    return f"qwen-router k8s render {shown} --profile {profile}" + (f" --image {image}" if image else "")


def gpu_replica_demand(serve_config: dict[str, Any]) -> list[tuple[str, dict[str, float], int]]:
    """(where, resources one replica needs on one pod, most replicas) for each GPU deployment."""
    from serve_app.builder import model_deployment_options
    from serve_app.config import AppConfig

    found = []
    for index, application in enumerate(serve_config["applications"]):
        overrides = {d.get("name"): d for d in application.get("deployments") or []}
        for model in AppConfig.model_validate(application.get("args") or {}).models:
            options = {**model_deployment_options(model), **overrides.get(model.name, {})}
            replica = _replica_resources(options)
            if replica.get("GPU", 0) > 0:
                where = f"applications[{index}].deployments[{model.name}]"
                found.append((where, replica, _max_replicas(options)))
    return found


def _replica_resources(options: dict[str, Any]) -> dict[str, float]:
    """What one replica takes from one node: its actor's resources, or its placement group's
    when packed on one node (the actor runs inside the first bundle, so the larger of each)."""
    actor = options.get("ray_actor_options") or {}
    needs = {"CPU": _or(actor.get("num_cpus"), 1), "GPU": _or(actor.get("num_gpus"), 0)}
    needs.update(actor.get("resources") or {})
    if actor.get("memory"):
        needs["memory"] = actor["memory"]
    if actor.get("accelerator_type"):
        needs[f"accelerator_type:{actor['accelerator_type']}"] = 0.001
    if options.get("placement_group_strategy") == "STRICT_PACK":
        packed: dict[str, float] = {}
        for bundle in options.get("placement_group_bundles") or []:
            for key, amount in bundle.items():
                packed[key] = packed.get(key, 0) + amount
        needs = {key: max(needs.get(key, 0), packed.get(key, 0)) for key in {*needs, *packed}}
    return needs


def _max_replicas(options: dict[str, Any]) -> int:
    autoscaling = options.get("autoscaling_config")
    if isinstance(autoscaling, dict):
        from ray.serve.config import AutoscalingConfig

        return AutoscalingConfig.model_validate(autoscaling).max_replicas
    replicas = options.get("num_replicas", 1)
    return replicas if isinstance(replicas, int) else 1


def _pod_resources(group: dict[str, Any]) -> dict[str, float]:
    """The Ray resources of one pod of a group, as KubeRay's autoscaler reads them."""
    container = group["template"]["spec"]["containers"][0].get("resources") or {}
    limits = {**(container.get("requests") or {}), **(container.get("limits") or {})}
    params = group.get("rayStartParams") or {}
    resources = {k: _quantity(v) for k, v in (group.get("resources") or {}).items()}
    resources.setdefault("CPU", _quantity(params.get("num-cpus", limits.get("cpu", 0))))
    resources.setdefault("GPU", _quantity(params.get("num-gpus", limits.get(GPU_RESOURCE, 0))))
    resources.setdefault("memory", _quantity(params.get("memory", limits.get("memory", 0))))
    return resources


def _quantity(value: Any) -> float:
    """A Kubernetes quantity ("4", "500m", "16Gi") as a number."""
    from ray.autoscaler._private.kuberay.utils import parse_quantity

    return float(parse_quantity(str(value)))


def _or(value: Any, default: float) -> float:
    return default if value is None else value


def _describe(resources: dict[str, float]) -> str:
    """`CPU 8, GPU 2, accelerator_type:H100, memory 192Gi`, as a reader compares them."""
    parts = []
    for key, amount in sorted(resources.items()):
        if not amount:
            continue
        if key.startswith("accelerator_type:"):
            parts.append(key)
        elif key == "memory":
            parts.append(f"memory {amount / 2**30:g}Gi")
        else:
            parts.append(f"{key} {amount:g}")
    return ", ".join(parts) or "nothing"


def _ray_containers(cluster: dict[str, Any]) -> list[dict[str, Any]]:
    groups = [cluster["headGroupSpec"], *(cluster.get("workerGroupSpecs") or [])]
    return [group["template"]["spec"]["containers"][0] for group in groups]


class _Literal(str):
    """A string dumped as a YAML block, so serveConfigV2 reads like the config file."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # kubectl users read the manifest: spell every value out


_Dumper.add_representer(_Literal, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|"))


def _dump(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=100, default_flow_style=False)
