"""A loopback OpenCost stand-in answering multi-aggregated allocations per ISO week.

``aggregate=label:hub.jupyter.org/username,label:team`` keys are ``<user>/<team>`` with
``__unallocated__`` for a missing label, and one ``__idle__`` only when asked with
``includeIdle=true`` (OpenCost's default is false; contracts.md 1.2, 1.4, 1.7); the window must be
an RFC3339 pair (1.3). Every user's item carries the request and usage averages (1.6): 2 CPUs and
4 GiB requested, used at its ``totalEfficiency``; ``__idle__`` requests nothing. The week that
ends at the start of ``this_week`` gets ``CURRENT``, the week before it ``PREVIOUS``, any other
week nothing: the figures a test can check exactly.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

#: key -> (totalCost, cpuCost, ramCost, totalEfficiency)
CURRENT = {
    "alice/team-a": (10.0, 6.0, 3.0, 0.5),
    "bob/team-a": (4.0, 2.5, 1.5, 0.01),
    "dave/team-b": (6.0, 4.0, 2.0, 0.3),
    "__unallocated__/__unallocated__": (1.0, 0.5, 0.5, 0.2),
    "__idle__": (20.0, 12.0, 8.0, 0.0),
}
PREVIOUS = {
    "alice/team-a": (8.0, 5.0, 3.0, 0.4),
    "dave/team-b": (6.0, 4.0, 2.0, 0.3),
    "__idle__": (18.0, 10.0, 8.0, 0.0),
}
EXPECTED_LABELS = "label:hub_jupyter_org_username,label:team"
GIB = 1024**3
#: What Go's strconv.ParseBool reads as true (OpenCost's boolean query parameters).
GO_TRUE = {"1", "t", "T", "true", "TRUE", "True"}


def allocation(key: str, window: dict, figures: tuple[float, float, float, float]) -> dict:
    total, cpu, ram, efficiency = figures
    request = (0, 0) if "__idle__" in key else (2, 4 * GIB)
    return {
        "name": key,
        "window": window,
        "start": window["start"],
        "end": window["end"],
        "cpuCost": cpu,
        "ramCost": ram,
        "gpuCost": 0,
        "pvCost": total - cpu - ram,
        "totalCost": total,
        "totalEfficiency": efficiency,
        "cpuCoreRequestAverage": request[0],
        "cpuCoreUsageAverage": request[0] * efficiency,
        "ramByteRequestAverage": request[1],
        "ramByteUsageAverage": request[1] * efficiency,
    }


class TeamCostStandIn:
    """OpenCost's ``/allocation`` on 127.0.0.1 with :data:`CURRENT` and :data:`PREVIOUS`."""

    def __init__(self, current_week_start: datetime, previous_week_start: datetime):
        self.weeks = {current_week_start: CURRENT, previous_week_start: PREVIOUS}
        self.requests: list[dict[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> TeamCostStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                standin._answer(self)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.requests.append(params)
        status, payload = 200, {"code": 200, "status": "success", "data": []}
        try:
            start_text, end_text = params["window"].split(",")
            start = datetime.fromisoformat(start_text.replace("Z", "+00:00"))
        except (KeyError, ValueError):
            status = 400
            payload = {"code": 400, "status": "", "data": None, "message": "bad request: window"}
        else:
            if params.get("aggregate") != EXPECTED_LABELS:
                status = 400
                payload = {"code": 400, "data": None, "message": "bad request: aggregate"}
            else:
                window = {"start": start_text, "end": end_text}
                figures = self.weeks.get(start, {})
                if params.get("includeIdle", "false") not in GO_TRUE:
                    figures = {k: v for k, v in figures.items() if "__idle__" not in k}
                payload["data"] = [{k: allocation(k, window, v) for k, v in figures.items()}]
        body = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
