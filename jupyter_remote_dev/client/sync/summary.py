"""The line every push, pull and sync ends with: files and bytes each way, deletions, conflicts,
time. ``pushed 3 files (12.4 KB), pulled 0 files (0 B), deleted 1 here and 0 there, 0 conflicts,
0.4 s``."""

from __future__ import annotations

from .plan import CONFLICT, DELETE_LOCAL, DELETE_REMOTE, PULL, PUSH, Action


def human_bytes(count: int) -> str:
    """``count`` in B, KB, MB or GB (powers of 1000, one decimal above bytes)."""
    if count < 1000:
        return f"{count} B"
    value = float(count)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def _files(n: int, word: str = "file") -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(done: list[Action], conflicts: int, seconds: float) -> str:
    """The summary of the actions carried out; an empty folder counts as a folder."""

    def moved(kind: str) -> str:
        actions = [a for a in done if a.kind == kind]
        folders = sum(1 for a in actions if a.is_folder)
        size = sum(a.size for a in actions if not a.is_folder)
        counted = _files(len(actions) - folders)
        if folders:
            counted += f" and {_files(folders, 'folder')}"
        return f"{counted} ({human_bytes(size)})"

    here = sum(1 for a in done if a.kind == DELETE_LOCAL)
    there = sum(1 for a in done if a.kind == DELETE_REMOTE)
    return (
        f"pushed {moved(PUSH)}, pulled {moved(PULL)}, deleted {here} here and {there} there, "
        f"{_files(conflicts, 'conflict')}, {seconds:.1f} s"
    )


def describe_summary(summary: dict[str, int]) -> str:
    """A plan's summary in words, for ``status`` and ``sync --dry-run``."""
    parts = [f"{n} to {k}" for k, n in summary.items() if n and k != CONFLICT]
    if summary.get(CONFLICT):
        parts.append(f"{summary[CONFLICT]} in conflict")
    return ", ".join(parts) or "in sync"
