"""Who may see whose spend: the ``custom:remote-dev:spend:read`` scope and its filters.

JupyterHub puts the scopes a user granted this service on the OAuth token. The scope alone lets a
viewer see everyone (admins, the platform team); filtered, it narrows the view the way JupyterHub's
own scopes narrow: ``!group=team-a`` to the members of a group (a team lead), ``!user=bob`` to one
user. Without the scope a viewer sees nothing (403).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SPEND_SCOPE = "custom:remote-dev:spend:read"
SCOPE_DESCRIPTION = "Read the spend of users and teams in the remote-dev spend view."
BUDGET_SCOPE = "custom:remote-dev:budget:read"
BUDGET_SCOPE_DESCRIPTION = "Read your own budget and its status in the remote-dev spend view."


@dataclass(frozen=True)
class Visibility:
    """The users a viewer may see: everyone, or named users and the members of named groups."""

    everyone: bool = False
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()


def visibility(scopes: Iterable[str]) -> Visibility | None:
    """What ``scopes`` let the holder see, or None when they grant no spend view at all."""
    everyone, users, groups, granted = False, set(), set(), False
    for scope in scopes:
        base, _, scope_filter = scope.partition("!")
        if base != SPEND_SCOPE:
            continue
        granted = True
        kind, _, value = scope_filter.partition("=")
        if not scope_filter:
            everyone = True
        elif kind == "user" and value:
            users.add(value)
        elif kind == "group" and value:
            groups.add(value)
        # other filters (server=, service=) name nothing a spend row belongs to: they grant nothing
    if not granted or not (everyone or users or groups):
        return None
    return Visibility(everyone, frozenset(users), frozenset(groups))


def team_lead_role(group: str, users: Iterable[str] = (), groups: Iterable[str] = ()) -> dict:
    """A JupyterHub role letting ``users``/``groups`` see the spend of ``group``'s members."""
    return {
        "name": f"remote-dev-spend-{group}",
        "description": f"See the spend of the members of group {group}",
        "scopes": [f"{SPEND_SCOPE}!group={group}"],
        "users": list(users),
        "groups": list(groups),
    }
