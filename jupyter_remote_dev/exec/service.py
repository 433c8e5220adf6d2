"""The exec area's owner: its settings and the server's job registry."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import RemoteDevError
from .jobs import JobRegistry


@dataclass
class ExecService:
    """One per server: whether commands may run, how, and the jobs running (built by
    :meth:`.settings.ExecSettings.make_exec_service`)."""

    root: str
    allow_exec: bool
    shell: list[str]
    max_timeout: float
    heartbeat_interval: float
    jobs: JobRegistry

    def check_allowed(self) -> None:
        """403 when running commands is turned off."""
        if not self.allow_exec:
            raise RemoteDevError(
                "running commands is turned off on this server "
                "(RemoteDevExtension.allow_exec = False)",
                status=403,
            )

    def start(self) -> None:
        """Nothing runs until a command is started."""

    async def stop(self) -> None:
        """Stop every running command (SIGTERM, SIGKILL after the grace)."""
        await self.jobs.shutdown()
