"""Named connection profiles (server URL + token) in a 0600 file under the Jupyter config folder.

A profile is a user server under JupyterHub (``https://hub/user/alice/`` or the named server
``https://hub/user/alice/gpu/``) or a standalone Jupyter server. Tokens are read from a hidden
prompt, from stdin or from ``JUPYTER_REMOTE_DEV_TOKEN``, never from the command line, and are stored
only in this file (like ``~/.netrc``), whose mode is kept at 0600.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from jupyter_core.paths import jupyter_config_dir

PROFILES_FILE = "remote_dev_profiles.json"
TOKEN_ENV = "JUPYTER_REMOTE_DEV_TOKEN"
PROFILE_ENV = "JUPYTER_REMOTE_DEV_PROFILE"
DEFAULT_PROFILE = "default"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HUB_USER_PATH = re.compile(r"^(?P<prefix>.*?/)user/(?P<user>[^/]+)/(?:(?P<server>[^/]+)/)?$")


class ProfileError(Exception):
    """A profile that is missing, malformed or cannot be stored."""


@dataclass(frozen=True)
class HubTarget:
    """Where a hub user-server URL points: the hub API and the user (and named server)."""

    hub_api_url: str
    user: str
    server_name: str = ""


@dataclass
class Profile:
    """One saved connection: ``url`` always ends with ``/`` and is the server's base URL."""

    name: str
    url: str
    token: str
    kind: str = "standalone"  # or "hub"
    user: str = ""
    server_name: str = ""
    hub_api_url: str = ""
    verify: bool | str = True  # False (insecure), True, or a CA bundle path

    @property
    def hub(self) -> HubTarget | None:
        """The hub target for a hub profile, else None."""
        if self.kind != "hub":
            return None
        return HubTarget(self.hub_api_url, self.user, self.server_name)

    def public_dict(self) -> dict:
        """The profile without its token, for ``status`` and ``--json``."""
        data = asdict(self)
        data.pop("token")
        return data


def normalise_url(url: str) -> str:
    """``url`` checked to be http(s), with a trailing slash; ProfileError otherwise.

    Messages show the URL without user info, query and fragment: those may hold a token."""
    parts = urlsplit(url.strip())
    shown = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProfileError(
            f"not an http(s) URL: {shown!r} (expected e.g. https://hub.example.com/user/alice/)"
        )
    if parts.query or parts.fragment:
        raise ProfileError(f"the server URL must not carry a query or fragment: {shown!r}")
    if "@" in parts.netloc:
        raise ProfileError(
            "the server URL must not carry credentials (user:token@); give the token at the "
            f"prompt, on stdin (--token-stdin) or in ${TOKEN_ENV}"
        )
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def parse_hub_url(url: str) -> HubTarget | None:
    """The hub target of a ``.../user/<name>/[<server>/]`` URL, or None for any other URL."""
    parts = urlsplit(normalise_url(url))
    match = _HUB_USER_PATH.match(parts.path)
    if not match:
        return None
    hub_api = urlunsplit((parts.scheme, parts.netloc, match["prefix"] + "hub/api/", "", ""))
    return HubTarget(hub_api, unquote(match["user"]), unquote(match["server"] or ""))


def profiles_path() -> Path:
    """The profiles file: ``<jupyter config dir>/remote_dev_profiles.json``."""
    return Path(jupyter_config_dir()) / PROFILES_FILE


def load_all() -> dict[str, Profile]:
    """Every saved profile by name (empty when the file does not exist)."""
    path = profiles_path()
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise ProfileError(f"cannot read {path}: {e}") from e
    return {name: Profile(name=name, **fields) for name, fields in raw.get("profiles", {}).items()}


def profile_name(name: str | None = None) -> str:
    """``name``, else ``$JUPYTER_REMOTE_DEV_PROFILE``, else ``default``."""
    return name or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE


def load(name: str | None = None) -> Profile:
    """The profile ``name`` (default: :func:`profile_name`)."""
    name = profile_name(name)
    profiles = load_all()
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ProfileError(
            f"no profile {name!r} (saved: {known}); run `jupyter remote-dev login URL` first"
        )
    return profiles[name]


def _write_all(profiles: dict[str, Profile]) -> None:
    path = profiles_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"profiles": {}}
    for name, profile in sorted(profiles.items()):
        fields = asdict(profile)
        fields.pop("name")
        body["profiles"][name] = fields
    fd, tmp = tempfile.mkstemp(prefix=".remote_dev_profiles.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)


def save(profile: Profile) -> Path:
    """Add or replace ``profile``; the file is written atomically with mode 0600."""
    if not _PROFILE_NAME.match(profile.name):
        raise ProfileError(
            f"invalid profile name {profile.name!r}: letters, digits, '.', '_' and '-' only"
        )
    profiles = load_all()
    profiles[profile.name] = profile
    _write_all(profiles)
    return profiles_path()


def remove(name: str) -> bool:
    """Forget profile ``name``; True if it existed."""
    profiles = load_all()
    if profiles.pop(name, None) is None:
        return False
    _write_all(profiles)
    return True


def read_token(from_stdin: bool = False, prompt: str = "Token: ") -> str:
    """The token from stdin, ``$JUPYTER_REMOTE_DEV_TOKEN`` or a hidden prompt (in that order)."""
    if from_stdin:
        token = sys.stdin.readline().strip()
    elif os.environ.get(TOKEN_ENV):
        token = os.environ[TOKEN_ENV].strip()
    elif sys.stdin.isatty():
        token = getpass.getpass(prompt).strip()
    else:
        raise ProfileError(
            f"no token: pass --token-stdin, set {TOKEN_ENV}, or run in a terminal to be prompted"
        )
    if not token:
        raise ProfileError("the token is empty")
    if any(c.isspace() for c in token):
        raise ProfileError("the token contains white space; paste only the token itself")
    return token
