"""Every remote-dev endpoint is authenticated and authorized the Jupyter way."""

import warnings

import pytest
from jupyter_server.utils import JupyterServerAuthWarning
from tornado.httpclient import HTTPClientError

from jupyter_remote_dev.extension import RemoteDevExtension


def our_routes():
    """(pattern, handler, verbs) for every route the extension registers."""
    app = RemoteDevExtension()
    app.initialize_handlers()
    verbs = ("get", "put", "post", "delete", "patch", "head")
    return [(rule[0], rule[1], [v for v in verbs if v in vars(rule[1])]) for rule in app.handlers]


def test_no_handler_is_undecorated(jp_configurable_serverapp):
    """Starting with allow_unauthenticated_access=False raises no JupyterServerAuthWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jp_configurable_serverapp(
            allow_unauthenticated_access=False,
            jpserver_extensions={"jupyter_remote_dev": True},
        )
    auth_warnings = [w for w in caught if issubclass(w.category, JupyterServerAuthWarning)]
    assert [str(w.message) for w in auth_warnings if "remote-dev" in str(w.message)] == []
    assert len(our_routes()) >= 2


def test_every_verb_has_an_auth_resource():
    """Each handler names its authorization resource, prefixed like an extension's should be."""
    core = {"contents", "terminals"}
    for pattern, handler, verbs in our_routes():
        assert verbs, pattern
        resource = handler.auth_resource
        assert resource in core or resource.startswith("remote_dev:"), (pattern, resource)


def _concrete(pattern: str) -> str:
    """A request path matching a route regex (groups filled with a harmless name)."""
    import re

    return re.sub(r"\([^)]*\)", "x", pattern).replace("\\", "").lstrip("/")


@pytest.mark.parametrize("token_header", ["", "token wrong-token"])
async def test_no_or_wrong_token_is_refused_everywhere(jp_fetch, token_header):
    """Without a valid token every route and verb answers 403 and does nothing."""
    checked = 0
    for pattern, _handler, verbs in our_routes():
        for verb in verbs:
            body = b"" if verb in ("put", "post", "patch") else None
            with pytest.raises(HTTPClientError) as failure:
                await jp_fetch(
                    *_concrete(pattern).split("/"),
                    method=verb.upper(),
                    body=body,
                    headers={"Authorization": token_header},
                    allow_nonstandard_methods=True,
                )
            assert failure.value.code == 403, (verb, pattern)
            checked += 1
    assert checked >= 2
