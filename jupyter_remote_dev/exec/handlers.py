"""POST exec (run a command, stream ndjson events), GET exec (list), GET/DELETE exec/<id>.

The protocol (events, reattach, what a disconnect does) is documented in openapi.yaml.
"""

from __future__ import annotations

import json
from contextlib import aclosing

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ..base.handlers import RemoteDevHandler, api_path
from ..errors import RemoteDevError
from .request import parse_exec_request
from .runner import Job, Reader

AUTH_RESOURCE = "terminals"  # exec grants what a terminal grants; an authorizer's rule binds both


def encode_event(event: dict) -> bytes:
    """One ndjson line."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


class _ExecHandler(RemoteDevHandler):
    auth_resource = AUTH_RESOURCE
    _reader: Reader | None = None

    def _check_allowed(self) -> None:
        self.exec_service.check_allowed()

    async def _stream(self, job: Job, reader: Reader) -> None:
        """Write the job's events as ndjson until its exit, or until the client goes."""
        self._reader = reader
        self.set_header("Content-Type", "application/x-ndjson")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # nginx ingress: pass each line on at once
        start = {
            "type": "start",
            "id": job.id,
            "pid": job.pid,
            "detachable": job.request.detachable,
        }
        try:
            self.write(encode_event(start))
            await self.flush()
            heartbeat = self.exec_service.heartbeat_interval
            async with aclosing(reader.events(heartbeat)) as events:
                async for event in events:
                    self.write(encode_event(event))
                    await self.flush()
        except StreamClosedError:
            pass
        finally:
            reader.close()
            if not job.request.detachable:
                job.terminate("disconnect")
        if not self.request.connection.stream.closed():
            self.finish(set_content_type="application/x-ndjson")

    def on_connection_close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        super().on_connection_close()


class ExecHandler(_ExecHandler):
    @web.authenticated
    @authorized
    async def post(self):
        self._check_allowed()
        body = self.get_json_body()
        service = self.exec_service
        request = parse_exec_request(
            body,
            root=service.root,
            shell=service.shell,
            max_timeout=service.max_timeout,
            allow_hidden=self.contents_manager.allow_hidden,
        )
        job, reader = await service.jobs.start(request)
        self.log.info("exec %s started: pid %s in %r", job.id, job.pid, request.cwd_display)
        await self._stream(job, reader)

    @web.authenticated
    @authorized
    def get(self):
        self._check_allowed()
        self.write_json({"jobs": [job.summary() for job in self.exec_service.jobs.list()]})


class ExecJobHandler(_ExecHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id: str):
        self._check_allowed()
        try:
            after = int(self.get_argument("after", "0"))
        except ValueError as error:
            raise RemoteDevError("after must be an event seq number (an integer)") from error
        jobs = self.exec_service.jobs
        reader = jobs.reattach(job_id, after)
        await self._stream(reader.job, reader)

    @web.authenticated
    @authorized
    async def delete(self, job_id: str):
        self._check_allowed()
        job = await self.exec_service.jobs.stop(job_id)
        self.write_json(job.summary())


class ExecStdinHandler(_ExecHandler):
    """POST exec/<id>/stdin: the next piece of a ``stdin_stream`` command's input."""

    @web.authenticated
    @authorized
    async def post(self, job_id: str):
        self._check_allowed()
        if len(self.request.body) > STDIN_PIECE_MAX:
            raise RemoteDevError(
                f"a stdin piece is at most {STDIN_PIECE_MAX} bytes; send more pieces", status=413
            )
        eof = self.get_argument("eof", "0")
        if eof not in ("0", "1"):
            raise RemoteDevError("eof must be 0 or 1")
        job = self.exec_service.jobs.get(job_id)
        accepted = await job.write_stdin(self.request.body, eof == "1")
        self.write_json({"accepted": accepted})


STDIN_PIECE_MAX = 1024 * 1024

default_handlers = [
    (api_path("exec"), ExecHandler),
    (api_path("exec/([^/]+)"), ExecJobHandler),
    (api_path("exec/([^/]+)/stdin"), ExecStdinHandler),
]
