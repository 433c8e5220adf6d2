"""Run git for the sync engine: fixed safe options, C locale, askpass, redacted errors.

Commands go through GitPython's :class:`git.cmd.Git` (which puts git in the C locale); every call
gets ``-c`` options that turn off hooks and credential helpers (so the token is never stored),
forbid the ``ext``/``fd`` transports and set the commit identity for that one command.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from git.cmd import Git as GitPythonGit

from .config import ALLOWED_PROTOCOLS, SyncSettings
from .credentials import askpass_env, redact
from .errors import GitSyncError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GitResult:
    """Exit status and output (bytes) of one git command."""

    status: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "surrogateescape")


class GitRunner:
    """Runs git commands in one workspace with the sync engine's safety options."""

    def __init__(self, settings: SyncSettings):
        self.settings = settings
        self.workdir = Path(settings.workspace)
        self._git = GitPythonGit(str(self.workdir))
        self._env = {
            "LANG": "C",
            "LC_ALL": "C",
            "GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS,
            "GIT_EDITOR": "true",
            "GIT_MERGE_AUTOEDIT": "no",
            **askpass_env(settings.http_username, settings.token_file),
        }
        self._options = [
            "-c",
            "credential.helper=",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "protocol.ext.allow=never",
            "-c",
            "core.quotePath=false",
            "-c",
            "advice.fetchShowForcedUpdates=false",
            "-c",
            f"user.name={settings.author_name}",
            "-c",
            f"user.email={settings.author_email}",
        ]

    def __call__(self, *args: str, check: bool = True, stdin: bytes | None = None) -> GitResult:
        """Run ``git <args>``; raise :class:`GitSyncError` (redacted) if it fails and ``check``."""
        command = ["git", *self._options, *args]
        istream = None
        if stdin is not None:
            istream = tempfile.TemporaryFile()
            istream.write(stdin)
            istream.seek(0)
        try:
            status, stdout, stderr = self._git.execute(
                command,
                istream=istream,
                with_extended_output=True,
                with_exceptions=False,
                as_process=False,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
                env=self._env,
            )
        finally:
            if istream is not None:
                istream.close()
        stderr_text = redact(
            stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr,
            self.settings.token_file,
        )
        result = GitResult(status, stdout, stderr_text)
        if check and status != 0:
            raise GitSyncError(f"git {args[0]} failed: {self.summarize(stderr_text)}")
        return result

    def to_file(self, target: Path, *args: str) -> None:
        """Stream the output of ``git <args>`` into ``target`` (blobs of any size, no buffering)."""
        with open(target, "wb") as handle:
            status, _, stderr = self._git.execute(
                ["git", *self._options, *args],
                output_stream=handle,
                with_extended_output=True,
                with_exceptions=False,
                env=self._env,
            )
        if status != 0:
            message = redact(str(stderr), self.settings.token_file)
            raise GitSyncError(f"git {args[0]} failed: {self.summarize(message)}")

    def ok(self, *args: str) -> bool:
        """True if ``git <args>`` exits 0 (for yes/no questions such as ``merge-base``)."""
        return self(*args, check=False).status == 0

    @staticmethod
    def summarize(stderr: str) -> str:
        """The telling lines of git's stderr, bounded in length."""
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        interesting = [line for line in lines if line.startswith(("fatal:", "error:"))] or lines
        return " ".join(interesting)[:500] or "no error output"
