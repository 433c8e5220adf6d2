"""A loopback stand-in for the Kubecost and OpenCost allocation APIs (contracts.md section 1).

It serves contracts.md examples A and B (copied verbatim into tests/data), with their days moved so
the last set is today (UTC), keyed the way the request's ``aggregate=label:<k>`` asks (bare value or
the older ``<k>=value`` form), honouring or ignoring the v2 ``filter=`` like the versions that do,
and it can answer each error shape of section 1.9. It runs in a thread, so tests of every kind (and
a ``jupyter lab`` subprocess) can use it, and counts the calls it gets.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).parent / "data"
FILTER = re.compile(r'^label\[([^\]]+)\]:"([^"]*)"$')

#: What ``mode`` makes the stand-in answer.
MODES = (
    "ok",  # the example's daily sets
    "nulls",  # alice's numbers partly null (NaN/Inf in Go) plus unknown fields
    "empty",  # no matching allocations: data [{}]
    "plain400",  # Invalid 'window' as text/plain, with the stray JSON older OpenCost appends
    "json500",  # WriteError: {"code":500,"status":"","data":null,"message":"Error: ..."} HTTP 500
    "code200",  # WrapData with an error: {"code":500,"status":"error",...} in an HTTP 200
    "filter400",  # a version that refuses the v2 filter (400 text); fine without it
    "not_json",  # an HTML page (e.g. an SSO proxy's login) with HTTP 200
    "slow",  # answers after ``delay`` seconds (for timeouts and single-flight)
)


def sanitize(name: str) -> str:
    """Prometheus label-name sanitising, as the backends do it."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def load_example(name: str) -> dict:
    """Example ``a`` (one accumulated set) or ``b`` (two daily sets) from contracts.md."""
    return json.loads((DATA / f"cost_example_{name}.json").read_text())


def _shift_dates(value, days: int):
    """``value`` with every RFC3339 timestamp moved by ``days`` days."""
    if isinstance(value, dict):
        return {k: _shift_dates(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_dates(v, days) for v in value]
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT", value):
        moved = datetime.fromisoformat(value.replace("Z", "+00:00")) + timedelta(days=days)
        return moved.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def rebased_sets(example: str, today: date) -> list[dict]:
    """The example's sets, moved so that its last day is ``today``."""
    sets = copy.deepcopy(load_example(example)["data"])
    last = max(
        datetime.fromisoformat(item["window"]["start"].replace("Z", "+00:00")).date()
        for allocation_set in sets
        for item in allocation_set.values()
    )
    return _shift_dates(sets, (today - last).days)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that gave up (our timeout tests) is expected; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class CostStandIn:
    """A Kubecost (``/model/allocation``) or OpenCost (``/allocation``) stand-in on 127.0.0.1."""

    def __init__(self, dialect: str = "opencost", example: str = "b"):
        self.dialect = dialect
        self.example = example
        self.mode = "ok"
        self.key_form = "bare"  # or "prefixed": label=value keys of older versions
        self.honours_filter = True
        self.honours_idle = True  # False: __idle__ is in every set whatever the idle switch says
        self.delay = 0.0
        self.requests: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to configure as cost_url (Kubecost's includes /model)."""
        assert self._server is not None
        root = f"http://127.0.0.1:{self.port}"
        return root + ("/model" if self.dialect == "kubecost" else "")

    @property
    def calls(self) -> int:
        """How many allocation requests arrived."""
        with self._lock:
            return len(self.requests)

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def start(self, port: int = 0) -> CostStandIn:
        """Listen on 127.0.0.1 (a free port, or ``port`` to come back where it was)."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                standin._answer(self)

            def log_message(self, *args):
                pass

        self._server = _QuietServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: later requests are refused (connection refused)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    # ----- answers -----
    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.requests.append(params)
        expected = "/model/allocation" if self.dialect == "kubecost" else "/allocation"
        if url.path != expected:
            return self._send(request, 404, "404 page not found\n", "text/plain")
        if self.delay:
            time.sleep(self.delay)
        mode = self.mode
        if mode == "plain400":
            body = f"Invalid 'window' parameter: illegal window: {params.get('window')}\n"
            return self._send(request, 400, body + '{"code":200,"data":[]}', "text/plain")
        if mode == "json500":
            payload = {"code": 500, "status": "", "data": None, "message": "Error: prom down"}
            return self._send(request, 500, json.dumps(payload))
        if mode == "code200":
            payload = {"code": 500, "status": "error", "message": "ETL not ready", "data": None}
            return self._send(request, 200, json.dumps(payload))
        if mode == "filter400" and "filter" in params:
            body = "Invalid 'filter' parameter: unknown filter field\n"
            return self._send(request, 400, body, "text/plain")
        if mode == "not_json":
            return self._send(request, 200, "<html>Sign in</html>", "text/html")
        payload = {"code": 200, "status": "success", "data": self._sets(params)}
        if self.dialect == "kubecost":
            del payload["status"]  # Kubecost's samples omit it
        self._send(request, 200, json.dumps(payload))

    def _sets(self, params: dict[str, str]) -> list[dict]:
        if self.mode == "empty":
            return [{}]
        today = datetime.now(timezone.utc).date()
        sets = rebased_sets(self.example, today)
        label = sanitize(params.get("aggregate", "").removeprefix("label:"))
        wanted = None
        match = FILTER.match(params.get("filter", ""))
        if match and self.honours_filter:
            wanted = match.group(2)
        idle_param = "idle" if self.dialect == "kubecost" else "includeIdle"
        idle_default = "true" if self.dialect == "kubecost" else "false"
        with_idle = params.get(idle_param, idle_default) == "true" or not self.honours_idle
        answered = []
        for allocation_set in sets:
            keyed = {}
            for key, item in allocation_set.items():
                if key == "__idle__" and not with_idle:
                    continue
                if wanted is not None and key != wanted and key != "__idle__":
                    continue
                if self.mode == "nulls" and key == "alice":
                    item = self._with_nulls(item)
                special = key.startswith("__")
                keyed[key if special or self.key_form == "bare" else f"{label}={key}"] = item
            answered.append(keyed)
        return answered

    @staticmethod
    def _with_nulls(item: dict) -> dict:
        item = dict(item, gpuCost=None, cpuCostAdjustment=None, totalCost=None)
        item["futureField"] = {"nested": [1, 2, 3]}
        item["rawAllocationOnly"] = None
        return item

    @staticmethod
    def _send(request, status: int, body: str, content_type: str = "application/json") -> None:
        data = body.encode()
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
