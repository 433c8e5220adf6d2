"""The Ray working-dir package: which files go into the zip (no Ray needed)."""

import zipfile

from jupyter_remote_dev.ray.package import package_working_dir


def zipped(root, ignore) -> set[str]:
    path, _ = package_working_dir(root, root, ignore, 10**6)
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist())
    finally:
        path.unlink()


def write(path, text="x\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_package_matches_dot_folders_by_their_real_name(tmp_path):
    """Top-level '.git'/'.venv' are skipped by those patterns; '.cfg' is not taken for 'cfg'."""
    for rel in [".git/HEAD", ".venv/lib/x.py", ".cfg/settings.ini", "cfg/other.ini", "main.py"]:
        write(tmp_path / rel)
    assert zipped(tmp_path, [".git", ".venv", "cfg"]) == {".cfg/settings.ini", "main.py"}


def test_package_matches_nested_paths_and_files_by_relative_path(tmp_path):
    """Patterns see a nested folder's path relative to the package root, and single names."""
    for rel in ["src/.git/HEAD", "src/a.py", "src/build/out.bin", "data/x.csv", ".env"]:
        write(tmp_path / rel)
    assert zipped(tmp_path, [".git", "build", "data/*", ".env"]) == {"src/a.py"}


def test_package_does_not_walk_ignored_dot_folders(tmp_path, monkeypatch):
    """An ignored '.git' or '.venv' is pruned, not walked file by file and then dropped."""
    import os

    from jupyter_remote_dev.ray import package

    for rel in [".git/objects/ab/cd", ".venv/lib/site.py", "main.py"]:
        write(tmp_path / rel)
    walked = []
    real_walk = os.walk

    def recording_walk(top, *args, **kwargs):
        for entry in real_walk(top, *args, **kwargs):
            walked.append(os.path.relpath(entry[0], tmp_path))
            yield entry

    monkeypatch.setattr(package.os, "walk", recording_walk)
    assert zipped(tmp_path, [".git", ".venv"]) == {"main.py"}
    assert walked == ["."]
