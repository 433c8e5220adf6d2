"""The project binding, like git's repository root: init, walking up, and refusing paths that
leave the project or the server root (the CLI as a user runs it, against a real server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import cli_support
from .cli_support import run_in_terminal, server_files

cli, login = cli_support.cli, cli_support.login

STATE = Path(".jupyter-remote-dev", "state.json")


def binding(folder: Path) -> dict:
    state = json.loads((folder / STATE).read_text())
    return {"profile": state["profile"], "remote_dir": state["remote_dir"]}


def one_line_error(result) -> bool:
    """A non-zero exit with exactly one line on stderr (and no traceback)."""
    lines = result.stderr.strip().splitlines()
    return result.returncode != 0 and len(lines) == 1 and "Traceback" not in lines[0]


async def test_init_binds_the_folder_to_its_name_and_commands_walk_up(
    laptop, server_url, token, jp_root_dir
):
    """init binds the current folder to a server folder of the same name; push, pull, sync and
    status then find the binding from any subfolder, with paths relative to where they run."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    (project / "src").mkdir()
    (project / "src" / "train.py").write_text("print(1)\n")
    result = await cli(logged_in, "init")
    assert result.returncode == 0, result.stderr
    assert binding(project) == {"profile": "default", "remote_dir": "project"}
    assert server_files(jp_root_dir) == set(), "init sends nothing"

    pushed = await cli(logged_in, "push", "train.py", cwd=project / "src")
    assert pushed.returncode == 0, pushed.stderr
    assert (jp_root_dir / "project" / "src" / "train.py").read_text() == "print(1)\n"
    assert not (project / "src" / ".jupyter-remote-dev").exists()

    (jp_root_dir / "project" / "src" / "remote.py").write_text("made there\n")
    synced = await cli(logged_in, "sync", cwd=project / "src")
    assert synced.returncode == 0, synced.stderr
    assert (project / "src" / "remote.py").read_text() == "made there\n"
    status = json.loads((await cli(logged_in, "status", "--json", cwd=project / "src")).stdout)
    assert status["folder"]["root"] == str(project)
    assert status["folder"]["remote_dir"] == "project"


async def test_init_remote_dot_binds_the_server_root_only_when_asked(
    laptop, server_url, token, jp_root_dir
):
    """The whole server root takes an explicit ``--remote .``; ``--remote sub/dir`` is kept."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    assert (await cli(logged_in, "init", "--remote", ".")).returncode == 0
    assert binding(project)["remote_dir"] == ""
    other = project.parent / "other"
    other.mkdir()
    assert (await cli(logged_in, "init", "--remote", "team/other", cwd=other)).returncode == 0
    assert binding(other)["remote_dir"] == "team/other"
    again = await cli(logged_in, "init", "--remote", "elsewhere", cwd=other)
    assert one_line_error(again) and "already bound" in again.stderr
    assert binding(other)["remote_dir"] == "team/other"


async def test_first_sync_asks_and_refuses_without_yes_when_not_interactive(
    laptop, server_url, token, jp_root_dir
):
    """An unbound folder is not bound silently: without a terminal, sync and push need --yes."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    (project / "a.py").write_text("a\n")
    for args in (("sync",), ("push", "a.py"), ("sync", "--dry-run")):
        refused = await cli(logged_in, *args)
        assert one_line_error(refused), (args, refused.stderr)
        assert "--yes" in refused.stderr and "init" in refused.stderr
    assert not (project / ".jupyter-remote-dev").exists()
    assert server_files(jp_root_dir) == set()
    accepted = await cli(logged_in, "sync", "--yes")
    assert accepted.returncode == 0, accepted.stderr
    assert (jp_root_dir / "project" / "a.py").read_text() == "a\n"


