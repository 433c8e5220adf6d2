"""Settings of two-way git sync between the workspace and a per-user branch."""

from __future__ import annotations

import os
from pathlib import Path

from traitlets import Float, HasTraits, Int, List, TraitError, Unicode, default, validate

from ..base.validators import non_negative, positive
from ..user import current_user
from .config import (
    DEFAULT_EXCLUDE,
    DEFAULT_INTERVAL,
    DEFAULT_MAX_FILE_SIZE,
    DEFAULT_SYNC_BRANCH,
    DEFAULT_USERNAME,
    ENV_PREFIX,
    SyncSettings,
    env_default,
    expand_sync_branch,
    parse_interval,
    validate_branch,
    validate_pattern,
    validate_repo_url,
)
from .errors import GitSyncConfigError


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
        help=f"""The per-user branch the workspace is committed to and pushed to (never
        force-pushed). '{{username}}' is replaced by the user's name made ref-safe. Default:
        ${ENV_PREFIX}SYNC_BRANCH, else {DEFAULT_SYNC_BRANCH!r}.""",
    )
    git_workspace = Unicode(
        config=True,
        help="""Folder of the working tree, absolute or relative to the server's root_dir.
        Default: $JUPYTER_REMOTE_DEV_GIT_WORKSPACE, else the root_dir itself.""",
    )
    git_interval = Float(
        config=True,
        help=f"""Seconds between automatic cycles; 0 turns the timer off (POST git/sync and the
        final cycle at shutdown still run). Default: ${ENV_PREFIX}INTERVAL, else
        {DEFAULT_INTERVAL:g}.""",
    )
    git_max_file_size = Int(
        DEFAULT_MAX_FILE_SIZE,
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
        default_value=list(DEFAULT_EXCLUDE),
        config=True,
        help="""Glob patterns never auto-committed, on top of .gitignore. A bare name such as
        '.ipynb_checkpoints' also matches that folder at any depth. The defaults keep caches and
        per-user state out even when the workspace is the home folder itself.""",
    )
    git_http_username = Unicode(
        config=True,
        help=f"""HTTP user name sent with the token. Default: ${ENV_PREFIX}USERNAME,
        else {DEFAULT_USERNAME!r} (GitHub App tokens; GitLab accepts any name with a token).""",
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
        $JUPYTER_REMOTE_DEV_GIT_AUTHOR_NAME, else the user name ($JUPYTERHUB_USER, else the
        login name).""",
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
        return env_default("repo")

    @default("git_upstream")
    def _git_upstream_default(self):
        return env_default("upstream")

    @default("git_sync_branch")
    def _git_sync_branch_default(self):
        return env_default("sync_branch")

    @default("git_workspace")
    def _git_workspace_default(self):
        return env_default("workspace")

    @default("git_interval")
    def _git_interval_default(self):
        try:
            return parse_interval(env_default("interval"))
        except GitSyncConfigError as error:
            raise TraitError(error.message) from None

    @default("git_http_username")
    def _git_http_username_default(self):
        return env_default("http_username")

    @default("git_token_file")
    def _git_token_file_default(self):
        return env_default("token_file")

    @default("git_author_name")
    def _git_author_name_default(self):
        return env_default("author_name")

    @default("git_author_email")
    def _git_author_email_default(self):
        return env_default("author_email")

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

    def sync_settings(self, root: str) -> SyncSettings | None:
        """The engine's settings from these traits; None when git sync is off (no git_repo)."""
        if not self.git_repo:
            return None
        return SyncSettings(
            repo=self.git_repo,
            workspace=self.git_workspace_path(root),
            sync_branch=expand_sync_branch(self.git_sync_branch, current_user()),
            upstream=self.git_upstream or None,
            interval=self.git_interval,
            max_file_size=self.git_max_file_size,
            include=tuple(self.git_include),
            exclude=tuple(self.git_exclude),
            http_username=self.git_http_username,
            token_file=self.git_token_file or None,
            author_name=self.git_author_name,
            author_email=self.git_author_email,
        )

    def git_workspace_path(self, root: str) -> Path:
        """git_workspace made absolute against the server's ``root``."""
        return Path(os.path.normpath(os.path.join(root, self.git_workspace)))

    def make_git_service(self, root: str, runtime_dir: str, log):
        """The git area's owner, from these traits (the only place they are copied)."""
        from .engine import GitSyncEngine
        from .service import GitSyncService

        settings = self.sync_settings(root)
        return GitSyncService(
            GitSyncEngine(settings, logger=log) if settings is not None else None,
            self.git_interval,
            self.git_workspace_path(root),
            log,
            runtime_dir,
            stop_timeout=self.git_stop_timeout,
        )
