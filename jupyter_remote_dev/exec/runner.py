"""Command execution for POST exec: process groups, streamed output, timeouts and cancellation.

No tornado here. A :class:`Job` runs one command in its own session and process group and turns
its output into events (plain dicts, one ndjson line each for the handler). A :class:`Reader` is
one client's view of those events; :class:`~jupyter_remote_dev.exec.jobs.JobRegistry` holds
the jobs of one server.

Memory is bounded per job: output waits in a ring buffer of ``output_buffer`` bytes. While a
client reads, a full buffer pauses reading from the pipes, so a slow client slows the command
(the kernel pipe fills and the command blocks on write), never the server's memory. While no
client reads (a detached job), the oldest output is dropped instead, so the command keeps going;
a client that reattaches is told how many output events it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import signal
import subprocess
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone

from ..errors import RemoteDevError
from .output import OutputEncoder
from .request import ExecRequest
from .stdin import StdinPump

log = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024
"""Most bytes one stdout/stderr event carries (asyncio reads pipes in pieces of this size)."""
PIPE_SIZE = 1024 * 1024
"""Kernel pipe capacity asked for (Linux; the default 64 KiB costs throughput)."""
ENTRY_COST = 256
"""Bytes an event is counted for beyond its output, so many tiny events stay bounded too."""
_POLL = 0.02


class CannotRunError(RemoteDevError):
    """The program could not be started; ``reason`` tells a client which shell exit code fits:
    "command not found" (127) or "not executable" (126)."""

    def __init__(self, program: str, error: OSError | ValueError):
        detail = getattr(error, "strerror", None) or str(error)  # ValueError: NUL, lone surrogate
        super().__init__(f"cannot run {program!r}: {detail}")
        missing = getattr(error, "errno", None) in (errno.ENOENT, errno.ENOTDIR)
        self.reason = "command not found" if missing else "not executable"


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group ``pgid``, read from /proc."""
    if not os.path.isdir("/proc/self"):  # not Linux: ask the kernel whether any member exists
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            members.append(int(entry.name))
    return members


