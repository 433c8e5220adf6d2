"""docs/airflow.md stays copyable: its YAML parses, its pods validate, its commands exist."""

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from jupyter_remote_dev.airflow.cli import DagsApp

DOC = Path(__file__).resolve().parents[2] / "docs" / "airflow.md"
K8S_VERSION = "1.33"


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def yaml_blocks() -> dict[str, dict]:
    """The YAML snippets, keyed by the file named in their first comment line."""
    return {
        block.splitlines()[0].lstrip("# "): yaml.safe_load(block) for block in code_blocks("yaml")
    }


def pod(spec: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def test_docs_helm_values_make_valid_pods():
    """The dag-processor side container and the worker init container validate as real Pods."""
    values = yaml_blocks()["values.yaml for apache-airflow/airflow"]
    processor, workers = values["dagProcessor"], values["workers"]
    parser = {"name": "dag-processor", "image": "apache/airflow:3.3.2"}
    kubernetes_validate.validate(
        pod(
            {
                "containers": [
                    {**parser, "volumeMounts": processor["extraVolumeMounts"]},
                    *processor["extraContainers"],
                ],
                "volumes": processor["extraVolumes"],
            }
        ),
        K8S_VERSION,
        strict=True,
    )
    kubernetes_validate.validate(
        pod(
            {
                "initContainers": workers["extraInitContainers"],
                "containers": [
                    {**parser, "name": "base", "volumeMounts": workers["extraVolumeMounts"]}
                ],
                "volumes": workers["extraVolumes"],
            }
        ),
        K8S_VERSION,
        strict=True,
    )
    root = next(
        e["value"] for e in values["env"] if e["name"] == "JUPYTER_REMOTE_DEV_DAGS_BRANCH_ROOT"
    )
    assert f'"path": "{root}"' in values["config"]["dag_processor"]["dag_bundle_config_list"]


def test_docs_gitlab_stop_job_is_wired():
    """GitLab: the stage job's environment names the stop job, which stops the same environment."""
    ci = yaml_blocks()[".gitlab-ci.yml"]
    stage, stop = ci["dags:stage"], ci["dags:stop"]
    assert stage["environment"]["on_stop"] == "dags:stop"
    assert stop["environment"] == {"name": stage["environment"]["name"], "action": "stop"}
    assert [r["if"] for r in stop["rules"]] == [r["if"] for r in stage["rules"]]


def test_docs_github_cleanup_runs_on_close():
    """GitHub: publish on PR updates, cleanup when the PR is closed (merged or not)."""
    workflow = yaml_blocks()[".github/workflows/stage-dags.yml"]
    triggers = workflow[True]["pull_request"]["types"]  # YAML 1.1 reads the key `on` as True
    assert "closed" in triggers and "synchronize" in triggers
    assert workflow["jobs"]["cleanup"]["if"] == "github.event.action == 'closed'"


def _commands() -> list[tuple[str, list[str]]]:
    """(subcommand, [--options]) for each `dags` command in the docs' code blocks."""
    text = "\n".join(code_blocks("yaml") + code_blocks("dockerfile"))
    text = re.sub(r"\n\s+(?=--|\|)", " ", text)  # join folded YAML continuation lines
    found = re.findall(r"jupyter-remote-dev dags (\w+)([^|\n]*)", text)
    found += re.findall(r'"jupyter-remote-dev", "dags", "(\w+)"([^\]]*)\]', text)
    return [(sub, re.findall(r"--([a-z][a-z-]*)", rest)) for sub, rest in found]


@pytest.mark.parametrize(("sub", "options"), _commands(), ids=lambda v: str(v))
def test_docs_commands_exist(sub, options):
    """Every `dags` command in the docs names a real subcommand and only its real options."""
    app_class = DagsApp.subcommands[sub][0]
    assert set(options) <= set(app_class.aliases) | set(app_class.flags), (sub, options)
