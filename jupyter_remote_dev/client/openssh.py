"""The laptop's OpenSSH files for a profile: its key pair, its known_hosts line and its ``Host``
entry in ``~/.ssh/config`` (one marked block, never a line outside its markers).

Used by ``jupyter remote-dev ssh-config`` (:mod:`.commands.ssh_config`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import sys
from pathlib import Path

from jupyter_core.paths import jupyter_config_dir

from ..ssh.keys import asyncssh, write_private
from .profiles import Profile

BEGIN = "# >>> jupyter-remote-dev: managed by `jupyter remote-dev ssh-config --write` >>>"
END = "# <<< jupyter-remote-dev <<<"
KEYS_FOLDER = "remote_dev_ssh"
CIPHERS = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr"
"""AES-GCM first: the server side (asyncssh) runs it up to 1.5x faster than ssh's default,
ChaCha20-Poly1305 (benchmarks/RESULTS.md); all four are in every OpenSSH since 6.5."""


def host_alias(profile_name: str) -> str:
    return f"remote-dev-{profile_name}"


def keys_folder() -> Path:
    """``<jupyter config dir>/remote_dev_ssh``: the key pairs and known_hosts, beside the tokens."""
    return Path(jupyter_config_dir()) / KEYS_FOLDER


def ensure_key_pair(profile_name: str) -> tuple[Path, str]:
    """The profile's private key path (made, 0600, if missing) and its public key line."""
    path = keys_folder() / f"{profile_name}_ed25519"
    try:
        key = asyncssh.read_private_key(str(path))
    except FileNotFoundError:
        comment = f"jupyter-remote-dev {profile_name}@{socket.gethostname()}"
        key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
        write_private(path, key.export_private_key("openssh"))
        Path(f"{path}.pub").write_bytes(key.export_public_key("openssh"))
    return path, key.export_public_key("openssh").decode("ascii").strip()


def pin_host_key(alias: str, host_key: str) -> Path:
    """Put ``alias host_key`` in our known_hosts file (replacing that alias's line)."""
    path = keys_folder() / "known_hosts"
    try:
        lines = path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    kept = [line for line in lines if line.split(" ", 1)[0] != alias]
    write_private(path, "".join(f"{line}\n" for line in [*kept, f"{alias} {host_key}"]).encode())
    return path


def proxy_command() -> list[str]:
    """The ssh-proxy command line with absolute paths (editors run ssh with their own PATH)."""
    script = Path(sys.executable).with_name("jupyter-remote-dev")
    if not script.exists():
        found = shutil.which("jupyter-remote-dev")
        script = Path(found).absolute() if found else None
    if script is not None:
        return [str(script), "ssh-proxy"]
    code = "from jupyter_remote_dev.client.cli import main; main()"
    return [sys.executable, "-c", code, "ssh-proxy"]


def _value(text: str) -> str:
    return f'"{text}"' if any(c.isspace() for c in text) else text


def host_entry(profile: Profile, user: str, identity: Path, known_hosts: Path) -> str:
    """The ``Host`` stanza of one profile."""
    alias = host_alias(profile.name)
    command = shlex.join([*proxy_command(), "--profile", profile.name])
    options = [
        ("User", _value(user)),
        ("ProxyCommand", command),
        ("IdentityFile", _value(str(identity))),
        ("IdentitiesOnly", "yes"),
        ("HostKeyAlias", alias),
        ("UserKnownHostsFile", _value(str(known_hosts))),
        ("StrictHostKeyChecking", "yes"),
        ("Ciphers", CIPHERS),
        ("PasswordAuthentication", "no"),
        ("KbdInteractiveAuthentication", "no"),
        ("ServerAliveInterval", "30"),
    ]
    return f"Host {alias}\n" + "".join(f"  {name} {value}\n" for name, value in options)


def _stanzas(block: list[str]) -> dict[str, list[str]]:
    """The ``Host`` stanzas of our block, by alias."""
    stanzas: dict[str, list[str]] = {}
    current = None
    for line in block:
        if line.startswith("Host "):
            current = line.split(None, 1)[1].strip()
            stanzas[current] = []
        if current is not None:
            stanzas[current].append(line)
    return stanzas


def update_config(text: str, alias: str, entry: str) -> str:
    """``text`` (an ssh config) with ``alias``'s stanza set in our block; nothing else changes."""
    lines = text.splitlines()
    if BEGIN in lines and END in lines[lines.index(BEGIN) :]:
        start = lines.index(BEGIN)
        end = lines.index(END, start)
        before, block, after = lines[:start], lines[start + 1 : end], lines[end + 1 :]
    else:
        before, block, after = lines, [], []
        if before and before[-1].strip():
            before = [*before, ""]
    stanzas = _stanzas(block)
    stanzas[alias] = entry.rstrip("\n").splitlines()
    body = [line for stanza in stanzas.values() for line in stanza]
    return "\n".join([*before, BEGIN, *body, END, *after]) + "\n"


def write_user_config(alias: str, entry: str) -> Path:
    """Set our stanza in ``~/.ssh/config`` (made 0600 if missing); its other lines are kept."""
    path = Path.home() / ".ssh" / "config"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    try:
        text = path.read_text("utf-8")
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        text, mode = "", 0o600
    write_private(path, update_config(text, alias, entry).encode("utf-8"))
    os.chmod(path, mode)
    return path
