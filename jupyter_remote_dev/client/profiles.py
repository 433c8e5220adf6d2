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
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit, urlunsplit

from jupyter_core.paths import jupyter_config_dir

from ..privatefile import write_private

PROFILES_FILE = "remote_dev_profiles.json"
TOKEN_ENV = "JUPYTER_REMOTE_DEV_TOKEN"
PROFILE_ENV = "JUPYTER_REMOTE_DEV_PROFILE"
DEFAULT_PROFILE = "default"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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


#: First path segments of a Jupyter server's pages and APIs (JupyterLab, Notebook 7, classic,
#: Voila, the core APIs, ours): in a browser URL, the server's base URL ends before them.
PAGE_ROUTES = frozenset(
    {
        "lab", "tree", "notebooks", "edit", "view", "files", "doc", "consoles", "terminals",
        "api", "nbclassic", "retro", "voila", "remote-dev", "static", "nbconvert", "kernelspecs",
        "login", "logout",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ServerURL:
    """A server's base URL read from a browser URL.

    ``guessed_server`` is True when the URL's segment after ``/user/<name>/`` was taken as a
    named server although nothing confirms it (a page path followed it that is not Jupyter's):
    such a server must exist on the hub before it is used, and is never started."""

    url: str
    hub: HubTarget | None
    guessed_server: bool = False


def redacted(parts) -> str:
    """A split URL as text with ``***`` for its credentials, ``token`` values and fragment."""
    query = "&".join(
        f"{name}=***" if name == "token" else (f"{name}={value}" if value else name)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    netloc = parts.netloc.rpartition("@")[2]
    netloc = f"***@{netloc}" if "@" in parts.netloc else netloc
    return urlunsplit((parts.scheme, netloc, parts.path, query, "***" if parts.fragment else ""))


def _checked_parts(url: str):
    """``url`` split, checked to be http(s) with no credentials or token; ProfileError otherwise.

    Messages quote the URL with its secrets redacted (user info, token and fragment)."""
    parts = urlsplit(url.strip())
    shown = redacted(parts)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProfileError(
            f"not an http(s) URL: {shown!r} (expected e.g. https://hub.example.com/user/alice/)"
        )
    if "token" in parse_qs(parts.query) or parts.fragment:
        raise ProfileError(
            f"the server URL must not carry a token, query or fragment: {shown!r}; give the "
            f"token at the prompt, on stdin (--token-stdin) or in ${TOKEN_ENV}"
        )
    if "@" in parts.netloc:
        raise ProfileError(
            "the server URL must not carry credentials (user:token@); give the token at the "
            f"prompt, on stdin (--token-stdin) or in ${TOKEN_ENV}"
        )
    return parts


def read_server_url(url: str) -> ServerURL:
    """The server behind any browser URL of it: ``.../lab``, ``.../lab/tree/x.ipynb``,
    ``.../tree``, ``.../notebooks/...``, ``.../user/alice/gpu/lab`` (named server), or the
    base URL itself; a query (``?reset``) is dropped, a token in it refused."""
    parts = _checked_parts(url)
    segments = [s for s in parts.path.split("/") if s]  # kept as escaped as they came
    names = [unquote(s) for s in segments]
    if names[:2] == ["hub", "user"]:  # the hub's own URL for a user server
        segments, names = segments[1:], names[1:]
    if "user" in names and names.index("user") + 1 < len(names):
        at = names.index("user")
        rest = names[at + 2 :]
        server, guessed = "", False
        if rest and rest[0] not in PAGE_ROUTES:
            server = rest[0]
            guessed = len(rest) > 1 and rest[1] not in PAGE_ROUTES
        base = segments[: at + 2 + (1 if server else 0)]
        hub_api = _join(parts, [*segments[:at], "hub", "api"])
        return ServerURL(_join(parts, base), HubTarget(hub_api, names[at + 1], server), guessed)
    if "hub" in names:
        raise ProfileError(
            f"{_join(parts, segments)} is a page of the hub, not a server: use the server's URL, "
            "e.g. https://hub.example.com/user/<name>/ (open your server and copy its address)"
        )
    cut = next((i for i, name in enumerate(names) if name in PAGE_ROUTES), len(names))
    return ServerURL(_join(parts, segments[:cut]), None)


def _join(parts, segments: list[str]) -> str:
    path = "/" + "".join(s + "/" for s in segments)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def normalise_url(url: str) -> str:
    """The server's base URL (with a trailing slash) for any browser URL of it."""
    return read_server_url(url).url


def parse_hub_url(url: str) -> HubTarget | None:
    """The hub target of a ``.../user/<name>/[<server>/]`` URL, or None for any other URL."""
    return read_server_url(url).hub


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
    write_private(path, json.dumps(body, indent=2).encode("utf-8"))


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
