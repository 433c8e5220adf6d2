"""Validated git sync settings, and their defaults from the ``JUPYTER_REMOTE_DEV_GIT_*`` variables.

Every string that reaches git is checked here first: repository URLs (no leading ``-``, no
``<transport>::`` helpers such as ``ext::``, only https/http/ssh/file or an absolute path, no
credentials inside), branch names (``git check-ref-format`` rules) and path patterns.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..user import current_user
from .errors import GitSyncConfigError

ENV_PREFIX = "JUPYTER_REMOTE_DEV_GIT_"
DEFAULT_SYNC_BRANCH = "remote-dev/{username}"
DEFAULT_USERNAME = "x-access-token"
DEFAULT_MAX_FILE_SIZE = 50 * 1024**2
DEFAULT_INTERVAL = 300.0
#: Never project content, even when the workspace is the home folder itself.
DEFAULT_EXCLUDE = (".ipynb_checkpoints", "__pycache__", ".cache", ".local", ".ipython", ".Trash-*")

ENV_DEFAULTS = {
    "repo": ("REPO", ""),
    "upstream": ("UPSTREAM", ""),
    "sync_branch": ("SYNC_BRANCH", DEFAULT_SYNC_BRANCH),
    "workspace": ("WORKSPACE", ""),
    "interval": ("INTERVAL", str(DEFAULT_INTERVAL)),
    "http_username": ("USERNAME", DEFAULT_USERNAME),
    "token_file": ("TOKEN_FILE", ""),
    "author_name": ("AUTHOR_NAME", "{user}"),
    "author_email": ("AUTHOR_EMAIL", "{user}@remote-dev.invalid"),
}
"""The one table of the settings the hub passes as variables: setting -> (variable after
``JUPYTER_REMOTE_DEV_GIT_``, default). ``{user}`` is :func:`~jupyter_remote_dev.user.current_user`.
The server's traits (:mod:`.settings`), :meth:`SyncSettings.from_env` (the init container and the
CLI) and the hub's :class:`~jupyter_remote_dev.hub.gitsync.GitSync` all read it."""


