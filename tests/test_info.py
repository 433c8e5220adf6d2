"""GET info and GET openapi.json on a real server."""

import json

from .openapi_check import assert_response_matches


async def test_info_reports_version_features_and_limits(jp_fetch, remote_dev):
    """info names the version, the enabled features and the configured limits."""
    response = await jp_fetch("remote-dev", "api", "info")
    body = json.loads(response.body)
    assert body["limits"]["max_upload_size"] == remote_dev.max_upload_size
    assert body["features"]["exec"] is True
    assert_response_matches(response, "GET", "/info")


async def test_openapi_document_is_served_and_describes_itself(jp_fetch):
    """openapi.json is the shipped contract and lists its own path."""
    response = await jp_fetch("remote-dev", "api", "openapi.json")
    spec = json.loads(response.body)
    assert spec["openapi"].startswith("3.")
    assert "/openapi.json" in spec["paths"]
    assert_response_matches(response, "GET", "/openapi.json")