def _open_pipes(count: int) -> list[tuple[int, int]]:
    """``count`` (read, write) pipes; none stays open if opening one fails (EMFILE)."""
    pipes: list[tuple[int, int]] = []
    try:
        for _ in range(count):
            pipes.append(os.pipe2(os.O_CLOEXEC))
            with contextlib.suppress(OSError, AttributeError):  # a bigger pipe: fewer wakeups
                fcntl.fcntl(pipes[-1][1], fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except BaseException:
        for pipe in pipes:
            for fd in pipe:
                os.close(fd)
        raise
    return pipes


@dataclass
class _Entry:
    seq: int
    event: dict
    cost: int
    end: int  # total cost logged up to and including this entry


class Job:
    """One running (or finished) command and its buffered events."""

    def __init__(self, request: ExecRequest, *, output_buffer: int, kill_grace: float):
        self.id = uuid.uuid4().hex[:16]
        self.request = request
        self.output_buffer = output_buffer
        self.kill_grace = kill_grace
        self.process: asyncio.subprocess.Process | None = None
        self.started_at = datetime.now(timezone.utc)
        self.returncode: int | None = None
        self.stopped_by: str | None = None
        self.finished = asyncio.Event()
        self.exit_delivered = False
        self.finished_at: datetime | None = None
        self._log: deque[_Entry] = deque()
        self._seq = 0
        self._logged = 0  # total cost of every event logged so far
        self._retained = 0  # cost of the events still in the ring buffer
        self._space = asyncio.Event()  # the reader moved on, or left: pumps may read again
        self._reader: Reader | None = None
        self._killer: asyncio.Task | None = None
        self._supervisor: asyncio.Task | None = None
        self._tasks: list[asyncio.Task] = []
        self._transports: list[asyncio.BaseTransport] = []
        self.bytes_read = 0
        self._waiting_for_space = 0
        self.stdin: StdinPump | None = None

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    @property
    def attached(self) -> bool:
        return self._reader is not None

    async def start(self) -> Reader:
        """Spawn the command; the returned reader is attached before any output is read."""
        request = self.request
        pipes = _open_pipes(2)
        try:
            self.process = await asyncio.create_subprocess_exec(
                *request.argv,
                cwd=request.cwd,
                env={**os.environ, **request.env},
                stdin=subprocess.PIPE
                if request.stdin is not None or request.stdin_stream
                else subprocess.DEVNULL,
                stdout=pipes[0][1],
                stderr=pipes[1][1],
                start_new_session=True,
            )
        except BaseException as error:  # every descriptor goes, whatever failed (issue 12)
            for read_fd, _ in pipes:
                os.close(read_fd)
            if not isinstance(error, (OSError, ValueError)):
                raise
            raise CannotRunError(request.argv[0], error) from error
        finally:
            for _, write_fd in pipes:
                os.close(write_fd)
        self.stdin = StdinPump(
            self.id, self.process.stdin, request.stdin_stream, lambda: self.running
        )
        reader = self.attach(after=0)
        loop = asyncio.get_running_loop()
        streams = []
        for name, (read_fd, _) in zip(("stdout", "stderr"), pipes, strict=True):
            stream = asyncio.StreamReader(limit=CHUNK_SIZE)
            transport, _ = await loop.connect_read_pipe(
                lambda s=stream: asyncio.StreamReaderProtocol(s), os.fdopen(read_fd, "rb", 0)
            )
            self._transports.append(transport)
            streams.append(self._pump(name, stream))
        self._tasks = [asyncio.create_task(pump) for pump in streams]
        if request.stdin is not None:
            self._tasks.append(asyncio.create_task(self.stdin.feed(request.stdin)))
        self._supervisor = asyncio.create_task(self._supervise())
        return reader

    # ----- readers -----
    def attach(self, after: int = 0) -> Reader:
        """A new reader of the events after sequence number ``after``; the previous one ends."""
        if self._reader is not None:
            self._reader.close()
        self._reader = Reader(self, min(max(after, 0), self._seq))
        return self._reader

    def _detach(self, reader: Reader) -> None:
        if self._reader is reader:
            self._reader = None
            self._evict()
            self._space.set()

    def _entry_after(self, seq: int) -> _Entry | None:
        if not self._log or seq >= self._log[-1].seq:
            return None
        return self._log[max(0, seq + 1 - self._log[0].seq)]

    def _logged_until(self, seq: int) -> int:
        """Total cost logged up to event ``seq`` (as far as the ring buffer still knows)."""
        if not self._log or seq >= self._log[-1].seq:
            return self._logged
        first = self._log[0]
        if seq < first.seq:
            return first.end - first.cost
        return self._log[seq - first.seq].end

    def _unread(self) -> int:
        reader = self._reader
        return 0 if reader is None else self._logged - reader.delivered

    # ----- output -----
    def _record(self, event: dict, size: int = 0) -> None:
        self._seq += 1
        event["seq"] = self._seq
        cost = size + ENTRY_COST
        self._logged += cost
        self._log.append(_Entry(self._seq, event, cost, self._logged))
        self._retained += cost
        self._evict()
        if self._reader is not None:
            self._reader.wakeup.set()

    def _evict(self) -> None:
        """Drop the oldest output over the buffer size, never what the reader has yet to see."""
        cursor = self._reader.cursor if self._reader else self._seq
        while self._retained > self.output_buffer and self._log and self._log[0].seq <= cursor:
            self._retained -= self._log.popleft().cost

    async def _pump(self, name: str, stream: asyncio.StreamReader) -> None:
        encoder = OutputEncoder()
        while True:
            while self._unread() >= self.output_buffer:
                self._waiting_for_space += 1
                self._space.clear()
                try:
                    await self._space.wait()
                finally:
                    self._waiting_for_space -= 1
            chunk = await stream.read(CHUNK_SIZE)
            self.bytes_read += len(chunk)
            encoded = encoder.encode(chunk, final=not chunk)
            if encoded:
                fields, size = encoded
                self._record({"type": name, **fields}, size)
            if not chunk:
                return

    async def write_stdin(self, data: bytes, eof: bool) -> bool:
        """The next piece of a ``stdin_stream`` command's input (see :class:`.StdinPump`)."""
        return await self.stdin.write(data, eof)

    # ----- lifecycle -----
    async def _supervise(self) -> None:
        timer = None
        if self.request.timeout:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(self.request.timeout, self._on_timeout)
        try:
            self.returncode = await self.process.wait()
            if group_members(self.pid):  # leftovers in its group go with the command
                self.terminate(None)
            await self._wait_for_output()
            if self._killer:
                await self._killer
        finally:
            if timer:
                timer.cancel()
            for task in self._tasks:
                task.cancel()
            for transport in self._transports:
                transport.close()
            self.stdin.close()
            self._record(self.exit_event())
            self.finished_at = datetime.now(timezone.utc)
            self.finished.set()

    async def _wait_for_output(self) -> None:
        """Read the pipes to their end, unless a process that left the group keeps them open."""
        pumps = self._tasks[:2]
        while True:
            before = self.bytes_read
            _, pending = await asyncio.wait(pumps, timeout=max(self.kill_grace, 0.5))
            if not pending:
                return
            if self.bytes_read == before and not self._waiting_for_space:
                log.warning("exec %s: output pipes held open by an escaped process", self.id)
                return

    def _on_timeout(self) -> None:
        if self.returncode is None and self.stopped_by is None:
            self._record({"type": "timeout", "timeout": self.request.timeout})
            self.terminate("timeout")

    def terminate(self, cause: str | None) -> None:
        """SIGTERM the whole process group, then SIGKILL whatever outlives the grace period."""
        if not self.running or self.process is None:
            return  # its group is gone; the id may belong to someone else by now
        if self.stopped_by is None:
            self.stopped_by = cause
        if self._killer is None:
            self._killer = asyncio.create_task(self._kill_group())

    async def _kill_group(self) -> None:
        pgid = self.pid
        for sig in (signal.SIGTERM, signal.SIGCONT):  # a stopped process must wake to die
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
        deadline = time.monotonic() + self.kill_grace
        while group_members(pgid) and time.monotonic() < deadline:
            await asyncio.sleep(_POLL)
        if group_members(pgid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)

    def exit_event(self) -> dict:
        """The final event: the exit code, or the signal that ended the command."""
        code = self.returncode if self.returncode is not None else -signal.SIGKILL
        event: dict = {"type": "exit"}
        if code >= 0:
            event["code"] = code
        else:
            event.update(signal=-code, signal_name=signal.Signals(-code).name)
        if self.stopped_by:
            event["stopped_by"] = self.stopped_by
        return event

    def summary(self) -> dict:
        """What GET exec lists about this job."""
        request = self.request
        return {
            "id": self.id,
            "argv": request.original_argv,
            "shell": request.shell,
            "cwd": request.cwd_display,
            "pid": self.pid,
            "started_at": self.started_at.isoformat(),
            "detachable": request.detachable,
            "attached": self.attached,
            "running": self.running,
            "exit": None if self.running else self.exit_event(),
        }


class Reader:
    """One client's stream of a job's events: output, timeout and exit, plus heartbeats."""

    def __init__(self, job: Job, after: int):
        self.job = job
        self.cursor = after
        self.delivered = job._logged_until(after)
        self.closed = False
        self.wakeup = asyncio.Event()  # set when an event is logged for it, or it is closed

    def close(self) -> None:
        """Stop this reader (its client left, or another client took over)."""
        self.closed = True
        self.wakeup.set()
        self.job._detach(self)

    async def events(self, heartbeat: float) -> AsyncIterator[dict]:
        """Events after the cursor as they come; a heartbeat after ``heartbeat`` s of silence."""
        job = self.job
        while not self.closed:
            entry = job._entry_after(self.cursor)
            if entry is None:
                self.wakeup.clear()  # only this reader clears it, so no wakeup is lost
                try:
                    await asyncio.wait_for(self.wakeup.wait(), heartbeat)
                except asyncio.TimeoutError:
                    yield {"type": "heartbeat"}
                continue
            if entry.seq > self.cursor + 1:
                yield {"type": "dropped", "events": entry.seq - self.cursor - 1}
            yield entry.event
            self.cursor, self.delivered = entry.seq, entry.end
            job._evict()
            job._space.set()
            if entry.event["type"] == "exit":
                job.exit_delivered = True
                return
