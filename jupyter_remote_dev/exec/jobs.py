"""The commands of one server: start (within a limit), list, reattach, stop, stop all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone

from ..errors import ConflictError, NotFoundError, RemoteDevError
from .request import ExecRequest
from .runner import Job, Reader


class TooManyJobsError(RemoteDevError):
    status = 429


class JobRegistry:
    """The commands of one server: start, find, stop, and stop them all at shutdown."""

    def __init__(
        self,
        *,
        max_running: int,
        output_buffer: int,
        kill_grace: float,
        retention: float,
        activity_interval: float,
        on_activity: Callable[[], None] = lambda: None,
    ):
        self.max_running = max_running
        self.output_buffer = output_buffer
        self.kill_grace = kill_grace
        self.retention = retention
        self.activity_interval = activity_interval
        self.on_activity = on_activity
        self._jobs: dict[str, Job] = {}
        self._activity: asyncio.Task | None = None

    def running(self) -> list[Job]:
        return [job for job in self._jobs.values() if job.running]

    async def start(self, request: ExecRequest) -> tuple[Job, Reader]:
        """Start ``request`` as a new job, or refuse with 429 when enough are running."""
        self._forget_finished()
        if len(self.running()) >= self.max_running:
            raise TooManyJobsError(
                f"{self.max_running} commands are already running (max_concurrent_exec); "
                "wait for one to finish or stop one with DELETE exec/<id>"
            )
        job = Job(request, output_buffer=self.output_buffer, kill_grace=self.kill_grace)
        reader = await job.start()
        self._jobs[job.id] = job
        self.on_activity()
        if self._activity is None or self._activity.done():
            self._activity = asyncio.create_task(self._keep_active())
        return job, reader

    def list(self) -> list[Job]:
        self._forget_finished()
        return list(self._jobs.values())

    def get(self, job_id: str) -> Job:
        self._forget_finished()
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no command with id {job_id!r} (finished and collected, or never)")
        return job

    def reattach(self, job_id: str, after: int) -> Reader:
        """Attach a new reader to a detachable job (the previous reader, if any, ends)."""
        job = self.get(job_id)
        if not job.request.detachable:
            raise ConflictError(
                f'command {job_id} was started without "detachable": true; only its own '
                "request streams it, and it stops when that client disconnects"
            )
        return job.attach(after)

    async def stop(self, job_id: str) -> Job:
        """Stop a job (SIGTERM, SIGKILL after the grace period), wait for it, and forget it."""
        job = self.get(job_id)
        job.terminate("stop")
        await job.finished.wait()
        self._jobs.pop(job_id, None)
        return job

    async def shutdown(self) -> None:
        """Stop every running command (server shutdown) and wait until they are gone."""
        jobs = self.running()
        for job in jobs:
            job.terminate("shutdown")
        if jobs:
            await asyncio.gather(*(job.finished.wait() for job in jobs))
        if self._activity:
            self._activity.cancel()

    def _forget_finished(self) -> None:
        """Drop finished jobs whose exit was delivered, or that nobody collected in time."""
        now = datetime.now(timezone.utc)
        for job_id, job in list(self._jobs.items()):
            if job.running or job.attached:
                continue
            expired = (now - job.finished_at).total_seconds() > self.retention
            if job.exit_delivered or not job.request.detachable or expired:
                del self._jobs[job_id]
        kept = [job for job in self._jobs.values() if not job.running]
        kept.sort(key=lambda job: job.finished_at)
        for job in kept[: max(0, len(kept) - self.max_running)]:  # bound what waits uncollected
            del self._jobs[job.id]

    async def _keep_active(self) -> None:
        """Mark the server active while commands run, so an idle culler leaves it alone."""
        while self.running():
            self.on_activity()
            await asyncio.sleep(self.activity_interval)
        self.on_activity()
