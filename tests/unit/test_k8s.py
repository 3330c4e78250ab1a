"""KubeRay manifests under k8s/: accepted by the RayService CRD, rendered from the Serve configs,
and runnable by the application (serveConfigV2 passes Ray's deploy schema and `config check`)."""

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml
from jsonschema import Draft7Validator, FormatChecker, ValidationError

from serve_app.cli import main
from serve_app.k8s import (
    PROFILES,
    ROUTER_NODE_LABEL,
    RenderError,
    dump_manifest,
    gpu_replica_demand,
    render_command,
    render_rayservice,
    serve_config_for_kubernetes,
)
from serve_app.serve_config import BUILDER_IMPORT_PATH, check_serve_config

REPO = Path(__file__).resolve().parents[2]
CRD_DIR = REPO / "tests" / "data" / "kuberay"
CLUSTER = REPO / "serve_app" / "configs" / "cluster.yaml"
DEMO = REPO / "serve_app" / "configs" / "demo.yaml"
CLI = Path(sys.executable).parent / "qwen-router"
RENDERED = {name: profile.output for name, profile in PROFILES.items()}
GPU_RESOURCE = "nvidia.com/gpu"


# --- the CRD schema, enforced as the API server does -------------------------------------------

def _int_or_string(validator: Any, enabled: bool, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if enabled and (isinstance(instance, bool) or not isinstance(instance, (int, str))):
        yield ValidationError(f"{instance!r} is neither an integer nor a string")


def _list_type(validator: Any, kind: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    """`set`: no duplicate items; `map`: no two items with the same keys (defaults applied)."""
    if not isinstance(instance, list) or kind not in ("set", "map"):
        return
    if kind == "set":
        keys = [json.dumps(item, sort_keys=True) for item in instance]
    else:
        fields = schema["items"].get("properties", {})
        names = schema.get("x-kubernetes-list-map-keys", [])
        keys = [json.dumps([item.get(n, fields.get(n, {}).get("default")) for n in names]) for item in instance]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        yield ValidationError(f"duplicate entries {duplicates} in a list of type {kind}")


_KubernetesValidator = jsonschema.validators.extend(
    Draft7Validator,
    {"x-kubernetes-int-or-string": _int_or_string, "x-kubernetes-list-type": _list_type},
)
_FORMATS = FormatChecker()
_FORMATS.checks("int32")(lambda value: not isinstance(value, int) or -(2**31) <= value < 2**31)
_FORMATS.checks("int64")(lambda value: not isinstance(value, int) or -(2**63) <= value < 2**63)


def _strict(schema: Any) -> Any:
    """Unknown fields are errors, as with kubectl's strict field validation (its default), unless
    the schema keeps them (x-kubernetes-preserve-unknown-fields). CEL rules are not evaluated."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if "properties" in strict and "additionalProperties" not in strict and not strict.get("x-kubernetes-preserve-unknown-fields"):
        strict["additionalProperties"] = False
    return strict


def _crd_validator(file: str) -> tuple[Any, str, str]:
    crd = yaml.load((CRD_DIR / file).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    version = next(v for v in crd["spec"]["versions"] if v["storage"])
    validator = _KubernetesValidator(_strict(version["schema"]["openAPIV3Schema"]), format_checker=_FORMATS)
    return validator, f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"]


@pytest.fixture(scope="module")
def rayservice_crd() -> tuple[Any, str, str]:
    return _crd_validator("ray.io_rayservices.yaml")


@pytest.fixture(scope="module")
def raycluster_crd() -> tuple[Any, str, str]:
    return _crd_validator("ray.io_rayclusters.yaml")


def crd_problems(manifest: dict, crd: tuple[Any, str, str]) -> list[str]:
    validator, api_version, kind = crd
    problems = [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]
    if manifest.get("apiVersion") != api_version or manifest.get("kind") != kind:
        problems.append(f"apiVersion/kind: expected {api_version} {kind}")
    name = manifest.get("metadata", {}).get("name", "")
    if not re.fullmatch(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", name):
        problems.append(f"metadata.name: {name!r} must be a DNS-1035 label (KubeRay names Services after it)")
    return problems


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def serve_config_of(manifest: dict) -> dict:
    return yaml.safe_load(manifest["spec"]["serveConfigV2"])


def groups(manifest: dict) -> list[dict]:
    return manifest["spec"]["rayClusterConfig"]["workerGroupSpecs"]


# --- the committed manifests --------------------------------------------------------------------

@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_committed_manifest_is_what_render_produces(profile):
    spec = PROFILES[profile]
    rendered = dump_manifest(render_rayservice(spec.config, profile), render_command(spec.config, profile))
    output, command = spec.output.relative_to(REPO), render_command(spec.config, profile)
    assert spec.output.read_text() == rendered, f"{output} is stale: run `{command} > {output}`"


@pytest.mark.parametrize("path", [*RENDERED.values(), *(p.base for p in PROFILES.values())], ids=lambda p: str(p.relative_to(REPO)))
def test_rayservice_matches_the_crd(path, rayservice_crd, raycluster_crd):
    manifest = load(path)
    assert crd_problems(manifest, rayservice_crd) == []
    # KubeRay creates a RayCluster from rayClusterConfig: it must be a valid one too.
    cluster = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": manifest["metadata"], "spec": manifest["spec"]["rayClusterConfig"]}
    assert crd_problems(cluster, raycluster_crd) == []


def _set(manifest: dict, path: tuple, value: Any) -> dict:
    broken = copy.deepcopy(manifest)
    *parents, last = path
    target = broken
    for part in parents:
        target = target[part]
    target[last] = value
    return broken


GROUP0 = ("spec", "rayClusterConfig", "workerGroupSpecs", 0)
WORKER0 = (*GROUP0, "template", "spec", "containers", 0)


@pytest.mark.parametrize(
    "path, value, expected",
    [
        (("spec", "rayClusterConfig", "enableInTreeAutoscalling"), True, "'enableInTreeAutoscalling' was unexpected"),
        ((*GROUP0, "maxReplicas"), "4", "'4' is not of type 'integer'"),
        ((*GROUP0, "maxReplicas"), 2**31, "is not a 'int32'"),
        (("spec", "rayClusterConfig", "autoscalerOptions", "upscalingMode"), "Fast", "'Fast' is not one of"),
        ((*WORKER0, "resources", "limits", GPU_RESOURCE), "one", "does not match"),
        ((*WORKER0, "resources", "limits", GPU_RESOURCE), 1.5, "neither an integer nor a string"),
        ((*GROUP0, "rayStartParams", "num-gpus"), 1, "1 is not of type 'string'"),
        ((*WORKER0, "env"), [{"name": "HF_TOKEN", "value": "a"}, {"name": "HF_TOKEN", "value": "b"}], "duplicate entries"),
        (("spec", "upgradeStrategy", "type"), 1, "1 is not of type 'string'"),
        (("metadata", "name"), "Qwen_Router", "DNS-1035"),
        (("kind",), "RayCluster", "expected ray.io/v1 RayService"),
    ],
)
def test_crd_rejects_a_broken_manifest(path, value, expected, rayservice_crd):
    manifest = load(RENDERED["gpu"])
    assert crd_problems(manifest, rayservice_crd) == []
    problems = crd_problems(_set(manifest, path, value), rayservice_crd)
    assert any(expected in problem for problem in problems), problems


def test_crd_rejects_a_worker_group_without_its_required_fields(rayservice_crd):
    manifest = load(RENDERED["gpu"])
    del groups(manifest)[0]["groupName"]
    assert any("'groupName' is a required property" in p for p in crd_problems(manifest, rayservice_crd))


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_serve_config_v2_is_a_deploy_config_the_application_accepts(profile):
    from ray.serve.schema import ServeDeploySchema

    serve_config = serve_config_of(load(RENDERED[profile]))
    ServeDeploySchema.model_validate(serve_config)
    # check_serve_config validates args with AppConfig only for the builder's import path.
    assert [a["import_path"] for a in serve_config["applications"]] == [BUILDER_IMPORT_PATH]
    assert check_serve_config(serve_config) == []
    assert serve_config["http_options"] == {"host": "0.0.0.0", "port": 8000}


def test_serve_config_v2_is_the_config_file_plus_kubernetes_settings():
    source = load(CLUSTER)
    rendered = serve_config_of(load(RENDERED["gpu"]))
    router = next(d for d in rendered["applications"][0]["deployments"] if d["name"] == "Router")
    assert router["ray_actor_options"].pop("label_selector") == {ROUTER_NODE_LABEL: "router"}
    source["http_options"] = {"host": "0.0.0.0", "port": 8000}
    assert rendered == source


def test_router_pinned_without_ray_actor_options_keeps_its_code_defaults():
    from router.ingress import Router

    serve_config = serve_config_for_kubernetes(load(DEMO), {ROUTER_NODE_LABEL: "router"})
    router = next(d for d in serve_config["applications"][0]["deployments"] if d["name"] == "Router")
    assert router["ray_actor_options"] == {**Router.ray_actor_options, "label_selector": {ROUTER_NODE_LABEL: "router"}}
    assert "label_selector" not in json.dumps(serve_config_for_kubernetes(load(DEMO), {}))


def test_gpu_cluster_shape():
    manifest = load(RENDERED["gpu"])
    spec, cluster = manifest["spec"], manifest["spec"]["rayClusterConfig"]
    head = cluster["headGroupSpec"]
    assert spec["upgradeStrategy"]["type"] == "NewCluster"
    assert cluster["enableInTreeAutoscaling"] is True
    assert cluster["autoscalerOptions"]["idleTimeoutSeconds"] > 0
    assert head["rayStartParams"]["num-gpus"] == "0"
    assert GPU_RESOURCE not in json.dumps(head["template"])
    assert head["labels"][ROUTER_NODE_LABEL] == "router"
    # One worker group per GPU type the deployments ask for, and none besides.
    used = {key for _, needs, _ in gpu_replica_demand(serve_config_of(manifest)) for key in needs if key.startswith("accelerator_type:")}
    offered = {key for group in groups(manifest) for key in group.get("resources", {})}
    assert used == offered == {"accelerator_type:L4", "accelerator_type:L40S", "accelerator_type:H100"}
    for group in groups(manifest):
        resources = group["template"]["spec"]["containers"][0]["resources"]
        assert resources["requests"][GPU_RESOURCE] == resources["limits"][GPU_RESOURCE], group["groupName"]
        assert {"cpu", "memory"} <= set(resources["limits"]), group["groupName"]


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_pod_is_scraped_and_gets_the_token(profile):
    cluster = load(RENDERED[profile])["spec"]["rayClusterConfig"]
    for group in [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]:
        annotations = group["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == group["rayStartParams"]["metrics-export-port"] == "8080"
        env = {e["name"]: e for e in group["template"]["spec"]["containers"][0]["env"]}
        assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hf-token", "key": "token", "optional": True}


def test_dockerfile_ray_matches_the_manifests():
    dockerfile = (REPO / "k8s" / "Dockerfile").read_text()
    ray_version = re.search(r"^ARG RAY_VERSION=(\S+)$", dockerfile, re.MULTILINE).group(1)
    for profile in PROFILES.values():
        assert load(profile.base)["spec"]["rayClusterConfig"]["rayVersion"] == ray_version


# --- rendering ---------------------------------------------------------------------------------

def _write_config(tmp_path: Path, edit) -> Path:
    document = load(CLUSTER)
    application = document["applications"][0]
    edit({m["name"]: m for m in application["args"]["models"]}, {d["name"]: d for d in application["deployments"]})
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_render_refuses_a_replica_no_worker_group_can_hold(tmp_path):
    def edit(models, deployments):
        models["qwen2.5-coder"]["engine"]["tensor_parallel_size"] = 4
        deployments["qwen2.5-coder"].pop("ray_actor_options", None)  # placement from the engine

    with pytest.raises(RenderError) as error:
        render_rayservice(_write_config(tmp_path, edit), "gpu")
    [problem] = error.value.problems
    assert problem.startswith("applications[0].deployments[qwen2.5-coder]: a replica needs CPU ")
    assert "GPU 4, accelerator_type:H100 on one pod; worker groups: " in problem
    assert "; h100: CPU 16, GPU 2, accelerator_type:H100, memory 192Gi" in problem


def test_render_refuses_more_replicas_than_the_group_can_start(tmp_path):
    def edit(models, deployments):
        deployments["qwen3-moe"]["autoscaling_config"]["max_replicas"] = 6

    with pytest.raises(RenderError) as error:
        render_rayservice(_write_config(tmp_path, edit), "gpu")
    assert error.value.problems == [
        "workerGroupSpecs[h100].maxReplicas: its pods hold 8 GPUs, the deployments that only fit there scale to 10"
    ]


def test_render_refuses_an_invalid_serve_config(tmp_path):
    def edit(models, deployments):
        deployments["qwen2.5-math"]["autoscaling_config"]["min_replicas"] = 9

    with pytest.raises(RenderError) as error:
        render_rayservice(_write_config(tmp_path, edit), "gpu")
    assert any("applications[0].deployments[1].autoscaling_config" in p for p in error.value.problems)


def test_render_cli_prints_the_manifest(capsys):
    assert main(["k8s", "render", str(DEMO), "--profile", "cpu"]) == 0
    assert capsys.readouterr().out == RENDERED["cpu"].read_text()


def test_render_cli_serve_config_only_and_image(capsys):
    assert main(["k8s", "render", str(CLUSTER), "--serve-config-only"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == serve_config_of(load(RENDERED["gpu"]))
    assert main(["k8s", "render", str(CLUSTER), "--image", "registry.example/qwen-router:1"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    cluster = manifest["spec"]["rayClusterConfig"]
    images = {g["template"]["spec"]["containers"][0]["image"] for g in [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]}
    assert images == {"registry.example/qwen-router:1"}


def test_render_cli_reports_problems_and_fails():
    result = subprocess.run(
        [str(CLI), "k8s", "render", str(CLUSTER), "--profile", "cpu"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "4 problem(s)" in result.stderr
    assert "applications[0].deployments[qwen2.5-vl]: a replica needs CPU " in result.stderr
    assert "GPU 1, accelerator_type:L40S on one pod; worker groups: cpu: CPU 2, memory 3Gi" in result.stderr
