"""Git-sync provisioning on the user pod: init container, environment and a preStop final sync."""

from __future__ import annotations

import re
import shlex
from string import Formatter

from kubernetes_asyncio.client import (
    V1Container,
    V1EnvVar,
    V1EnvVarSource,
    V1ExecAction,
    V1Lifecycle,
    V1LifecycleHandler,
    V1ResourceRequirements,
    V1SecretKeySelector,
)
from traitlets import Int, TraitError, Unicode, validate
from traitlets.config import Configurable

from ..gitsync.config import (
    DEFAULT_INTERVAL,
    DEFAULT_SYNC_BRANCH,
    DEFAULT_USERNAME,
    ref_safe_username,
)

INIT_CONTAINER_NAME = "remote-dev-git-init"
INIT_COMMAND = ["python", "-m", "jupyter_remote_dev.gitsync", "init"]
CYCLE_COMMAND = ["python", "-m", "jupyter_remote_dev.gitsync", "cycle"]
_IDENT_UNSAFE = str.maketrans("", "", "<>\x00\n\r")  # git refuses these in author identities


TEMPLATE_FIELDS = {"username", "unescaped_username", "servername", "namespace"}


def check_template(template: str, what: str, allowed=frozenset(TEMPLATE_FIELDS)) -> str:
    """``template`` if it uses only ``allowed`` ``{fields}``, else a clear error at start-up."""
    try:
        used = {field for _, field, _, _ in Formatter().parse(template) if field is not None}
    except ValueError as e:
        raise ValueError(f"{what} {template!r}: {e}") from None
    unknown = used - set(allowed)
    if unknown:
        raise ValueError(f"{what} {template!r} uses {sorted(unknown)}; allowed: {sorted(allowed)}")
    return template


def git_identity(text: str) -> str:
    """``text`` without the characters git (and gitsync) refuse in an author name or e-mail."""
    return text.translate(_IDENT_UNSAFE).strip()


