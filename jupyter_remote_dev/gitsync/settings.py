"""Settings of two-way git sync between the workspace and a per-user branch."""

from __future__ import annotations

import os

from traitlets import Float, HasTraits, Int, List, TraitError, Unicode, default, validate

from ..base.validators import non_negative, positive
from .config import DEFAULT_EXCLUDE as DEFAULT_GIT_EXCLUDE
from .config import validate_branch, validate_pattern, validate_repo_url
from .errors import GitSyncConfigError


def user_name() -> str:
    """The server's user: $JUPYTERHUB_USER under JupyterHub, else the local account name."""
    import getpass

    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


class GitSyncSettings(HasTraits):
    """Which repository and branches to sync, what to commit, the credentials and the timing."""

    git_repo = Unicode(
        config=True,
        help="""Repository the workspace syncs with: an https:// URL (credentials never in it; see
        git_token_file), ssh://, file:// or an absolute path. Empty turns git sync off. URLs
        starting with '-' and '<transport>::' helpers such as ext:: are refused at start-up.
        Default: $JUPYTER_REMOTE_DEV_GIT_REPO (set by the hub hooks).""",
    )
    git_upstream = Unicode(
        config=True,
        help="""Branch of git_repo merged into the sync branch on every cycle (e.g. 'main'); empty
        merges only the sync branch. Default: $JUPYTER_REMOTE_DEV_GIT_UPSTREAM.""",
    )
    git_sync_branch = Unicode(
        config=True,
        help="""The per-user branch the workspace is committed to and pushed to (never
        force-pushed). '{username}' is replaced by the user's name made ref-safe. Default:
        $JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH, else 'remote-dev/{username}'.""",
    )
    git_workspace = Unicode(
        config=True,
        help="""Folder of the working tree, absolute or relative to the server's root_dir.
        Default: $JUPYTER_REMOTE_DEV_GIT_WORKSPACE, else the root_dir itself.""",
    )
    git_interval = Float(
        config=True,
        help="""Seconds between automatic cycles; 0 turns the timer off (POST git/sync and the
        final cycle at shutdown still run). Default: $JUPYTER_REMOTE_DEV_GIT_INTERVAL, else 300.""",
    )
    git_max_file_size = Int(
        50 * 1024**2,
        config=True,
        help="""Files larger than this many bytes are never committed automatically; they stay in
        the workspace and are listed under 'skipped' in git/status. GitHub refuses files over
        100 MB and warns above 50 MB.""",
    )
    git_include = List(
        Unicode(),
        config=True,
        help="""Glob patterns (git pathspec glob syntax, relative to the workspace) of the files
        auto-committed; empty means everything .gitignore does not exclude.""",
    )
    git_exclude = List(
        Unicode(),
        default_value=list(DEFAULT_GIT_EXCLUDE),
        config=True,
        help="""Glob patterns never auto-committed, on top of .gitignore. A bare name such as
        '.ipynb_checkpoints' also matches that folder at any depth. The defaults keep caches and
        per-user state out even when the workspace is the home folder itself.""",
    )
    git_http_username = Unicode(
        config=True,
        help="""HTTP user name sent with the token. Default: $JUPYTER_REMOTE_DEV_GIT_USERNAME,
        else 'x-access-token' (GitHub App tokens; GitLab accepts any name with a token).""",
    )
    git_token_file = Unicode(
        config=True,
        help="""File holding the access token (e.g. a mounted Secret), read by git's askpass
        helper at each fetch/push, so a rotated token is picked up. The token may instead come
        from $JUPYTER_REMOTE_DEV_GIT_TOKEN; it is deliberately not a config option, and is never
        written to .git/config, remote URLs, logs or status. Default:
        $JUPYTER_REMOTE_DEV_GIT_TOKEN_FILE.""",
    )
    git_author_name = Unicode(
        config=True,
        help="""Author and committer name of automatic commits. Default:
        $JUPYTER_REMOTE_DEV_GIT_AUTHOR_NAME, else the user name.""",
    )
    git_author_email = Unicode(
        config=True,
        help="""Author and committer e-mail of automatic commits. Default:
        $JUPYTER_REMOTE_DEV_GIT_AUTHOR_EMAIL, else <user>@remote-dev.invalid.""",
    )
    git_stop_timeout = Float(
        20.0,
        config=True,
        help="""Longest the server waits at shutdown for the final sync cycle (and for a running
        one to finish first). On Kubernetes the pod's terminationGracePeriodSeconds (hub default
        60) covers the preStop cycle first, which may wait half of it, and then this: keep it
        below the other half.""",
    )

    @default("git_repo")
    def _git_repo_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_REPO", "").strip()

    @default("git_upstream")
    def _git_upstream_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_UPSTREAM", "").strip()

    @default("git_sync_branch")
    def _git_sync_branch_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH", "").strip() or (
            "remote-dev/{username}"
        )

    @default("git_workspace")
    def _git_workspace_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_WORKSPACE", "").strip()

    @default("git_interval")
    def _git_interval_default(self):
        text = os.environ.get("JUPYTER_REMOTE_DEV_GIT_INTERVAL", "").strip() or "300"
        try:
            return float(text)
        except ValueError:
            raise TraitError(f"JUPYTER_REMOTE_DEV_GIT_INTERVAL is not a number: {text!r}") from None

    @default("git_http_username")
    def _git_http_username_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_USERNAME", "").strip() or "x-access-token"

    @default("git_token_file")
    def _git_token_file_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_TOKEN_FILE", "").strip()

    @default("git_author_name")
    def _git_author_name_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_AUTHOR_NAME", "").strip() or user_name()

    @default("git_author_email")
    def _git_author_email_default(self):
        email = os.environ.get("JUPYTER_REMOTE_DEV_GIT_AUTHOR_EMAIL", "").strip()
        return email or f"{user_name()}@remote-dev.invalid"

    @validate("git_repo", "git_upstream", "git_sync_branch", "git_include", "git_exclude")
    def _git_safe(self, proposal):
        value, name = proposal.value, proposal.trait.name
        try:
            if name == "git_repo" and value:
                validate_repo_url(value)
            elif name == "git_upstream" and value:
                validate_branch(value, "upstream branch")
            elif name == "git_sync_branch":
                validate_branch(value.replace("{username}", "user"), "sync branch")
            elif name in ("git_include", "git_exclude"):
                for pattern in value:
                    validate_pattern(pattern)
        except GitSyncConfigError as error:
            raise TraitError(f"RemoteDevExtension.{name}: {error.message}") from None
        return value

    _git_non_negative = non_negative("git_interval", "git_stop_timeout")
    _git_positive = positive("git_max_file_size")