@pytest.mark.parametrize(
    "args, bound",
    [
        (("push", ".."), False),
        (("push", "../other.txt"), False),
        (("push", "/etc/hostname"), False),
        (("pull", ".."), False),
        (("push", "--yes", ".."), False),
        (("push", "--yes", ".."), True),
        (("push", "--yes", "/etc/hostname"), True),
        (("sync", "--yes", ".."), False),
        (("sync", "--yes", ".."), True),
    ],
)
async def test_paths_outside_the_project_are_refused_and_nothing_is_written(
    laptop, server_url, token, jp_root_dir, args, bound
):
    """A path argument outside the project: one line, non-zero, nothing sent or written."""
    logged_in = await login(laptop, server_url, token)
    home, project = logged_in["home"], logged_in["project"]
    (home / "other.txt").write_text("secret\n")
    (project / "a.py").write_text("a\n")
    if bound:
        assert (await cli(logged_in, "init")).returncode == 0
    before = server_files(home)
    result = await cli(logged_in, *args)
    assert one_line_error(result), result.stderr
    assert "outside" in result.stderr
    assert server_files(jp_root_dir) == set()
    assert server_files(home) == before
    assert not Path("/etc/.jupyter-remote-dev").exists()


@pytest.mark.parametrize("remote", ["../..", "..", "/etc", "a/../../b", ""])
async def test_remote_escaping_the_server_root_is_refused(
    laptop, server_url, token, jp_root_dir, remote
):
    """--remote that leaves the server root (or is empty) is refused before anything happens."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    (project / "a.py").write_text("a\n")
    for args in (
        ("sync", "--yes", "--remote", remote, "--dry-run"),
        ("sync", "--yes", "--remote", remote),
        ("init", "--remote", remote),
    ):
        result = await cli(logged_in, *args)
        assert one_line_error(result), (args, result.stderr)
        assert "--remote" in result.stderr
    assert not (project / ".jupyter-remote-dev").exists()
    assert server_files(jp_root_dir) == set()


async def test_push_or_pull_of_a_missing_path_is_an_error(laptop, server_url, token, jp_root_dir):
    """A path that exists on neither side is an error, not "everything is in sync"."""
    logged_in = await login(laptop, server_url, token)
    assert (await cli(logged_in, "init")).returncode == 0
    for command in ("push", "pull"):
        result = await cli(logged_in, command, "nonexistent.txt")
        assert one_line_error(result), (command, result.stderr)
        assert "nonexistent.txt" in result.stderr and "in sync" not in result.stdout


async def test_init_refuses_root_home_system_and_config_folders(laptop, server_url, token):
    """/, the home folder, system folders and a folder holding the client's token are refused."""
    logged_in = await login(laptop, server_url, token)
    home = logged_in["home"]
    config_parent = home / "settings"
    (config_parent / "jupyter").mkdir(parents=True)
    holder = {**logged_in, "env": {**logged_in["env"]}}
    holder["env"]["JUPYTER_CONFIG_DIR"] = str(config_parent / "jupyter")
    await login(holder, server_url, token)
    cases = [
        (logged_in, Path("/")),
        (logged_in, home),
        (logged_in, Path("/etc")),
        (logged_in, Path("/usr/lib")),
        (holder, config_parent),
    ]
    for who, folder in cases:
        result = await cli(who, "init", cwd=folder)
        assert one_line_error(result), (folder, result.stderr)
        assert not (folder / ".jupyter-remote-dev").exists()


async def test_first_sync_in_a_terminal_asks_before_binding(laptop, server_url, token, jp_root_dir):
    """In a terminal the first sync names the folder and server folder and binds only on yes."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    (project / "a.py").write_text("a\n")
    code, prompt = await run_in_terminal(logged_in, ["sync"], b"n\n")
    assert code != 0 and str(project) in prompt and "project/" in prompt
    assert not (project / ".jupyter-remote-dev").exists() and server_files(jp_root_dir) == set()
    code, _ = await run_in_terminal(logged_in, ["sync"], b"y\n")
    assert code == 0
    assert (jp_root_dir / "project" / "a.py").read_text() == "a\n"


async def test_naming_an_ignored_file_says_it_is_ignored(laptop, server_url, token, jp_root_dir):
    """push or pull of a file the project ignores names it as skipped and sends nothing."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    (project / ".gitignore").write_text("*.env\n")
    (project / "secret.env").write_text("KEY=1\n")
    assert (await cli(logged_in, "init")).returncode == 0
    for command in ("push", "pull"):
        result = await cli(logged_in, command, "secret.env")
        assert result.returncode == 0, result.stderr
        assert "skipped  secret.env: ignored" in result.stdout, result.stdout
    assert server_files(jp_root_dir) == set()
