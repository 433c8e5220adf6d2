"""The server's persistent host key and the client keys registered through the API. No tornado.

Both live in one folder (``ssh_state_dir``, 0700), files 0600, written atomically: the host key so
known_hosts stays valid across restarts, the client keys so a laptop registers once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography.utils import CryptographyDeprecationWarning

from .. import privatefile
from ..errors import RemoteDevError

with warnings.catch_warnings():  # asyncssh still names DSA types; we never use them
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    import asyncssh

HOST_KEY_FILE = "ssh_host_ed25519_key"
AUTHORIZED_KEYS_FILE = "authorized_keys"
ALLOWED_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
)
MIN_RSA_BITS = 2048
MAX_KEYS = 100


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600 (its folder made 0700 if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    privatefile.write_private(path, data)


def load_or_create_host_key(folder: Path) -> asyncssh.SSHKey:
    """The server's Ed25519 host key from ``folder``, made (0600) on first use."""
    path = folder / HOST_KEY_FILE
    try:
        return asyncssh.read_private_key(str(path))
    except FileNotFoundError:
        pass
    key = asyncssh.generate_private_key("ssh-ed25519", comment="jupyter-remote-dev host key")
    write_private(path, key.export_private_key("openssh"))
    return key


def public_line(key: asyncssh.SSHKey) -> str:
    """``<type> <base64>`` of a key, without a comment (what known_hosts and the API carry)."""
    return " ".join(key.export_public_key("openssh").decode("ascii").split()[:2])


@dataclass(frozen=True)
class ClientKey:
    """A registered client key: its public key line, fingerprint and comment."""

    line: str
    fingerprint: str
    comment: str

    def public_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "type": self.line.split()[0],
            "comment": self.comment,
        }


def parse_client_key(text: str) -> ClientKey:
    """A client public key from one OpenSSH line; RemoteDevError naming what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise RemoteDevError("public_key must be one OpenSSH public key line, e.g. 'ssh-ed25519 …'")
    text = text.strip()
    if "\n" in text or "PRIVATE KEY" in text:
        raise RemoteDevError("public_key must be one public key line (never a private key)")
    try:
        key = asyncssh.import_public_key(text)
    except (asyncssh.KeyImportError, ValueError) as error:
        raise RemoteDevError(f"public_key is not an OpenSSH public key: {error}") from None
    algorithm = key.get_algorithm()
    if algorithm not in ALLOWED_KEY_TYPES:
        raise RemoteDevError(f"key type {algorithm} is not accepted; use ssh-ed25519")
    if algorithm == "ssh-rsa" and key.pyca_key.key_size < MIN_RSA_BITS:
        raise RemoteDevError(f"RSA keys must have at least {MIN_RSA_BITS} bits")
    parts = text.split(None, 2)
    comment = parts[2][:200] if len(parts) > 2 else ""
    return ClientKey(public_line(key), key.get_fingerprint("sha256"), comment)


class AuthorizedKeys:
    """The client keys allowed to log in, kept in ``folder/authorized_keys`` (0600)."""

    def __init__(self, folder: Path):
        self.path = folder / AUTHORIZED_KEYS_FILE
        self._keys: dict[str, ClientKey] = {}
        try:
            lines = self.path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            if line.strip() and not line.startswith("#"):
                key = parse_client_key(line)
                self._keys[key.fingerprint] = key

    def list(self) -> list[ClientKey]:
        return list(self._keys.values())

    def add(self, key: ClientKey) -> bool:
        """Register ``key``; False if it already was."""
        if key.fingerprint in self._keys:
            return False
        if len(self._keys) >= MAX_KEYS:
            raise RemoteDevError(f"at most {MAX_KEYS} keys may be registered", status=409)
        self._keys[key.fingerprint] = key
        self._save()
        return True

    def remove(self, fingerprint: str) -> bool:
        """Unregister the key with ``fingerprint``; False if none had it."""
        if self._keys.pop(fingerprint, None) is None:
            return False
        self._save()
        return True

    def allows(self, key: asyncssh.SSHKey) -> bool:
        return key.get_fingerprint("sha256") in self._keys

    def _save(self) -> None:
        body = "".join(f"{k.line} {k.comment}".rstrip() + "\n" for k in self._keys.values())
        write_private(self.path, body.encode("utf-8"))
