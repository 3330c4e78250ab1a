"""`check_config_file` and `qwen-router config check`: whole Serve config files, checked offline."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from serve_app.serve_config import check_config_file

from app_args import MINIMAL_ARGS as ARGS

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "serve_app" / "configs" / "demo.yaml"
CLI = Path(sys.executable).parent / "qwen-router"

SERVE_CONFIG = {
    "applications": [
        {
            "name": "qwen-router",
            "route_prefix": "/",
            "import_path": "serve_app.builder:build_app",
            "args": ARGS,
            "deployments": [
                {"name": "Router", "num_replicas": 1},
                {"name": "text-model", "autoscaling_config": {"min_replicas": 1, "max_replicas": 2, "target_ongoing_requests": 2}},
            ],
        }
    ]
}


@pytest.fixture
def write(tmp_path):
    def write(document, name="config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
        return path

    return write


def serve_config() -> dict:
    return copy.deepcopy(SERVE_CONFIG)


def deployment(document: dict, index: int) -> dict:
    return document["applications"][0]["deployments"][index]


def test_valid_serve_config(write):
    assert check_config_file(write(serve_config())) == []


def test_bare_args_file_is_valid(write):
    assert check_config_file(write(copy.deepcopy(ARGS))) == []


def test_bare_args_file_is_validated_as_app_config(write):
    document = copy.deepcopy(ARGS)
    document["routes"]["math"]["model"] = "nope"
    found = check_config_file(write(document))
    assert len(found) == 1
    assert found[0].startswith("routes.math.model: unknown model 'nope'")


def test_unparsable_yaml(write):
    path = write("models: [1, 2\n")
    [problem] = check_config_file(path)
    assert problem.startswith(f"{path}: cannot read YAML")


def test_missing_file(tmp_path):
    path = tmp_path / "absent.yaml"
    [problem] = check_config_file(path)
    assert problem.startswith(f"{path}: cannot read YAML")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", ""])
def test_non_mapping_yaml(write, text):
    path = write(text)
    assert check_config_file(path) == [f"{path}: expected a mapping at the top level"]


def test_ray_deploy_schema_error(write):
    document = serve_config()
    deployment(document, 0)["max_ongoing_requests"] = 0
    [problem] = check_config_file(write(document))
    assert problem.startswith("applications[0].deployments[0].max_ongoing_requests: ")
    assert "(got 0)" in problem


def test_override_of_unknown_deployment_lists_known_ones(write):
    document = serve_config()
    document["applications"][0]["deployments"].append({"name": "text-modle", "num_replicas": 1})
    [problem] = check_config_file(write(document))
    assert problem.startswith("applications[0].deployments[2].name: ")
    assert "'text-modle'" in problem
    assert "'Router'" in problem and "'text-model'" in problem and "'vl-model'" in problem


def test_unknown_autoscaling_field(write):
    document = serve_config()
    deployment(document, 1)["autoscaling_config"]["max_replica"] = 3
    [problem] = check_config_file(write(document))
    assert problem.startswith("applications[0].deployments[1].autoscaling_config.max_replica: unknown field")
    assert "'max_replicas'" in problem and "'target_ongoing_requests'" in problem


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda d: d.update(proxy_locaton="HeadOnly"), "proxy_locaton: unknown field"),
        (lambda d: d["applications"][0].update(route_prefx="/"), "applications[0].route_prefx: unknown field"),
        (
            lambda d: deployment(d, 0).update(num_replica=2),
            "applications[0].deployments[0].num_replica: unknown field",
        ),
    ],
    ids=["top-level", "application", "deployment"],
)
def test_misspelt_ray_settings_are_reported(write, mutate, expected):
    document = serve_config()
    mutate(document)
    problems = check_config_file(write(document))
    assert len(problems) == 1 and problems[0].startswith(expected)
    assert "allowed fields" in problems[0]


def test_min_replicas_above_max_replicas(write):
    document = serve_config()
    deployment(document, 1)["autoscaling_config"].update(min_replicas=3, max_replicas=2)
    [problem] = check_config_file(write(document))
    assert problem.startswith("applications[0].deployments[1].autoscaling_config")
    assert "min_replicas" in problem and "max_replicas" in problem


def test_negative_target_ongoing_requests(write):
    document = serve_config()
    deployment(document, 1)["autoscaling_config"]["target_ongoing_requests"] = -1
    [problem] = check_config_file(write(document))
    assert problem.startswith("applications[0].deployments[1].autoscaling_config.target_ongoing_requests: ")
    assert "(got -1)" in problem


def test_args_errors_are_prefixed(write):
    document = serve_config()
    args = document["applications"][0]["args"]
    args["models"][1]["modalities"] = ["text", "audio"]
    args["cache"] = "/tmp"
    found = check_config_file(write(document))
    assert len(found) == 2, found
    assert all(line.startswith("applications[0].args.") for line in found)
    assert any(line.startswith("applications[0].args.cache: unknown field") for line in found)
    assert any(line.startswith("applications[0].args.models[1].modalities[1]: ") for line in found)


def test_cross_field_args_error_is_prefixed(write):
    document = serve_config()
    document["applications"][0]["args"]["routes"]["vision"]["model"] = "text-model"
    [problem] = check_config_file(write(document))
    assert problem.startswith("applications[0].args.routes.vision.model: model 'text-model' does not accept images")
    assert "['vl-model']" in problem


def test_args_and_override_problems_are_reported_together(write):
    document = serve_config()
    document["applications"][0]["args"]["models"][0]["context_length"] = 1
    document["applications"][0]["deployments"].append({"name": "ghost"})
    found = check_config_file(write(document))
    assert len(found) == 2, found
    assert found[0].startswith("applications[0].args.models[0].context_length: ")
    assert found[1].startswith("applications[0].deployments[2].name: ")


def test_other_applications_are_not_checked_as_ours(write):
    document = serve_config()
    document["applications"].append(
        {"name": "other", "route_prefix": "/other", "import_path": "somewhere.else:app", "args": {"anything": 1}}
    )
    assert check_config_file(write(document)) == []


def run_cli(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CLI), "config", "check", str(path)], capture_output=True, text=True, timeout=120, cwd=REPO
    )


def test_cli_accepts_demo_config():
    result = run_cli(DEMO)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_cli_reports_problems_on_stderr(write):
    document = serve_config()
    document["applications"][0]["args"]["routes"]["math"]["model"] = "nope"
    deployment(document, 1)["autoscaling_config"]["max_replica"] = 3
    result = run_cli(write(document))
    assert result.returncode == 1
    assert "OK" not in result.stdout
    assert "2 problem(s)" in result.stderr
    assert "applications[0].args.routes.math.model: unknown model 'nope'" in result.stderr
    assert "applications[0].deployments[1].autoscaling_config.max_replica: unknown field" in result.stderr
