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
        ([], ["\n  git ", "\n  ray ", "\n  dags ", "`jupyter remote-dev NAME --help`"]),
        (["git"], ["\n  status ", "\n  sync ", "\n  local ", "`jupyter remote-dev git NAME"]),
        (["git", "local"], ["\n  init ", "\n  cycle ", "\n  status "]),
        (["ray"], ["\n  status ", "\n  submit ", "\n  jobs ", "\n  logs ", "\n  stop "]),
        (["dags"], ["\n  publish ", "\n  reconcile ", "`jupyter remote-dev dags NAME"]),
        (["git", "local", "cycle"], ["Run one sync cycle", "--wait="]),
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
    assert len(lines) == 1
    assert lines[0].startswith(
        f"jupyter remote-dev: error: unknown command 'frobnicate' for `{command}`"
    )
    assert result.stdout == ""


def test_cli_group_without_subcommand_prints_help_and_fails(tmp_path):
    """A command group run with no subcommand prints its help and exits 1 (nothing was done)."""
    result = _run(["dags"], tmp_path)
    assert result.returncode == 1
    assert "\n  lifecycle " in result.stdout


@pytest.mark.parametrize(
    ("launch", "shown"),
    [
        ('runpy.run_module("jupyter_remote_dev.gitsync", run_name="__main__")', "\n  init "),
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


GENERIC = ("--show-config", "--generate-config", "--log-level=", "Equivalent to")


@pytest.mark.parametrize(
    ("args", "own"),
    [
        ([], ["Work on a remote Jupyter server", "  sync ", "  run ", "  ray "]),
        (["run"], ["Run a command on the server", "--cwd=", "--timeout=", "--no-stdin"]),
        (["sync"], ["Three-way sync", "--remote=", "--watch", "--dry-run"]),
        (["login"], ["Log in to a Jupyter server", "--token-stdin", "--ca-bundle="]),
        (["ray", "status"], ["Ray cluster", "--json"]),
        (["git", "status"], ["The server's Git sync", "--json"]),
        (["git", "local", "status"], ["sync state", "--repo="]),
        (["dags", "cleanup"], ["Delete a branch's folder", "--airflow-api-version="]),
    ],
)
def test_cli_help_fits_a_screen_with_its_own_usage_first(args, own, tmp_path):
    """--help: the command's synopsis and what it does first, one line per subcommand, its own
    options, no generic Jupyter options (those are under --help-all), within 30 lines."""
    result = _run([*args, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) <= 30, result.stdout
    assert own[0] in "\n".join(lines[:3]), result.stdout
    for text in own:
        assert text in result.stdout
    for generic in GENERIC:
        assert generic not in result.stdout
    assert "--help-all" in lines[-1]
    full = _run([*args, "--help-all"], tmp_path)
    assert full.returncode == 0 and ".log_level=" in full.stdout
