"""Validate real responses against the shipped openapi.yaml with openapi-core."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from jupyter_remote_dev.api.handlers import load_openapi

HOST = "http://remote-dev.test"


@functools.cache
def _openapi() -> OpenAPI:
    spec = copy.deepcopy(load_openapi())
    spec["servers"] = [{"url": HOST}]
    return OpenAPI.from_dict(spec)


@dataclass
class _Request:
    method: str
    path: str
    query: str = ""
    body: bytes | None = None
    content_type: str = "application/json"
    host_url: str = HOST
    parameters: RequestParameters = field(default_factory=RequestParameters)

    def __post_init__(self):
        pairs = [(k, v) for k, vs in parse_qs(self.query).items() for v in vs]
        self.parameters = RequestParameters(query=ImmutableMultiDict(pairs))


@dataclass
class _Response:
    status_code: int
    data: bytes
    headers: Headers
    content_type: str


def assert_response_matches(
    response,
    method: str,
    api_path: str,
    request_body: bytes | None = None,
    request_content_type: str = "application/json",
) -> None:
    """Raise if a tornado ``HTTPResponse`` to ``method api_path`` breaks the OpenAPI contract.

    ``api_path`` is the path after ``remote-dev/api`` (e.g. ``/files/a.txt?x=1``).
    """
    parts = urlsplit(api_path)
    request = _Request(method.lower(), parts.path, parts.query, request_body, request_content_type)
    headers = Headers(list(response.headers.get_all()))
    content_type = headers.get("Content-Type", "application/json").split(";")[0].strip().lower()
    reply = _Response(response.code, response.body or b"", headers, content_type)
    _openapi().validate_response(request, reply)
