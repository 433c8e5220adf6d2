"""``ssh-config``: a ``Host remote-dev-<profile>`` entry for plain OpenSSH (ssh, scp, sftp, rsync,
sshfs, editors' remote SSH).

It makes the profile's key pair (0600, beside the profiles file) and registers its public key with
the server, fetches the server's host key over the authenticated API (no trust on first use) into
its own known_hosts file, and prints the entry; ``--write`` puts it into ``~/.ssh/config`` inside
one marked block that it owns and rewrites, never touching a line outside its markers
(:mod:`..openssh`). ``ssh-proxy`` (:mod:`.ssh_proxy`) is the entry's ProxyCommand.
"""

from __future__ import annotations

from traitlets import Bool

from ..api import RemoteDevClient
from ..openssh import ensure_key_pair, host_alias, host_entry, pin_host_key, write_user_config
from .base import CommandLineError, RemoteDevCommand


class SshConfigApp(RemoteDevCommand):
    """Print (or --write into ~/.ssh/config) the Host entry for ssh, scp, sftp, rsync, editors."""

    name = "jupyter-remote-dev-ssh-config"
    description = __doc__
    synopsis = "[--profile NAME] [--write]"
    write = Bool(False, config=True, help="Write the entry into ~/.ssh/config (a marked block).")

    @property
    def command(self) -> str:
        return "jupyter remote-dev ssh-config"  # one word: the default would split it at the dash

    flags = {
        **RemoteDevCommand.flags,
        "write": ({"SshConfigApp": {"write": True}}, "Write it into ~/.ssh/config."),
    }

    def run(self) -> int:
        if self.extra_args:
            raise CommandLineError(f"usage: {self.usage}")
        profile = self.load_profile()
        identity, public_key = ensure_key_pair(profile.name)
        with RemoteDevClient(profile) as client:
            url = client.api_url("ssh/host-key")
            info = self.with_server(profile, lambda: client.request("GET", url).json())
            client.request("POST", client.api_url("ssh/keys"), json={"public_key": public_key})
        alias = host_alias(profile.name)
        known_hosts = pin_host_key(alias, info["host_key"])
        entry = host_entry(profile, info["user"], identity, known_hosts)
        if not self.write:
            self.out.line(entry.rstrip("\n"))
            return 0
        path = write_user_config(alias, entry)
        self.out.line(f"wrote Host {alias} to {path}: try `ssh {alias}`")
        return 0
