"""What a sync carries, through the real CLI and server: .gitignore semantics, dot-files, the
executable bit, empty folders, and symlinks (skipped and named); the server keeps its default
settings (dot-files served by the file API, hidden from Lab)."""

from __future__ import annotations

import json
import os
import subprocess

from ..support.openapi_check import assert_response_matches
from . import cli_support
from .cli_support import server_files, write

cli, login = cli_support.cli, cli_support.login


async def test_gitignore_rules_dot_files_and_git_folder(laptop, server_url, token, jp_root_dir):
    """Nested .gitignore files (negation, anchoring), .git/info/exclude and .remotedevignore are
    honoured; dot-files sync like any other file; .git/ never does."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    write(
        project,
        {
            ".gitignore": "*.env\n!public.env\n/build/\n*.log\n",
            "secret.env": "KEY=1\n",
            "public.env": "URL=x\n",
            "build/out.bin": "b\n",
            "src/build/keep.txt": "not the top build\n",
            "src/.gitignore": "local.cfg\n!keep.log\n",
            "src/local.cfg": "mine\n",
            "src/keep.log": "negated below\n",
            "src/drop.log": "ignored from above\n",
            "notes/scratch.md": "excluded\n",
            ".remotedevignore": "data/\n",
            "data/big.csv": "1,2\n",
            ".pre-commit-config.yaml": "repos: []\n",
            ".vscode/settings.json": "{}\n",
            "README.md": "hi\n",
        },
    )
    (project / ".git" / "info" / "exclude").write_text("notes/\n")
    result = await cli(logged_in, "sync", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    synced = {
        p for p in server_files(jp_root_dir / "project") if (jp_root_dir / "project" / p).is_file()
    }
    assert synced == {
        ".gitignore",
        "public.env",
        "src/build/keep.txt",
        "src/.gitignore",
        "src/keep.log",
        ".remotedevignore",
        ".pre-commit-config.yaml",
        ".vscode/settings.json",
        "README.md",
    }
    assert not (jp_root_dir / "project" / ".git").exists()


async def test_server_ignore_patterns_and_remote_gitignored_files(
    laptop, server_url, token, jp_root_dir
):
    """Remote files that the local .gitignore ignores are not pulled; the server's own patterns
    (__pycache__, .ipynb_checkpoints) still apply."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    write(project, {".gitignore": "*.tmp\n"})
    remote = jp_root_dir / "project"
    write(remote, {"x.tmp": "t\n", "kept.py": "k\n", ".ipynb_checkpoints/a.ipynb": "{}\n"})
    result = await cli(logged_in, "sync", "--yes")
    assert result.returncode == 0, result.stderr
    assert (project / "kept.py").exists()
    assert not (project / "x.tmp").exists() and not (project / ".ipynb_checkpoints").exists()


async def test_executable_bit_travels_both_ways(laptop, server_url, token, jp_root_dir):
    """chmod +x here reaches the server, and the server's reaches here, even with equal content."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    write(project, {"run.sh": "#!/bin/sh\necho hi\n", "plain.txt": "p\n"})
    (project / "run.sh").chmod(0o755)
    assert (await cli(logged_in, "sync", "--yes")).returncode == 0
    remote = jp_root_dir / "project"
    assert os.access(remote / "run.sh", os.X_OK) and not os.access(remote / "plain.txt", os.X_OK)
    (project / "plain.txt").chmod(0o755)
    assert (await cli(logged_in, "sync")).returncode == 0
    assert os.access(remote / "plain.txt", os.X_OK)
    (remote / "run.sh").chmod(0o644)
    write(remote, {"tool.sh": "#!/bin/sh\n"})
    (remote / "tool.sh").chmod(0o755)
    assert (await cli(logged_in, "sync")).returncode == 0
    assert not os.access(project / "run.sh", os.X_OK)
    assert os.access(project / "tool.sh", os.X_OK)
    (project / "tool.sh").chmod(0o644)
    pushed = await cli(logged_in, "push", "tool.sh")
    assert pushed.returncode == 0, pushed.stderr
    assert not os.access(remote / "tool.sh", os.X_OK)


async def test_empty_folders_sync_both_ways(laptop, server_url, token, jp_root_dir):
    """An empty folder is created on the other side, and its removal propagates."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    (project / "outputs" / "plots").mkdir(parents=True)
    (project / "a.py").write_text("a\n")
    assert (await cli(logged_in, "sync", "--yes")).returncode == 0
    remote = jp_root_dir / "project"
    assert (remote / "outputs" / "plots").is_dir()
    (remote / "logs").mkdir()
    assert (await cli(logged_in, "sync")).returncode == 0
    assert (project / "logs").is_dir()
    (project / "outputs" / "plots").rmdir()
    (project / "outputs").rmdir()
    result = await cli(logged_in, "sync", "--json")
    assert result.returncode == 0, result.stderr
    assert not (remote / "outputs").exists()
    assert (remote / "logs").is_dir() and (remote / "a.py").exists()


