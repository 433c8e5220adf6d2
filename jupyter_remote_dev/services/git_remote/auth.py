"""HTTP Basic credentials checked against the hub: the password is a hub API token.

The token is asked to identify itself (``GET /hub/api/user``, through JupyterHub's ``HubAuth``,
which caches answers briefly); it must belong to the user named in the Basic credentials
(whoami-and-compare) and grant access to this service.
"""

from __future__ import annotations

import base64
import binascii

from jupyterhub.services.auth import HubAuth

CACHE_SECONDS = 30  # a revoked token stops working within this long


class AuthError(Exception):
    """Authentication failed: ``status`` 401 (ask again) or 403 (known, but not allowed)."""

    def __init__(self, message: str, status: int = 401):
        super().__init__(message)
        self.message, self.status = message, status


def basic_credentials(header: str | None) -> tuple[str, str]:
    """(user, password) of an ``Authorization: Basic`` header; AuthError if absent or malformed."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise AuthError("log in with your hub user name and a hub API token as the password")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError("malformed Basic credentials") from None
    user, sep, password = decoded.partition(":")
    if not sep or not user or not password:
        raise AuthError("Basic credentials need a user name and a token")
    return user, password


class TokenChecker:
    """Who a hub token belongs to, and whether it may use this service."""

    def __init__(self, service_name: str, hub_auth: HubAuth | None = None):
        self.service_name = service_name
        self.hub_auth = hub_auth or HubAuth(cache_max_age=CACHE_SECONDS)
        self.hub_auth.access_scopes = {f"access:services!service={service_name}"}

    async def user_for(self, header: str | None) -> str:
        """The hub user name the request authenticates as; AuthError otherwise."""
        user, token = basic_credentials(header)
        model = await self.hub_auth.user_for_token(token, sync=False)
        if not model:
            raise AuthError("the hub does not accept this token (wrong, expired or revoked)")
        if model.get("kind", "user") != "user" or model.get("name") != user:
            raise AuthError(f"this token does not belong to user {user!r}", 403)
        if not self.hub_auth.check_scopes(self.hub_auth.access_scopes, model):
            raise AuthError(f"this token gives no access to the {self.service_name} service", 403)
        return user
