"""A loopback stand-in Ray dashboard (Ray 2.9.3 on Python 3.10) that records every request, and
its fixture, shared by the Ray and the client tests."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class StandInDashboard(BaseHTTPRequestHandler):
    """Answers /api/version, cluster metadata and the Jobs API like an old Ray's dashboard."""

    requests: list = []

    def log_message(self, *args):
        pass

    def _send(self, status, payload):
        body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.requests.append(("GET", self.path))
        if self.path == "/api/version":
            self._send(200, {"version": "4", "ray_version": "2.9.3", "ray_commit": "x"})
        elif self.path == "/api/v0/cluster_metadata":
            self._send(200, {"result": True, "data": {"pythonVersion": "3.10.14"}})
        elif self.path == "/api/jobs/":
            self._send(200, [])
        elif self.path == "/api/jobs/raysubmit_other":
            job = {"submission_id": "raysubmit_other", "status": "RUNNING", "entrypoint": "x"}
            self._send(200, {**job, "metadata": {"jupyter_remote_dev_owner": "someone-else"}})
        elif self.path == "/api/jobs/raysubmit_other/logs":
            self._send(200, {"logs": "epoch 1\n"})
        else:
            self._send(404, b"Job does not exist")

    def do_POST(self):
        self.requests.append((self.command, self.path))
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(200, {"job_id": None, "submission_id": "raysubmit_standin"})

    do_PUT = do_POST


@pytest.fixture
def standin():
    """A stand-in dashboard on 127.0.0.1; its request log is cleared per test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInDashboard)
    StandInDashboard.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()
