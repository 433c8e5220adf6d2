"""docs/architecture.md stays true: every file and folder it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
NOT_PATHS = {"remote-dev/api/"}


def named_paths() -> list[str]:
    """Backquoted names in the doc that are paths: with a slash, or a lab or doc file."""
    names = re.findall(r"`([^`\s<]+)`", DOC.read_text())
    return [n for n in names if n not in NOT_PATHS and ("/" in n or n.endswith((".ts", ".md")))]


def where(name: str) -> Path:
    if name.endswith(".ts") and "/" not in name:
        return ROOT / "labextension" / "src" / name
    if name.endswith(".md") and "/" not in name:
        return ROOT / "docs" / name
    if name.split("/")[0] in {"hub_config", "labextension", "docs", "jupyter_remote_dev"}:
        return ROOT / name
    return ROOT / "jupyter_remote_dev" / name


def test_architecture_doc_names_only_what_exists():
    names = named_paths()
    assert len(names) > 30  # the map names the files of every capability
    missing = [n for n in names if not where(n).exists()]
    assert missing == []
    assert "architecture.md" in (ROOT / "docs" / "index.md").read_text()
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()
