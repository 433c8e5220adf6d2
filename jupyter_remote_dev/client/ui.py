"""Terminal output for the CLI: rich progress bars when useful, plain lines or JSON otherwise."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any

BIG_TRANSFER = 1024 * 1024
"""Transfers over this many bytes get a progress bar (when stderr is a terminal)."""


class Output:
    """Where a command reports: ``--json`` prints one JSON document; otherwise human lines."""

    def __init__(self, json_output: bool = False, quiet: bool = False):
        self.json_output = json_output
        self.quiet = quiet
        self.interactive = sys.stderr.isatty() and not json_output and not quiet

    def line(self, text: str) -> None:
        """A human line on stdout (suppressed by ``--json``)."""
        if not self.json_output and not self.quiet:
            print(text, flush=True)

    def note(self, text: str) -> None:
        """A side remark on stderr (progress messages, hints)."""
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    def result(self, payload: Any) -> None:
        """The ``--json`` document (only in JSON mode)."""
        if self.json_output:
            print(json.dumps(payload, indent=2, sort_keys=True), flush=True)

    @contextmanager
    def progress(self, files: int, total_bytes: int):
        """Yield (on_file, on_bytes) callbacks; a bar is shown for multi-file or big transfers.

        The bar counts bytes when more than 1 MiB moves, files otherwise."""
        if not self.interactive or (files <= 1 and total_bytes <= BIG_TRANSFER):
            yield (lambda *_: None), (lambda *_: None)
            return
        from rich.console import Console  # imported only when a bar is shown: CLI start-up
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        by_bytes = total_bytes > BIG_TRANSFER
        counts = [DownloadColumn(), TransferSpeedColumn()] if by_bytes else [MofNCompleteColumn()]
        done = [0]
        with Progress(
            TextColumn("{task.description}"), BarColumn(), *counts,
            console=Console(stderr=True), transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task(f"0/{files} files", total=total_bytes if by_bytes else files)

            def on_file(*_: object) -> None:
                done[0] += 1
                bar.update(task, description=f"{done[0]}/{files} files")
                if not by_bytes:
                    bar.advance(task)

            def on_bytes(n: int) -> None:
                if by_bytes:
                    bar.advance(task, n)

            yield on_file, on_bytes
