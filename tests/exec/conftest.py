"""Fixtures of the exec tests: fast kill and heartbeat, the event schema, a streaming client."""

import httpx
import jsonschema
import pytest

from jupyter_remote_dev.api.handlers import load_openapi


@pytest.fixture
def remote_dev_config():
    return {"exec_kill_grace": 0.5, "exec_heartbeat_interval": 0.3}


@pytest.fixture
def event_validator():
    """Validates one ndjson event against components/schemas/ExecEvent of openapi.yaml."""
    schema = {**load_openapi(), "$ref": "#/components/schemas/ExecEvent"}
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def api(http_server, jp_http_port, jp_base_url, jp_auth_header, jp_asyncio_loop):
    """An httpx client on the server's remote-dev API (streams, unlike jp_fetch)."""
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}remote-dev/api/"
    client = httpx.AsyncClient(base_url=base, headers=jp_auth_header, timeout=30)
    yield client
    jp_asyncio_loop.run_until_complete(client.aclose())