def default_of(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The table's default of setting ``name``, ``{user}`` filled in."""
    default = ENV_DEFAULTS[name][1]
    return default.replace("{user}", current_user(environ)) if "{user}" in default else default


def env_default(name: str, environ: Mapping[str, str] | None = None) -> str:
    """Setting ``name`` from its ``JUPYTER_REMOTE_DEV_GIT_*`` variable, else its default."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_PREFIX + ENV_DEFAULTS[name][0], "").strip()
    return value or default_of(name, env)


def parse_interval(text: str) -> float:
    """Seconds between cycles from the variable's text; :class:`GitSyncConfigError` if not."""
    try:
        return float(text)
    except ValueError:
        raise GitSyncConfigError(f"{ENV_PREFIX}INTERVAL is not a number: {text!r}") from None


ALLOWED_SCHEMES = ("https", "http", "ssh", "file")
#: Transports git may use at all (GIT_ALLOW_PROTOCOL): ext::, fd:: and others are never allowed.
ALLOWED_PROTOCOLS = "https:http:ssh:file"

_TRANSPORT_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_SCP_LIKE = re.compile(r"^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?!//)[^\s]+$")
#: ``user:token@host:path``: git would take it as scp-like, host ``user``, the token in the path.
_SCP_CREDENTIALS = re.compile(r"^[^@/:]+:[^@/:]*@")
_BAD_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
_USERNAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
USERNAME_MAX_LENGTH = 64
_PLAIN_USERNAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")
_HASHED_USERNAME = re.compile(r"-[0-9a-f]{10}$")


def validate_repo_url(url: str) -> str:
    """Return ``url`` if git may be pointed at it, else raise :class:`GitSyncConfigError`."""
    if not url or not isinstance(url, str):
        raise GitSyncConfigError("git repo URL is empty")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise GitSyncConfigError("git repo URL contains whitespace or control characters")
    if url.startswith("-"):
        raise GitSyncConfigError("git repo URL must not start with '-' (it would be an option)")
    if _TRANSPORT_HELPER.match(url):
        raise GitSyncConfigError(
            "git repo URL uses a '<transport>::' remote helper (such as ext::), which is refused"
        )
    if "://" in url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise GitSyncConfigError(
                f"git repo URL scheme {scheme!r} is refused; "
                f"use one of {', '.join(ALLOWED_SCHEMES)}"
            )
        if scheme in ("https", "http") and (parts.username or parts.password):
            raise GitSyncConfigError(
                "git repo URL must not carry credentials; "
                "set JUPYTER_REMOTE_DEV_GIT_TOKEN or JUPYTER_REMOTE_DEV_GIT_TOKEN_FILE instead"
            )
        if parts.password:
            raise GitSyncConfigError("git repo URL must not carry a password")
        if scheme != "file" and not parts.hostname:
            raise GitSyncConfigError("git repo URL has no host")
        return url
    if url.startswith("/"):
        return url
    if _SCP_CREDENTIALS.match(url):
        raise GitSyncConfigError(
            "git repo URL looks like user:password@host:path; credentials never go into the URL"
        )
    if _SCP_LIKE.match(url):
        return url
    raise GitSyncConfigError(
        "git repo URL must be https://, http://, ssh://, file://, "
        "user@host:path or an absolute path"
    )


def strip_credentials(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages about URLs we did not validate."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1", url)


def validate_branch(name: str, what: str = "branch") -> str:
    """Return ``name`` if it is a safe branch name (git check-ref-format --branch rules)."""
    if not name or not isinstance(name, str):
        raise GitSyncConfigError(f"git {what} name is empty")
    problem = None
    if name.startswith("-"):
        problem = "starts with '-'"
    elif ".." in name:
        problem = "contains '..'"
    elif "@{" in name or name == "@":
        problem = "contains '@{' or is '@'"
    elif _BAD_REF_CHARS.search(name):
        problem = "contains a space, control character or one of ~^:?*[\\"
    elif name.startswith("/") or name.endswith("/") or "//" in name:
        problem = "has an empty path component"
    elif name.endswith(".") or name.endswith(".lock"):
        problem = "ends with '.' or '.lock'"
    elif any(part.startswith(".") or part.endswith(".lock") for part in name.split("/")):
        problem = "has a component starting with '.' or ending with '.lock'"
    elif name.startswith("refs/") or name == "HEAD":
        problem = "is a full ref or HEAD; give the short branch name"
    if problem:
        raise GitSyncConfigError(f"git {what} name {name!r} is refused: it {problem}")
    return name


def validate_pattern(pattern: str) -> str:
    """Return an include/exclude glob if it is a plain pattern (no pathspec magic, no NUL)."""
    if not pattern or pattern.startswith(":") or any(ch in pattern for ch in "\x00\n\r"):
        raise GitSyncConfigError(f"git sync pattern {pattern!r} is refused")
    return pattern


def ref_safe_username(name: str) -> str:
    """``name`` as one valid ref component (``git check-ref-format``), the same for every name.

    A plain name (ASCII letters, digits, ``._-``, no ``..``, not ending in ``.``/``.lock``, at most
    64 characters) is kept as it is. Any other name becomes its readable part plus ``-`` and 10 hex
    digits of its sha256, so two users never share a branch; a plain name that already ends like
    such a hash is hashed too, so nobody can pick a name that takes another user's branch. The
    hub's hooks and the server both use this function.
    """
    if (
        _PLAIN_USERNAME.fullmatch(name)
        and ".." not in name
        and not name.endswith((".", ".lock"))
        and not _HASHED_USERNAME.search(name)
    ):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    readable = re.sub(r"\.{2,}", ".", _USERNAME_UNSAFE.sub("-", name)).strip(".-")
    readable = readable[: USERNAME_MAX_LENGTH - len(digest) - 1].rstrip(".-")
    return f"{readable or 'user'}-{digest}"


def expand_sync_branch(template: str, username: str) -> str:
    """Fill ``{username}`` in a branch template with :func:`ref_safe_username`."""
    return template.replace("{username}", ref_safe_username(username))


@dataclass(frozen=True)
class SyncSettings:
    """Everything one workspace's sync needs. Build with keywords; call :meth:`validated`."""

    repo: str
    workspace: Path
    sync_branch: str
    upstream: str | None = None
    interval: float = DEFAULT_INTERVAL
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    http_username: str = DEFAULT_USERNAME
    token_file: str | None = None
    author_name: str = field(default_factory=lambda: default_of("author_name"))
    author_email: str = field(default_factory=lambda: default_of("author_email"))
    stale_lock_seconds: float = 60.0

    def validated(self) -> SyncSettings:
        """Return self after checking every field; raise :class:`GitSyncConfigError` if unsafe."""
        validate_repo_url(self.repo)
        validate_branch(self.sync_branch, "sync branch")
        if self.upstream:
            validate_branch(self.upstream, "upstream branch")
        if not Path(self.workspace).is_absolute():
            raise GitSyncConfigError(f"git workspace {str(self.workspace)!r} must be absolute")
        for pattern in (*self.include, *self.exclude):
            validate_pattern(pattern)
        if self.max_file_size <= 0 or self.interval < 0 or self.stale_lock_seconds < 0:
            raise GitSyncConfigError(
                "max_file_size must be positive, interval and stale_lock_seconds non-negative"
            )
        identity = (("author name", self.author_name), ("author email", self.author_email))
        for label, value in identity:
            if not value or any(ch in value for ch in "<>\x00\n"):
                raise GitSyncConfigError(f"git {label} {value!r} is refused")
        if any(ch in self.http_username for ch in "\x00\n\r"):
            raise GitSyncConfigError("git HTTP username contains control characters")
        return self

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, root: str | Path | None = None, **overrides
    ) -> SyncSettings:
        """Settings from ``JUPYTER_REMOTE_DEV_GIT_*`` (keyword ``overrides`` win), validated.

        A relative workspace is taken relative to ``root`` (default: the current directory).
        """
        env = os.environ if environ is None else environ
        values = {name: env_default(name, env) for name in ENV_DEFAULTS}
        values["sync_branch"] = expand_sync_branch(values["sync_branch"], current_user(env))
        values["upstream"] = values["upstream"] or None
        values["token_file"] = values["token_file"] or None
        values["interval"] = parse_interval(values["interval"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        workspace = Path(values["workspace"]).expanduser()
        if not workspace.is_absolute():
            workspace = Path(root or os.getcwd()) / workspace
        values["workspace"] = Path(os.path.normpath(workspace))
        for key in ("include", "exclude"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values).validated()
