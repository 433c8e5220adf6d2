"""``vscode``: ``.vscode`` files for the CLI: tasks (run current file remotely, sync, pull) and
run-on-save.

Existing files are merged, never overwritten: other tasks, settings and recommendations stay.
VS Code allows comments and trailing commas (JSONC); such a file is parsed, merged, and the original
is kept as ``<name>.bak`` because re-serialising drops its comments.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from ..errors import VSCodeError
from .base import JSON_FLAG
from .transfer import TransferCommand

RUN_ON_SAVE_EXTENSION = "emeraldwalk.RunOnSave"
RUN_ON_SAVE_KEY = "emeraldwalk.runonsave"
TASK_PREFIX = "remote-dev: "


_JSONC_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.DOTALL)


def parse_jsonc(text: str) -> tuple[Any, bool]:
    """Parse JSON with comments and trailing commas; also say whether anything was stripped."""
    stripped = False

    def keep_strings(match: re.Match) -> str:
        nonlocal stripped
        token = match.group(0)
        if token.startswith('"'):
            return token
        stripped = True
        return ""

    return json.loads(_JSONC_TOKEN.sub(keep_strings, text)), stripped


def _cli(subcommand: str, profile: str | None) -> list[str]:
    return ["remote-dev", subcommand, *(["--profile", profile] if profile else [])]


def make_tasks(remote_dir: str, profile: str | None = None) -> list[dict[str, Any]]:
    """Our VS Code tasks; the workspace folder is the local sync folder bound to ``remote_dir``."""
    remote_cwd = f"{remote_dir.strip('/')}/${{relativeFileDirname}}".lstrip("/")
    shell = {"type": "process", "command": "jupyter", "problemMatcher": []}
    return [
        {
            "label": TASK_PREFIX + "sync",
            **shell,
            "args": [*_cli("sync", profile), "${workspaceFolder}"],
        },
        {
            "label": TASK_PREFIX + "pull",
            **shell,
            "args": [*_cli("pull", profile), "${workspaceFolder}"],
        },
        {
            "label": TASK_PREFIX + "push current file",
            **shell,
            "args": [*_cli("push", profile), "${file}"],
            "presentation": {"reveal": "silent"},
        },
        {
            "label": TASK_PREFIX + "run current file",
            **shell,
            "args": [*_cli("run", profile), "--cwd", remote_cwd, "--", "python", "${fileBasename}"],
            "dependsOn": TASK_PREFIX + "push current file",
            "group": {"kind": "test", "isDefault": False},
        },
    ]


def run_on_save_command(profile: str | None = None) -> dict[str, Any]:
    """The run-on-save entry that pushes each saved file (``emeraldwalk.RunOnSave``)."""
    cmd = shlex.join(["jupyter", *_cli("push", profile)]) + ' "${file}"'
    return {
        "match": ".*",
        "notMatch": r"[\\/](\.|__pycache__[\\/])",
        "isAsync": True,
        "cmd": cmd,
    }


def _load(path: Path) -> tuple[dict[str, Any], bool]:
    if not path.exists():
        return {}, False
    try:
        data, had_comments = parse_jsonc(path.read_text("utf-8"))
    except ValueError as e:
        raise VSCodeError(f"{path} is not valid JSON ({e}); fix it, then run this again") from e
    if not isinstance(data, dict):
        raise VSCodeError(f"{path} does not hold a JSON object; fix it, then run this again")
    return data, had_comments


def _save(path: Path, data: dict[str, Any], original: dict[str, Any], had_comments: bool) -> str:
    if path.exists() and data == original:
        return "unchanged"
    if had_comments:
        path.with_name(path.name + ".bak").write_bytes(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4) + "\n", "utf-8")
    return "merged (comments kept in .bak)" if had_comments else "written"


def merge_tasks(existing: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """``existing`` tasks.json with ours added or updated by label; other tasks untouched."""
    merged = json.loads(json.dumps(existing))
    merged.setdefault("version", "2.0.0")
    current = merged.setdefault("tasks", [])
    if not isinstance(current, list):
        raise VSCodeError('tasks.json: "tasks" is not a list')
    ours = {t["label"]: t for t in tasks}
    merged["tasks"] = [ours.pop(t.get("label"), t) if isinstance(t, dict) else t for t in current]
    merged["tasks"].extend(ours.values())
    return merged


def merge_settings(existing: dict[str, Any], command: dict[str, Any]) -> dict[str, Any]:
    """``existing`` settings.json with our run-on-save command (once); other commands untouched."""
    merged = json.loads(json.dumps(existing))
    section = merged.setdefault(RUN_ON_SAVE_KEY, {})
    commands = section.setdefault("commands", []) if isinstance(section, dict) else None
    if not isinstance(commands, list):
        raise VSCodeError(f"settings.json: {RUN_ON_SAVE_KEY}.commands is not a list")
    ours = [c for c in commands if isinstance(c, dict) and " remote-dev " in c.get("cmd", "")]
    if ours != [command]:
        section["commands"] = [c for c in commands if c not in ours] + [command]
    return merged


def merge_extensions(existing: dict[str, Any]) -> dict[str, Any]:
    """``existing`` extensions.json recommending the run-on-save extension."""
    merged = json.loads(json.dumps(existing))
    recommendations = merged.setdefault("recommendations", [])
    if RUN_ON_SAVE_EXTENSION not in recommendations:
        recommendations.append(RUN_ON_SAVE_EXTENSION)
    return merged


def write_vscode(folder: Path, remote_dir: str, profile: str | None = None) -> dict[str, str]:
    """Merge our tasks, run-on-save settings and recommendation into ``folder/.vscode``."""
    vscode = folder / ".vscode"
    results = {}
    for name, merge in (
        ("tasks.json", lambda d: merge_tasks(d, make_tasks(remote_dir, profile))),
        ("settings.json", lambda d: merge_settings(d, run_on_save_command(profile))),
        ("extensions.json", merge_extensions),
    ):
        path = vscode / name
        existing, had_comments = _load(path)
        results[str(path)] = _save(path, merge(existing), existing, had_comments)
    return results


class VSCodeApp(TransferCommand):
    """Write VS Code tasks (run current file remotely, sync, pull) and run-on-save settings,
    merged into existing .vscode files."""

    name = "jupyter-remote-dev-vscode"
    description = __doc__
    synopsis = "[PROJECT_DIR] [--profile NAME] [--yes] [--remote DIR]"
    flags = {**TransferCommand.flags, **JSON_FLAG, **TransferCommand.yes_flag}
    aliases = {**TransferCommand.aliases, **TransferCommand.remote_alias}

    def run(self) -> int:
        local = Path(self.extra_args[0] if self.extra_args else ".").resolve()
        state = self.open_project(local)
        state.save()
        results = write_vscode(state.root, state.remote_dir, self.profile or None)
        for path, what in results.items():
            self.out.line(f"{what:10} {path}")
        self.out.note("install the Run on Save extension (emeraldwalk.RunOnSave) for push on save")
        self.out.result(results)
        return 0
