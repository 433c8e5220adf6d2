"""``jupyter remote-dev`` and its git, ray and dags commands: help, unknown subcommands, imports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

MAIN = "from jupyter_remote_dev.client.cli import main; main()"


def _run(args: list[str], tmp_path, code: str = MAIN) -> subprocess.CompletedProcess:
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ["git\n", "ray\n", "dags\n", "`jupyter remote-dev NAME --help`"]),
        (["git"], ["init\n", "cycle\n", "status\n", "`jupyter remote-dev git NAME"]),
        (["ray"], ["submit\n", "jobs\n", "logs\n", "stop\n", "`jupyter remote-dev ray NAME"]),
        (["dags"], ["publish\n", "reconcile\n", "`jupyter remote-dev dags NAME"]),
        (["git", "cycle"], ["Run one sync cycle", "--wait="]),
        (["ray", "submit"], ["Submit a job", "--working-dir="]),
        (["dags", "cleanup"], ["Delete a branch's folder", "--airflow-api-version="]),
    ],
)
def test_cli_help_lists_commands_and_options(args, expected, tmp_path):
    """--help on each command group and on one subcommand each exits 0 and shows what it offers."""
    result = _run([*args, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout


@pytest.mark.parametrize("group", [[], ["git"], ["ray"], ["dags"]])
def test_cli_unknown_subcommand_exits_nonzero_with_one_line(group, tmp_path):
    """An unknown subcommand exits 2 with one stderr line naming it and the valid choices."""
    result = _run([*group, "frobnicate"], tmp_path)
    assert result.returncode == 2
    command = " ".join(["jupyter remote-dev", *group])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{command}: unknown subcommand 'frobnicate'")
    assert result.stdout == ""


def test_cli_group_without_subcommand_prints_help_and_fails(tmp_path):
    """A command group run with no subcommand prints its help and exits 1 (nothing was done)."""
    result = _run(["dags"], tmp_path)
    assert result.returncode == 1
    assert "lifecycle\n" in result.stdout


@pytest.mark.parametrize(
    ("launch", "shown"),
    [
        ('runpy.run_module("jupyter_remote_dev.gitsync", run_name="__main__")', "init\n"),
        (
            'run_module_main("jupyter_remote_dev.airflow.cli", "DagsApp", "cleanup")',
            "--airflow-url=",
        ),
    ],
)
def test_cli_git_and_dags_help_need_no_http_client(launch, shown, tmp_path):
    """``python -m jupyter_remote_dev.gitsync`` and ``dags`` help import no httpx, ray or client."""
    code = f"""
import importlib, runpy, sys
def run_module_main(module, app, sub):
    getattr(importlib.import_module(module), app).launch_instance([sub, "--help"])
sys.argv = ["x", "--help"]
try:
    {launch}
except SystemExit as e:
    print("exit", e.code)
heavy = ("httpx", "ray", "jupyter_remote_dev.client")
print(sorted({{m for m in sys.modules for h in heavy if m == h or m.startswith(h + ".")}}))
"""
    result = _run([], tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert shown in result.stdout
    assert result.stdout.splitlines()[-2:] == ["exit 0", "[]"]
