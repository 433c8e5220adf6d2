"""How each service's ``configure(c, ...)`` adds to a JupyterHub config, keeping what it holds.

A list setting may be unset, a list, or a lazy value (``c.JupyterHub.services.append(...)``):
each is extended, never replaced.
"""

from __future__ import annotations

from traitlets.config.loader import LazyConfigValue

SERVER_ROLE_SCOPES = ["users:activity!user", "access:servers!server"]
"""JupyterHub's ``server`` role: what a server's own token holds unless configured otherwise."""


def _items(value) -> list:
    """The items a list setting holds so far (a lazy value's without resolving it: it would
    keep that answer and ignore later additions)."""
    if not isinstance(value, LazyConfigValue):
        return value
    held = value.to_dict()
    inserted = [item for _, item in held.get("inserts", [])]
    return [*held.get("prepend", []), *inserted, *held.get("extend", [])]


def extend(c, name: str, items: list) -> None:
    """Append ``items`` to the list setting ``c.JupyterHub.<name>``."""
    getattr(c.JupyterHub, name).extend(items)


def add_custom_scope(c, scope: str, description: str) -> None:
    """Define ``scope`` in ``c.JupyterHub.custom_scopes``, keeping the others."""
    custom = dict(c.JupyterHub.custom_scopes) if "custom_scopes" in c.JupyterHub else {}
    custom[scope] = {"description": description}
    c.JupyterHub.custom_scopes = custom


def grant_users(c, scopes: list[str]) -> None:
    """Add ``scopes`` to the ``user`` role (every user's tokens), made from JupyterHub's
    default (``self``) when the config has none yet."""
    for role in _items(c.JupyterHub.load_roles):
        if role.get("name") == "user":
            role["scopes"] = [*role.get("scopes", []), *scopes]
            return
    extend(c, "load_roles", [{"name": "user", "scopes": ["self", *scopes]}])


def grant_servers(c, scopes: list[str]) -> None:
    """Add ``scopes`` to the user servers' own tokens (``c.Spawner.server_token_scopes``,
    JupyterHub's ``server`` role when unset)."""
    held = c.Spawner.server_token_scopes if "server_token_scopes" in c.Spawner else None
    c.Spawner.server_token_scopes = [*(held or SERVER_ROLE_SCOPES), *scopes]