class GitSync(Configurable):
    """Per-user two-way Git sync: which repository, which branch, where the token comes from."""

    repo = Unicode(
        config=True,
        help="Repository URL (https, no credentials in it). Empty turns Git sync off.",
    )
    upstream = Unicode(
        "", config=True, help="Upstream branch merged into the sync branch (e.g. main)."
    )
    branch_template = Unicode(
        DEFAULT_SYNC_BRANCH,
        config=True,
        help="""Per-user sync branch. `{username}` is KubeSpawner's safe slug of the user name,
        `{unescaped_username}` the raw name; every field is made a valid ref part by the same
        function the server uses (names git refuses get a readable part plus a hash).""",
    )
    workspace = Unicode(
        "",
        config=True,
        help="Working tree, absolute or relative to the server root. Empty: gitsync's default.",
    )
    interval = Int(
        int(DEFAULT_INTERVAL),
        config=True,
        help="Seconds between automatic sync cycles; 0 turns the timer off.",
    )
    token_secret_name = Unicode(
        "",
        config=True,
        help="""Secret holding the token, passed as JUPYTER_REMOTE_DEV_GIT_TOKEN via secretKeyRef.
        `{username}` expands to the user's slug (per-user Secrets). Empty: no token.""",
    )
    token_secret_key = Unicode("token", config=True, help="Key of the token inside that Secret.")
    token_username = Unicode(
        "",
        config=True,
        help=f"HTTP user name sent with the token (gitsync default: {DEFAULT_USERNAME}).",
    )
    author_email_auth_state_key = Unicode(
        "email",
        config=True,
        help="auth_state field with the commit e-mail; else the user name if it is an address.",
    )
    image = Unicode(
        "", config=True, help="Image of the init container. Empty: the notebook container's image."
    )
    termination_grace_period = Int(
        60, config=True, help="Seconds Kubernetes waits for the preStop final sync (pod minimum)."
    )

    @validate("repo")
    def _no_credentials(self, proposal):
        if re.match(r"[a-z][a-z0-9+.-]*://[^/@]*@", proposal["value"], re.IGNORECASE):
            raise TraitError("GitSync.repo must not contain credentials; use token_secret_name")
        return proposal["value"]

    @validate("branch_template", "token_secret_name")
    def _valid_template(self, proposal):
        name = proposal["trait"].name
        # an object name takes only DNS-safe fields; a branch may carry the raw name too
        allowed = TEMPLATE_FIELDS if name == "branch_template" else {"username", "namespace"}
        try:
            return check_template(proposal["value"], f"GitSync.{name}", allowed)
        except ValueError as e:
            raise TraitError(str(e)) from None

    def sync_branch(self, fields: dict) -> str:
        """The user's sync branch: each field made a valid ref part as the server does it."""
        safe = {key: ref_safe_username(value) if value else value for key, value in fields.items()}
        return self.branch_template.format(**safe)

    def environment(self, fields: dict, author_email: str = "") -> list[V1EnvVar]:
        """The ``JUPYTER_REMOTE_DEV_GIT_*`` variables (token by secretKeyRef, never by value)."""
        plain = {
            "JUPYTER_REMOTE_DEV_GIT_REPO": self.repo,
            "JUPYTER_REMOTE_DEV_GIT_UPSTREAM": self.upstream,
            "JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH": self.sync_branch(fields),
            "JUPYTER_REMOTE_DEV_GIT_WORKSPACE": self.workspace,
            "JUPYTER_REMOTE_DEV_GIT_INTERVAL": str(self.interval),
            "JUPYTER_REMOTE_DEV_GIT_USERNAME": self.token_username,
            "JUPYTER_REMOTE_DEV_GIT_AUTHOR_NAME": git_identity(fields["unescaped_username"]),
            "JUPYTER_REMOTE_DEV_GIT_AUTHOR_EMAIL": git_identity(author_email),
        }
        env = [V1EnvVar(name=k, value=v) for k, v in plain.items() if v]
        if self.token_secret_name:
            selector = V1SecretKeySelector(
                name=self.token_secret_name.format(**fields), key=self.token_secret_key
            )
            env.append(
                V1EnvVar(
                    name="JUPYTER_REMOTE_DEV_GIT_TOKEN",
                    value_from=V1EnvVarSource(secret_key_ref=selector),
                )
            )
        return env

    def init_container(self, notebook: V1Container, env: list[V1EnvVar]) -> V1Container:
        """Runs the Git-sync init as the notebook's user, with its volumes and working directory."""
        return V1Container(
            name=INIT_CONTAINER_NAME,
            image=self.image or notebook.image,
            image_pull_policy=notebook.image_pull_policy,
            command=list(INIT_COMMAND),
            env=list(env),
            volume_mounts=notebook.volume_mounts,
            working_dir=notebook.working_dir,
            security_context=notebook.security_context,
            resources=V1ResourceRequirements(
                requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "512Mi"}
            ),
        )

    def add_pre_stop(self, container: V1Container, log=None) -> None:
        """Run a final sync cycle before the container stops, after any exec preStop already set.

        KubeSpawner passes ``lifecycle_hooks`` through as a camelCase dict; both forms are handled.
        """
        lifecycle = container.lifecycle or V1Lifecycle()
        as_dict = isinstance(lifecycle, dict)
        existing = lifecycle.get("preStop") if as_dict else lifecycle.pre_stop
        # wait for a cycle the server's timer may be running, within half the grace period
        cycle = [*CYCLE_COMMAND, f"--wait={self.termination_grace_period // 2}"]
        command = cycle
        if existing is not None:
            action = existing.get("exec") if isinstance(existing, dict) else existing._exec
            first = (
                action.get("command")
                if isinstance(action, dict)
                else getattr(action, "command", None)
            )
            if not first:
                if log:
                    log.warning("A non-exec preStop hook is set; skipping the final Git sync")
                return
            if " ".join(CYCLE_COMMAND) in " ".join(first):
                return  # already installed (idempotent)
            command = ["/bin/sh", "-c", f"{shlex.join(first)}; exec {shlex.join(cycle)}"]
        if as_dict:
            lifecycle["preStop"] = {"exec": {"command": command}}
        else:
            lifecycle.pre_stop = V1LifecycleHandler(_exec=V1ExecAction(command=command))
        container.lifecycle = lifecycle
