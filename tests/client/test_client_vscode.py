"""`jupyter remote-dev vscode`: tasks and run-on-save merged into existing .vscode files."""

import json

import pytest

from jupyter_remote_dev.client.commands import vscode


def read(path):
    return json.loads(path.read_text())


def test_write_vscode_creates_tasks_settings_and_recommendation(tmp_path):
    """A fresh folder gets our four tasks, the run-on-save push and the extension recommendation."""
    vscode.write_vscode(tmp_path, "proj", profile="work")
    tasks = read(tmp_path / ".vscode" / "tasks.json")
    labels = [t["label"] for t in tasks["tasks"]]
    assert labels == [
        "remote-dev: sync",
        "remote-dev: pull",
        "remote-dev: push current file",
        "remote-dev: run current file",
    ]
    run = tasks["tasks"][3]
    assert run["args"][:6] == [
        "remote-dev",
        "run",
        "--profile",
        "work",
        "--cwd",
        "proj/${relativeFileDirname}",
    ]
    assert run["dependsOn"] == "remote-dev: push current file"
    settings = read(tmp_path / ".vscode" / "settings.json")
    (command,) = settings[vscode.RUN_ON_SAVE_KEY]["commands"]
    assert command["cmd"] == 'jupyter remote-dev push --profile work "${file}"'
    assert read(tmp_path / ".vscode" / "extensions.json")["recommendations"] == [
        vscode.RUN_ON_SAVE_EXTENSION
    ]


def test_write_vscode_merges_and_keeps_user_entries(tmp_path):
    """Other tasks, settings and run-on-save commands survive; a JSONC original is kept as .bak."""
    folder = tmp_path / ".vscode"
    folder.mkdir()
    original = """{
  // my build
  "version": "2.0.0",
  "tasks": [{"label": "build", "type": "shell", "command": "make // not a comment"},],
}"""
    (folder / "tasks.json").write_text(original)
    (folder / "settings.json").write_text(
        json.dumps(
            {"editor.tabSize": 2, vscode.RUN_ON_SAVE_KEY: {"commands": [{"cmd": "black ${file}"}]}}
        )
    )
    results = vscode.write_vscode(tmp_path, "")
    tasks = read(folder / "tasks.json")
    assert tasks["tasks"][0] == {
        "label": "build",
        "type": "shell",
        "command": "make // not a comment",
    }
    assert len(tasks["tasks"]) == 5
    assert (folder / "tasks.json.bak").read_text() == original
    assert "kept in .bak" in results[str(folder / "tasks.json")]
    settings = read(folder / "settings.json")
    assert settings["editor.tabSize"] == 2
    assert [c["cmd"] for c in settings[vscode.RUN_ON_SAVE_KEY]["commands"]] == [
        "black ${file}",
        'jupyter remote-dev push "${file}"',
    ]


def test_write_vscode_twice_changes_nothing(tmp_path):
    """Running it again is idempotent: no duplicate tasks or commands, files left as they are."""
    vscode.write_vscode(tmp_path, "proj")
    before = {p.name: p.read_text() for p in (tmp_path / ".vscode").iterdir()}
    results = vscode.write_vscode(tmp_path, "proj")
    assert set(results.values()) == {"unchanged"}
    assert {p.name: p.read_text() for p in (tmp_path / ".vscode").iterdir()} == before


def test_write_vscode_refuses_broken_json_without_touching_it(tmp_path):
    """A file that is not JSON is reported and left unchanged."""
    folder = tmp_path / ".vscode"
    folder.mkdir()
    (folder / "tasks.json").write_text("{ not json")
    with pytest.raises(vscode.VSCodeError, match="not valid JSON"):
        vscode.write_vscode(tmp_path, "proj")
    assert (folder / "tasks.json").read_text() == "{ not json"
