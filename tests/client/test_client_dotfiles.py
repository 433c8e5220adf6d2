"""Dot-files through the real CLI against a server with DEFAULT settings: push and pull carry
them both ways, ``.gitignore`` still decides what is left out, ``.git/`` never travels; a server
that turns them off is named once per command, not once per file."""

from __future__ import annotations

import json
import subprocess

import pytest

from . import cli_support
from .cli_support import server_files, write

cli, login = cli_support.cli, cli_support.login

PROJECT_DOT_FILES = {
    ".gitignore": ".env\n*.log\n",
    ".vscode/settings.json": '{"editor.tabSize": 4}\n',
    ".pre-commit-config.yaml": "repos: []\n",
    ".github/workflows/ci.yml": "on: push\n",
    ".env.example": "KEY=\n",
}
SETTING = "RemoteDevExtension.allow_hidden_files"


def files_under(root) -> set[str]:
    return {p for p in server_files(root) if (root / p).is_file()}


async def test_dot_files_push_and_pull_with_default_server_settings(
    laptop, server_url, token, jp_root_dir
):
    """push sends the project's dot-files, pull brings the server's back; gitignored dot-files
    (.env) stay where they are, .git/ on either side never travels, nothing is skipped."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    write(project, {**PROJECT_DOT_FILES, ".env": "KEY=secret\n", "debug.log": "x\n", "a.py": "1\n"})
    pushed = await cli(logged_in, "push", ".", "--yes")
    assert pushed.returncode == 0, pushed.stderr
    assert "skipped" not in pushed.stdout, pushed.stdout
    remote = jp_root_dir / "project"
    assert files_under(remote) == {*PROJECT_DOT_FILES, "a.py"}
    for relative, text in PROJECT_DOT_FILES.items():
        assert (remote / relative).read_text() == text

    write(
        remote,
        {
            ".vscode/settings.json": '{"editor.tabSize": 2}\n',
            ".github/dependabot.yml": "version: 2\n",
            ".env": "KEY=server-only\n",
            ".git/config": "[core]\n",
            "sub/.git/HEAD": "ref: refs/heads/main\n",
        },
    )
    pulled = await cli(logged_in, "pull", ".")
    assert pulled.returncode == 0, pulled.stderr
    assert "skipped" not in pulled.stdout, pulled.stdout
    assert (project / ".vscode/settings.json").read_text() == '{"editor.tabSize": 2}\n'
    assert (project / ".github/dependabot.yml").read_text() == "version: 2\n"
    assert (project / ".env").read_text() == "KEY=secret\n"
    assert not (project / "sub").exists()
    assert (project / ".git" / "config").read_text() != "[core]\n"
    synced = await cli(logged_in, "sync", "--json")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["skipped"] == []
    assert (remote / ".env").read_text() == "KEY=server-only\n"
    assert (remote / ".git" / "config").read_text() == "[core]\n"


@pytest.mark.parametrize("remote_dev_config", [{"allow_hidden_files": False}])
async def test_a_server_with_dot_files_off_is_named_once_per_command(
    laptop, server_url, token, jp_root_dir
):
    """With the setting off, sync, push of named files and pull each say it in one line naming
    the setting (never a line per file), still succeed, and never delete the dot-files."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    write(project, {**PROJECT_DOT_FILES, "a.py": "1\n", "b.py": "2\n"})
    commands = [
        ("sync", "--yes"),
        ("sync",),
        ("sync", "--dry-run"),
        ("push", ".env.example", ".gitignore", "a.py"),
        ("pull", "."),
    ]
    for command in commands:
        result = await cli(logged_in, *command)
        assert result.returncode == 0, (command, result.stderr)
        lines = (result.stdout + result.stderr).splitlines()
        named = [line for line in lines if SETTING in line]
        assert len(named) == 1, (command, lines)
        assert not [line for line in lines if "dot-file" in line and line not in named], lines
        for relative in PROJECT_DOT_FILES:
            assert relative not in result.stdout + result.stderr, (command, relative)
    assert files_under(jp_root_dir / "project") == {"a.py", "b.py"}
    assert all((project / relative).exists() for relative in PROJECT_DOT_FILES)
    report = json.loads((await cli(logged_in, "sync", "--json")).stdout)
    assert sorted(s["path"] for s in report["skipped"]) == sorted(PROJECT_DOT_FILES)
    assert all(SETTING in s["reason"] for s in report["skipped"])
