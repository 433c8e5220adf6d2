"""The drive through a real JupyterHub and its configurable-http-proxy, with hub tokens:
litmus passes whole, another user's token is refused with nothing done, and a refusal sent
before the body is read leaves the proxy's connection usable."""

from __future__ import annotations

import shutil

import httpx
import pytest

from ..support.local_hub_support import local_hub
from .dav_support import assert_all_groups_pass, run_litmus

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not shutil.which("configurable-http-proxy"),
        reason="configurable-http-proxy is not installed (.ci/install-hub installs it)",
    ),
    pytest.mark.skipif(not shutil.which("litmus"), reason="litmus is not installed"),
]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with local_hub(tmp_path_factory.mktemp("dav-hub"), ray=False) as running:
        for name in ("alice", "bob"):
            running.admin.post(f"users/{name}").raise_for_status()
        running.start_server("alice")
        yield running


@pytest.fixture(scope="module")
def alice(hub):
    home = hub.state / "home" / "alice"
    return {"dav": f"{hub.url}user/alice/remote-dev/dav/", "token": hub.user_token("alice"),
            "home": home}  # fmt: skip


def test_litmus_passes_through_the_hub_with_a_hub_token(alice, tmp_path):
    assert_all_groups_pass(run_litmus(alice["dav"], alice["token"], tmp_path))


@pytest.mark.parametrize("scheme", ["basic", "token", "bearer"])
def test_another_users_token_is_refused_with_nothing_done(hub, alice, scheme):
    bob = hub.user_token("bob")
    auth, headers = (
        (("bob", bob), {}) if scheme == "basic" else (None, {"Authorization": f"{scheme} {bob}"})
    )
    with httpx.Client(auth=auth, headers=headers, timeout=60) as client:
        put = client.put(alice["dav"] + f"from-bob-{scheme}.txt", content=b"bob was here")
        assert put.status_code in (401, 403), put.text
        listing = client.request("PROPFIND", alice["dav"], headers={"Depth": "1"})
        assert listing.status_code in (401, 403) and "multistatus" not in listing.text
    assert not (alice["home"] / f"from-bob-{scheme}.txt").exists()


def test_refusal_before_the_body_keeps_the_proxys_connection_usable(hub, alice):
    """A big PUT refused up front (wrong token), then good requests on the same client: the
    refusal said ``Connection: close``, so the proxy never reuses the dead connection (no 503)."""
    with httpx.Client(timeout=60) as client:
        for _ in range(3):
            refused = client.put(
                alice["dav"] + "refused.bin", content=b"x" * 8_000_000,
                auth=("alice", "not-a-token"),
            )  # fmt: skip
            assert refused.status_code == 401, refused.text
            good = client.put(
                alice["dav"] + "after.txt", content=b"fine", auth=("alice", alice["token"])
            )
            assert good.status_code in (201, 204), good.text
    assert not (alice["home"] / "refused.bin").exists()
    assert (alice["home"] / "after.txt").read_bytes() == b"fine"
