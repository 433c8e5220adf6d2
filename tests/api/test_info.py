"""GET info and GET openapi.json on a real server."""

import json

import pytest
from traitlets import TraitError
from traitlets.config import Config

from jupyter_remote_dev.extension import RemoteDevExtension

from ..support.openapi_check import assert_response_matches

POSITIVE_TRAITS = [
    "max_upload_size", "max_concurrent_exec", "exec_heartbeat_interval", "exec_kill_grace",
    "exec_output_buffer", "exec_retention", "cost_request_timeout", "cost_cache_ttl",
    "ray_timeout", "ray_request_timeout", "ray_log_poll_interval", "ray_log_follow_timeout",
    "ray_max_working_dir_size", "git_max_file_size",
]  # fmt: skip


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


@pytest.mark.parametrize("trait", POSITIVE_TRAITS)
def test_extension_config_refuses_non_positive_limits(trait):
    """c.RemoteDevExtension.<limit> = 0 fails naming the trait; a positive value is taken."""
    config = Config()
    config.RemoteDevExtension[trait] = 0
    with pytest.raises(TraitError, match=trait):
        RemoteDevExtension(config=config)
    config.RemoteDevExtension[trait] = 3
    assert getattr(RemoteDevExtension(config=config), trait) == 3