async def test_symlinks_are_skipped_and_named(laptop, server_url, token, jp_root_dir):
    """A symlink inside the project is not followed nor sent; the summary names it as skipped."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    write(project, {"real.txt": "r\n"})
    (project / "link.txt").symlink_to("real.txt")
    (project / "outside").symlink_to(logged_in["home"])
    result = await cli(logged_in, "sync", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == {"link.txt", "outside"} and "symlink" in skipped["link.txt"]
    assert server_files(jp_root_dir / "project") == {"real.txt"}
    text = await cli(logged_in, "sync")
    assert "skipped" in text.stdout and "link.txt" in text.stdout


async def test_server_lists_empty_folders_reports_modes_and_removes_empty_folders(
    jp_fetch, jp_root_dir
):
    """The additive server parts the client relies on: GET tree lists empty folders (not ones
    holding only ignored entries), HEAD sends X-File-Mode, info reports allow_hidden, and DELETE
    removes an empty folder without ?recursive=1 (a non-empty one still needs it)."""
    write(jp_root_dir, {"p/run.sh": "#!/bin/sh\n", "p/only_cache/__pycache__/m.pyc": "c"})
    (jp_root_dir / "p" / "run.sh").chmod(0o750)
    (jp_root_dir / "p" / "empty" / "inner").mkdir(parents=True)
    tree = await jp_fetch("remote-dev", "api", "tree", "p")
    assert json.loads(tree.body)["folders"] == ["empty/inner"]
    assert_response_matches(tree, "GET", "/tree/p")
    head = await jp_fetch("remote-dev", "api", "files", "p/run.sh", method="HEAD")
    assert head.headers["X-File-Mode"] == "750"
    info = json.loads((await jp_fetch("remote-dev", "api", "info")).body)
    assert info["allow_hidden"] is True
    gone = await jp_fetch("remote-dev", "api", "files", "p/empty/inner", method="DELETE")
    assert gone.code == 204 and not (jp_root_dir / "p" / "empty" / "inner").exists()
    kept = await jp_fetch("remote-dev", "api", "files", "p/only_cache", method="DELETE",
                          raise_error=False)  # fmt: skip
    assert kept.code == 409 and (jp_root_dir / "p" / "only_cache" / "__pycache__").exists()


async def test_first_sync_into_new_nested_folders(laptop, server_url, token, jp_root_dir):
    """A first sync of files spread over nested folders that do not exist yet on the server (the
    batch walks each folder once): every file lands whole, and a re-sync sends nothing."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    files = {
        f"src/pkg{i % 7}/sub{i % 3}/m{i}.py": f"# {i}\n" + "x" * (20_000 + i) for i in range(120)
    }
    write(project, files)
    result = await cli(logged_in, "sync", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["done"]) == len(files)
    remote = jp_root_dir / "project"
    for path, text in files.items():
        assert (remote / path).read_text() == text
    again = json.loads((await cli(logged_in, "sync", "--json")).stdout)
    assert again["done"] == [] and again["failed"] == []
