"""The project's ignore rules follow git: compared with `git check-ignore` on the same tree."""

from __future__ import annotations

import subprocess

from jupyter_remote_dev.client.sync.ignores import ProjectIgnores

FILES = {
    ".gitignore": "*.env\n!public.env\n/build/\n*.log\ndocs/*.html\nnode_modules/\n",
    "src/.gitignore": "local.cfg\n!keep.log\n/anchored.txt\n",
    "src/.remotedevignore": "big/\n",
    "src/lib/.gitignore": "!*.env\n",
}
PATHS = [
    "secret.env", "public.env", "build/out.bin", "src/build/keep.txt", "a.log", "src/keep.log",
    "src/drop.log", "src/local.cfg", "src/x/local.cfg", "src/anchored.txt",
    "src/x/anchored.txt", "docs/a.html", "docs/sub/b.html", "node_modules/p/i.js",
    "src/node_modules/q.js", "src/lib/token.env", "notes/todo.md", "README.md",
]  # fmt: skip


def make_repo(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for relative, text in FILES.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    (tmp_path / ".git" / "info" / "exclude").write_text("notes/\n")
    for relative in PATHS:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x\n")


def git_ignored(root, paths) -> set[str]:
    """What git itself ignores (``.gitignore`` files and ``.git/info/exclude`` only)."""
    result = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "--no-index", "--stdin"],
        input="\n".join(paths), capture_output=True, text=True,
    )  # fmt: skip
    return set(result.stdout.split())


def test_project_ignores_agree_with_git(tmp_path):
    """Nesting, negation, anchoring, dir/ patterns, a deeper file winning, and info/exclude give
    the answers git gives; .remotedevignore adds its own rules on top."""
    make_repo(tmp_path)
    rules = ProjectIgnores(tmp_path)
    ours = {p for p in PATHS if rules.ignores(p)}
    assert ours - {"src/big/f.py"} == git_ignored(tmp_path, PATHS)
    assert rules.ignores("src/big/f.py") and rules.ignores("src/big", is_dir=True)
    assert not rules.ignores("big/f.py"), ".remotedevignore in src/ applies under src/ only"


def test_git_folder_never_syncs_and_an_ignored_folder_cannot_be_reopened(tmp_path):
    """.git/ is always left out; as in git, `!` cannot re-include a file of an ignored folder."""
    (tmp_path / ".gitignore").write_text("cache/\n!cache/keep.txt\n")
    rules = ProjectIgnores(tmp_path)
    assert rules.ignores(".git/config") and rules.ignores("sub/.git/HEAD")
    assert rules.ignores("cache/keep.txt")
    assert not rules.ignores(".gitignore") and not rules.ignores(".github/workflows/ci.yml")
