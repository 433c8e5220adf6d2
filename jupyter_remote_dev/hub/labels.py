"""Cost-attribution labels: valid Kubernetes label values for any user, team or department name.

Label values follow KubeSpawner 7's ``safe`` slug for the ``hub.jupyter.org/username`` label: a name
that already is a valid label value is kept, anything else becomes
``<lowercase-slug>---<sha256[:8]>`` (at most 32 characters). The validity check here is the API
server's, ASCII only: KubeSpawner 7.1's own check folds Unicode case (the Kelvin sign passes as
``k``), so for such names :func:`label_value` hashes where KubeSpawner would emit an invalid label.
Raw names go into annotations under the same keys.
"""

from __future__ import annotations

import re

from kubespawner.slugs import is_valid_object_name, safe_slug, strip_and_hash
from traitlets import Dict, TraitError, Unicode, validate
from traitlets.config import Configurable

from ..cost.model import is_valid_label_value

_LABEL_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
_DNS_SUBDOMAIN = re.compile(
    r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\Z"
)
USERNAME_LABEL = "hub.jupyter.org/username"


def is_valid_label_key(key: str) -> bool:
    """True if ``key`` is a valid label key: optional DNS-subdomain prefix and a name of <= 63."""
    prefix, _, name = key.rpartition("/")
    if "/" in prefix or (key.count("/") and not prefix):
        return False
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and _LABEL_NAME.match(name) is not None


def label_value(name: str) -> str:
    """The label value for a user, team or department name (KubeSpawner-compatible safe slug)."""
    if "--" not in name and is_valid_label_value(name):
        return name
    return strip_and_hash(name, max_length=32)


def dns_slug(name: str, max_length: int = 48) -> str:
    """KubeSpawner's ``{username}`` slug: a DNS label that starts with a letter."""
    return safe_slug(name, is_valid=is_valid_object_name, max_length=max_length)


def template_escape(text: str) -> str:
    """Double the braces so KubeSpawner's ``str.format`` expansion leaves ``text`` unchanged."""
    return text.replace("{", "{{").replace("}", "}}")


def group_names(user) -> list[str]:
    """The names of a JupyterHub user's groups (ORM groups or plain names; none if absent)."""
    return [getattr(g, "name", g) for g in getattr(user, "groups", None) or []]


def _lookup(mapping, dotted: str):
    for part in dotted.split("."):
        if not isinstance(mapping, dict) or part not in mapping:
            return None
        mapping = mapping[part]
    return None if mapping is None else str(mapping)


class CostLabels(Configurable):
    """Which labels attribute a user's pods, volumes and Ray clusters; where values come from."""

    user_label = Unicode(
        "owner",
        config=True,
        help="""Label that carries the user name. Kubecost maps `owner` by default; set
        `hub.jupyter.org/username` to reuse KubeSpawner's own label (values are identical).""",
    )
    team_label = Unicode(
        "team",
        config=True,
        help="Label that carries the user's team (from JupyterHub groups). Empty: no team label.",
    )
    team_group_pattern = Unicode(
        "",
        config=True,
        help="""Regular expression a JupyterHub group name must match to count as a team
        (e.g. `^team-`). The first matching group in alphabetical order is the team; empty
        matches every group.""",
    )
    default_team = Unicode(
        "",
        config=True,
        help="Team for users in no matching group. Empty: leave the team label off.",
    )
    auth_state_labels = Dict(
        value_trait=Unicode(),
        key_trait=Unicode(),
        default_value={"department": "department"},
        config=True,
        help="""Labels filled from the user's auth_state: label name -> dotted path into
        auth_state, e.g. `{"department": "department", "cost-center": "oauth_user.cost_center"}`.
        Missing fields leave the label off. Needs `c.Authenticator.enable_auth_state = True`.""",
    )
    backend = Unicode(
        "",
        config=True,
        help="Spend backend the server extension queries: `kubecost`, `opencost` or empty (off).",
    )
    backend_url = Unicode(
        "",
        config=True,
        help="""Base URL of the backend, e.g. `http://kubecost-cost-analyzer.kubecost:9090/model`
        or `http://opencost.opencost:9003`.""",
    )

    @validate("user_label", "team_label")
    def _valid_key(self, proposal):
        key = proposal["value"]
        if key and not is_valid_label_key(key):
            raise TraitError(f"{proposal['trait'].name}: {key!r} is not a valid label key")
        if not key and proposal["trait"].name == "user_label":
            raise TraitError("user_label must not be empty")
        return key

    @validate("auth_state_labels")
    def _valid_keys(self, proposal):
        for key in proposal["value"]:
            if not is_valid_label_key(key):
                raise TraitError(f"auth_state_labels: {key!r} is not a valid label key")
        return proposal["value"]

    @validate("team_group_pattern")
    def _valid_pattern(self, proposal):
        try:
            re.compile(proposal["value"])
        except re.error as e:
            raise TraitError(f"team_group_pattern {proposal['value']!r}: {e}") from None
        return proposal["value"]

    @validate("backend")
    def _valid_backend(self, proposal):
        if proposal["value"] not in ("", "kubecost", "opencost"):
            raise TraitError(
                f"backend must be kubecost, opencost or empty, not {proposal['value']!r}"
            )
        return proposal["value"]

    def team(self, group_names) -> str:
        """The team: first of ``group_names`` matching ``team_group_pattern``, else the default."""
        pattern = re.compile(self.team_group_pattern)
        teams = sorted(g for g in group_names if pattern.search(g))
        return teams[0] if teams else self.default_team

    def raw_values(self, username: str, groups=(), auth_state=None) -> dict[str, str]:
        """Label name -> raw (unescaped) value for this user."""
        values = {self.user_label: username}
        team = self.team(groups)
        if self.team_label and team:
            values[self.team_label] = team
        for key, path in self.auth_state_labels.items():
            value = _lookup(auth_state or {}, path)
            if value:
                values[key] = value
        return values

    def labels_and_annotations(self, raw: dict[str, str]) -> tuple[dict, dict]:
        """Escaped label values and raw annotations under the same keys."""
        return {k: label_value(v) for k, v in raw.items()}, dict(raw)

    async def for_spawner(self, spawner) -> tuple[dict, dict]:
        """Labels and annotations for the spawner's user (groups and auth_state included)."""
        user = spawner.user
        get_auth_state = getattr(user, "get_auth_state", None)
        auth_state = await get_auth_state() if get_auth_state and self.auth_state_labels else None
        raw = self.raw_values(user.name, group_names(user), auth_state)
        return self.labels_and_annotations(raw)

    def environment(self, labels: dict) -> dict[str, str]:
        """The ``JUPYTER_REMOTE_DEV_COST_*`` variables the server extension reads."""
        env = {
            "JUPYTER_REMOTE_DEV_COST_LABEL": self.user_label,
            "JUPYTER_REMOTE_DEV_COST_USER": labels[self.user_label],
        }
        if self.backend:
            env["JUPYTER_REMOTE_DEV_COST_BACKEND"] = self.backend
        if self.backend_url:
            env["JUPYTER_REMOTE_DEV_COST_URL"] = self.backend_url
        return env
