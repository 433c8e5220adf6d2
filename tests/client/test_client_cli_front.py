"""The command-line front (issue 20): ``run`` takes the rest of the line, one error format, global
``--profile``, per-command help, messages said once, and a dead hub failing fast."""

from __future__ import annotations

import json
import socket
import sys
import time

import pytest

from .cli_support import cli, login

PREFIX = "jupyter remote-dev: error: "


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(PREFIX), result.stderr
    assert "CRITICAL" not in result.stderr and "WARNING" not in result.stderr
    return lines[0]


async def test_run_takes_the_rest_of_the_line_as_the_command(laptop, server_url, token):
    """Options after the first word of the command belong to the command, not the CLI."""
    logged_in = await login(laptop, server_url, token)
    result = await cli(logged_in, "run", sys.executable, "-c", "print(6*7)")
    assert (result.returncode, result.stdout, result.stderr) == (0, "42\n", "")
    result = await cli(logged_in, "run", sys.executable, "--version")
    assert (result.returncode, result.stdout.split()[0]) == (0, "Python"), result.stderr
    result = await cli(logged_in, "run", "ls", "-la")
    assert result.returncode == 0 and result.stdout.startswith("total "), result
    assert " ..\n" in result.stdout  # -a: the parent folder's entry is listed
    result = await cli(logged_in, "run", "--timeout", "30", "--", sys.executable, "-c", "print(1)")
    assert (result.returncode, result.stdout) == (0, "1\n"), result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["resolve", "--keep", "mine", "x"], "--keep"),
        (["sync", "--max-delete-share=abc"], "--max-delete-share"),
        (["status", "--bogus"], "--bogus"),
        (["run", "--bogus", "ls"], "--bogus"),
        (["run", "--cwd"], "--cwd"),
        (["ray", "jobs", "--nope"], "--nope"),
        (["--nope", "status"], "--nope"),
        (["init", "--force"], "--force"),
    ],
)
def test_bad_options_are_one_error_line_and_exit_2(args, named, tmp_path):
    """Bad values and unknown options: one ``error:`` line naming the option, exit 2."""
    result = _run_cli(args, tmp_path)
    assert result.returncode == 2, result
    assert named in _one_error_line(result)
    assert result.stdout == ""


def _run_cli(args, tmp_path):
    import os
    import subprocess

    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path), "HOME": str(tmp_path)}
    env.pop("JUPYTER_REMOTE_DEV_PROFILE", None)
    return subprocess.run(
        ["jupyter-remote-dev", *args], capture_output=True, text=True, env=env, timeout=60,
        cwd=tmp_path,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("command", "synopsis", "listed", "not_listed"),
    [
        ("resolve", "jupyter remote-dev resolve --keep local|remote PATH", ["--keep"], ["--force"]),
        ("init", "jupyter remote-dev init [PROJECT_DIR]", ["--remote"], ["--force", "--start"]),
        ("run", "jupyter remote-dev run [OPTIONS] CMD [ARGS...]", ["--cwd"], ["--json"]),
        ("logout", "jupyter remote-dev logout", ["--profile"], ["--start"]),
        ("vscode", "jupyter remote-dev vscode", ["--profile"], ["--force", "--start"]),
    ],
)
def test_help_names_the_synopsis_and_only_its_options(
    command, synopsis, listed, not_listed, tmp_path
):
    result = _run_cli([command, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert synopsis in "\n".join(result.stdout.splitlines()[:3]), result.stdout
    options = result.stdout.split("Options:")[1]
    for option in listed:
        assert option in options
    for option in not_listed:
        assert option not in options, option


async def test_global_profile_before_the_subcommand(laptop, server_url, token):
    logged_in = await login(laptop, server_url, token, "--profile", "other")
    result = await cli(logged_in, "--profile", "other", "status")
    assert result.returncode == 0, result.stderr
    assert "profile 'other'" in result.stdout
    result = await cli(logged_in, "--profile=other", "run", sys.executable, "-c", "print(5)")
    assert (result.returncode, result.stdout) == (0, "5\n"), result.stderr


async def test_safety_halt_and_conflict_say_it_once(laptop, server_url, token, jp_root_dir):
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    for name in "abcd":
        (project / f"{name}.txt").write_text(name)
    assert (await cli(logged_in, "sync", "--yes")).returncode == 0
    (jp_root_dir / "project" / "a.txt").write_text("server")
    (project / "a.txt").write_text("laptop")
    for _ in range(2):  # a new conflict, then one that still stands
        result = await cli(logged_in, "sync")
        assert result.returncode == 2, result.stderr
        (conflict,) = [line for line in result.stdout.splitlines() if "CONFLICT" in line]
        assert conflict.count("resolve") == 1 and conflict.count("settle") == 1, conflict
    for name in "bcd":
        (project / f"{name}.txt").unlink()
    result = await cli(logged_in, "sync")
    assert result.returncode == 3
    assert _one_error_line(result).count("stopped for safety") == 1


async def test_an_empty_folder_is_counted_as_a_folder(laptop, server_url, token, jp_root_dir):
    logged_in = await login(laptop, server_url, token)
    (logged_in["project"] / "empty").mkdir()
    (logged_in["project"] / "x.txt").write_text("x")
    result = await cli(logged_in, "sync", "--yes")
    assert result.returncode == 0, result.stderr
    assert "pushed 1 file and 1 folder (1 B)" in result.stdout.splitlines()[-1]
    assert (jp_root_dir / "project" / "empty").is_dir()


async def test_https_against_plain_http_and_a_token_url(laptop, server_url, token):
    """An https:// URL to a plain-HTTP server says so; a ?token= URL is quoted redacted."""
    result = await cli(
        laptop, "login", server_url.replace("http://", "https://"), "--token-stdin",
        stdin=token + "\n",
    )  # fmt: skip
    line = _one_error_line(result)
    assert "the server speaks plain HTTP" in line and "private CA" not in line
    assert result.returncode == 1
    result = await cli(laptop, "login", server_url + "lab?token=s3cr3t", stdin=token + "\n")
    line = _one_error_line(result)
    assert "s3cr3t" not in line and f"'{server_url}lab?token=***'" in line, line


@pytest.fixture
def dead_ports():
    """A closed port (nothing listens) and a black hole (accepts, never answers)."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(64)
    yield {"closed": closed_port, "black hole": hole.getsockname()[1]}
    hole.close()


async def test_a_dead_hub_fails_within_5_s_and_status_shows_the_binding(
    laptop,
    server_url,
    token,
    dead_ports,
):
    logged_in = await login(laptop, server_url, token)
    assert (await cli(logged_in, "init")).returncode == 0
    profiles = laptop["home"] / ".jupyter" / "remote_dev_profiles.json"
    saved = json.loads(profiles.read_text())
    for kind, port in dead_ports.items():
        saved["profiles"]["default"]["url"] = f"http://127.0.0.1:{port}/"
        profiles.write_text(json.dumps(saved))
        for args in (["status"], ["sync"], ["run", "true"], ["ray", "jobs"], ["git", "status"]):
            started = time.monotonic()
            result = await cli(logged_in, *args)
            assert time.monotonic() - started < 5, (kind, args)
            assert result.returncode == 1, (kind, args, result)
            _one_error_line(result)
            if args == ["status"]:
                assert f"folder {laptop['project']} <-> /project" in result.stdout, kind
