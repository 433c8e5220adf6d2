"""drive: the server as a drive, ready-to-paste setups for each OS.

Prints the profile's WebDAV URL and how rclone, Linux (gio, davfs2), macOS Finder and Windows
mount it; any user name works, the token is the password. The token is printed only with
``--show-token`` (otherwise a placeholder stands in for it).
"""

from __future__ import annotations

import shlex
from urllib.parse import urlsplit

from traitlets import Bool, Unicode

from .base import JSON_FLAG, RemoteDevCommand

DAV_PATH = "remote-dev/dav/"
TOKEN_PLACEHOLDER = "<your token>"


def drive_url(server_url: str) -> str:
    """The WebDAV URL of a server whose base URL is ``server_url`` (ending in ``/``)."""
    return server_url + DAV_PATH


def setups(url: str, user: str, token: str, remote: str) -> dict[str, str]:
    """Ready-to-paste setup text per client, keyed by name."""
    parts = urlsplit(url)
    dav_scheme = "davs" if parts.scheme == "https" else "dav"
    gio_url = f"{dav_scheme}://{user}@{parts.netloc}{parts.path}"
    quoted = shlex.quote
    windows_note = (
        "Windows' own WebClient sends Basic auth over HTTPS only and stops at 50 MB per file "
        "(the FileSizeLimitInBytes registry value); rclone mount with WinFsp has neither limit."
    )
    return {
        "rclone": (
            f"rclone config create {remote} webdav url={quoted(url)} vendor=other "
            f"user={quoted(user)} pass={quoted(token)} --obscure"
        ),
        "rclone mount": f"rclone mount {remote}: ~/{remote} --vfs-cache-mode writes",
        "linux (GNOME Files, gio)": f"gio mount {quoted(gio_url)}   # password: the token",
        "linux (davfs2)": (
            f"sudo mount -t davfs -o uid=$(id -u),gid=$(id -g) {quoted(url)} /mnt/{remote}"
            "   # user: any, password: the token"
        ),
        "macOS Finder": f"Go > Connect to Server (Cmd-K): {url}   (name: any, password: the token)",
        "windows": (
            f"net use R: {url} /user:{user} {token}\n"
            f"  {windows_note}\n"
            f"  rclone: rclone mount {remote}: R: --vfs-cache-mode writes"
        ),
    }


class DriveApp(RemoteDevCommand):
    """Print the WebDAV URL of the server and how to mount it on each OS."""

    name = "jupyter-remote-dev-drive"
    description = __doc__
    synopsis = "[--profile NAME] [--remote NAME] [--show-token] [--json]"

    show_token = Bool(False, config=True, help="Print the token in the setups (it is a secret).")
    remote_name = Unicode("remote-dev", config=True, help="Name of the rclone remote and mount.")
    flags = {
        **RemoteDevCommand.flags,
        **JSON_FLAG,
        "show-token": ({"DriveApp": {"show_token": True}}, "Print the token in the setups."),
    }
    aliases = {**RemoteDevCommand.aliases, "remote": "DriveApp.remote_name"}

    def run(self) -> int:
        profile = self.load_profile()
        url = drive_url(profile.url)
        user = profile.user or "me"
        token = profile.token if self.show_token else TOKEN_PLACEHOLDER
        found = setups(url, user, token, self.remote_name)
        self.out.line(f"WebDAV URL: {url}")
        self.out.line(f"user name: any (e.g. {user}); password: the profile's token")
        if not self.show_token:
            self.out.line("(the token is left out: add --show-token to print it)")
        for name, text in found.items():
            self.out.line(f"\n{name}:\n  {text}")
        self.out.result({"url": url, "user": user, "setups": found})
        return 0
