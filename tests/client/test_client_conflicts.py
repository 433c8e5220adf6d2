"""Conflicts that stay local until resolved, the safety halt on mass deletion, and the summary
line (the real CLI against a real server)."""

from __future__ import annotations

import json
import re

from jupyter_remote_dev.client.commands.exitcodes import CONFLICTS, HALTED

from . import cli_support
from .cli_support import run_in_terminal, server_files

cli, login = cli_support.cli, cli_support.login

SUMMARY = re.compile(
    r"^pushed \d+ files? \([\d.]+ [KMG]?B\), pulled \d+ files? \([\d.]+ [KMG]?B\), "
    r"deleted \d+ here and \d+ there, \d+ conflicts?, [\d.]+ s$"
)


async def conflicted(laptop, server_url, token, jp_root_dir):
    """A bound project whose README changed on both sides since the last sync."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    (project / "README.md").write_text("v1\n")
    assert (await cli(logged_in, "sync", "--yes")).returncode == 0
    (project / "README.md").write_text("laptop\n")
    (jp_root_dir / "project" / "README.md").write_text("server\n")
    return logged_in, project, jp_root_dir / "project"


async def test_conflict_copy_stays_local_and_the_conflict_is_remembered(
    laptop, server_url, token, jp_root_dir
):
    """The server's version is kept beside the file locally only; later syncs (and dry runs) exit
    with the conflict code, never push the copy, and status lists the conflict."""
    logged_in, project, remote = await conflicted(laptop, server_url, token, jp_root_dir)
    first = await cli(logged_in, "sync")
    assert first.returncode == CONFLICTS, first.stderr
    copies = [p.name for p in project.glob("README.remote-*.md")]
    assert len(copies) == 1 and (project / copies[0]).read_text() == "server\n"
    for args in (("sync",), ("sync", "--dry-run"), ("sync", "--json")):
        again = await cli(logged_in, *args)
        assert again.returncode == CONFLICTS, (args, again.stderr)
    (project / "README.md").write_text("laptop, edited again\n")
    edited = await cli(logged_in, "sync")
    assert edited.returncode == CONFLICTS
    assert server_files(remote) == {"README.md"}
    assert (remote / "README.md").read_text() == "server\n"
    (remote / "README.md").write_text("server, edited again\n")
    newer = await cli(logged_in, "sync")
    assert newer.returncode == CONFLICTS
    copies = [p.name for p in project.glob("README.remote-*.md")]
    assert len(copies) == 1 and (project / copies[0]).read_text() == "server, edited again\n"
    assert server_files(remote) == {"README.md"}
    status = await cli(logged_in, "status", "--json")
    assert json.loads(status.stdout)["folder"]["conflicts"] == [
        {"path": "README.md", "remote_copy": copies[0]}
    ]
    assert "README.md" in (await cli(logged_in, "status")).stdout


async def test_resolve_keep_local_pushes_and_clears(laptop, server_url, token, jp_root_dir):
    """resolve --keep local sends the local file, removes the copy, and sync is clean again."""
    logged_in, project, remote = await conflicted(laptop, server_url, token, jp_root_dir)
    assert (await cli(logged_in, "sync")).returncode == CONFLICTS
    result = await cli(logged_in, "resolve", "--keep", "local", "README.md")
    assert result.returncode == 0, result.stderr
    assert (remote / "README.md").read_text() == "laptop\n"
    assert not list(project.glob("README.remote-*"))
    clean = await cli(logged_in, "sync")
    assert clean.returncode == 0, clean.stdout
    assert server_files(remote) == {"README.md"}


async def test_resolve_keep_remote_pulls_and_clears(laptop, server_url, token, jp_root_dir):
    """resolve --keep remote takes the server's file; a path not in conflict is an error."""
    logged_in, project, remote = await conflicted(laptop, server_url, token, jp_root_dir)
    assert (await cli(logged_in, "sync")).returncode == CONFLICTS
    wrong = await cli(logged_in, "resolve", "--keep", "remote", "other.md")
    assert wrong.returncode == 1 and "not in conflict" in wrong.stderr
    result = await cli(logged_in, "resolve", "--keep", "remote", "README.md")
    assert result.returncode == 0, result.stderr
    assert (project / "README.md").read_text() == "server\n"
    assert not list(project.glob("README.remote-*"))
    assert (await cli(logged_in, "sync", "--dry-run")).returncode == 0


async def test_mass_remote_deletion_halts_unless_forced(laptop, server_url, token, jp_root_dir):
    """Deleting most (or all) files of the other side stops with the halt code and changes
    nothing; --force goes ahead."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    for i in range(10):
        (project / f"f{i}.txt").write_text(f"{i}\n")
    assert (await cli(logged_in, "sync", "--yes")).returncode == 0
    for i in range(8):
        (project / f"f{i}.txt").unlink()
    halted = await cli(logged_in, "sync")
    assert halted.returncode == HALTED, halted.stderr
    assert "--force" in halted.stderr and "8" in halted.stderr
    assert len(server_files(jp_root_dir / "project")) == 10
    forced = await cli(logged_in, "sync", "--force")
    assert forced.returncode == 0, forced.stderr
    assert server_files(jp_root_dir / "project") == {"f8.txt", "f9.txt"}


async def test_server_wiped_halts_before_deleting_everything_here(
    laptop, server_url, token, jp_root_dir
):
    """A server folder emptied (a reset volume) does not empty the laptop folder."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    for i in range(3):
        (project / f"f{i}.txt").write_text(f"{i}\n")
    assert (await cli(logged_in, "sync", "--yes")).returncode == 0
    for path in (jp_root_dir / "project").iterdir():
        path.unlink()
    halted = await cli(logged_in, "sync")
    assert halted.returncode == HALTED, halted.stderr
    assert len(list(project.glob("f*.txt"))) == 3


async def test_push_pull_sync_end_with_a_summary_line(laptop, server_url, token, jp_root_dir):
    """Each transfer command ends with one line: files and bytes each way, deletions, conflicts,
    time."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    (project / "a.py").write_text("a" * 2000)
    pushed = await cli(logged_in, "push", "--yes", "a.py")
    assert SUMMARY.match(pushed.stdout.strip().splitlines()[-1]), pushed.stdout
    assert pushed.stdout.strip().splitlines()[-1].startswith("pushed 1 file (2.0 KB)")
    (jp_root_dir / "project" / "b.py").write_text("b\n")
    pulled = await cli(logged_in, "pull", ".")
    assert SUMMARY.match(pulled.stdout.strip().splitlines()[-1]), pulled.stdout
    assert "pulled 1 file (2 B)" in pulled.stdout
    synced = await cli(logged_in, "sync")
    assert SUMMARY.match(synced.stdout.strip().splitlines()[-1]), synced.stdout


async def test_safety_halt_asks_in_a_terminal(laptop, server_url, token, jp_root_dir):
    """In a terminal the halt asks; "n" changes nothing, "y" goes ahead."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    for i in range(4):
        (project / f"f{i}.txt").write_text(f"{i}\n")
    assert (await cli(logged_in, "sync", "--yes")).returncode == 0
    for i in range(4):
        (project / f"f{i}.txt").unlink()
    code, prompt = await run_in_terminal(logged_in, ["sync"], b"n\n")
    assert code == HALTED and "delete 4 of the 4 files on the server" in prompt
    assert len(server_files(jp_root_dir / "project")) == 4
    code, _ = await run_in_terminal(logged_in, ["sync"], b"y\n")
    assert code == 0 and server_files(jp_root_dir / "project") == set()
