"""login and logout: a profile's server URL and token."""

from __future__ import annotations

from traitlets import Bool, Unicode

from .. import profiles
from ..errors import ClientError
from ..hub import HubClient
from ..profiles import Profile, ProfileError
from .base import JSON_FLAG, START_FLAG, CommandLineError, RemoteDevCommand


class LoginApp(RemoteDevCommand):
    """Log in to a Jupyter server (the token is asked for, never an argument)."""

    name = "jupyter-remote-dev-login"
    description = __doc__
    synopsis = "URL [--profile NAME] [--token-stdin] [--ca-bundle PEM]"
    token_stdin = Bool(False, config=True, help="Read the token from the first line of stdin.")
    ca_bundle = Unicode(
        "", config=True, help="CA bundle (PEM) to verify the server's TLS certificate."
    )
    insecure = Bool(False, config=True, help="Do not verify TLS certificates (testing only).")
    aliases = {**RemoteDevCommand.aliases, "ca-bundle": "LoginApp.ca_bundle"}
    flags = {
        **RemoteDevCommand.flags,
        **JSON_FLAG,
        **START_FLAG,
        "token-stdin": ({"LoginApp": {"token_stdin": True}}, "Read the token from stdin."),
        "insecure": ({"LoginApp": {"insecure": True}}, "Skip TLS certificate checks."),
    }

    def run(self) -> int:
        if len(self.extra_args) != 1:
            raise CommandLineError(f"usage: {self.usage} (the token is never an argument)")
        given = profiles.read_server_url(self.extra_args[0])
        url, target = given.url, given.hub
        token = profiles.read_token(self.token_stdin)
        verify: bool | str = False if self.insecure else (self.ca_bundle or True)
        name = profiles.profile_name(self.profile)
        profile = Profile(name, url, token, verify=verify)
        if target is not None:
            self.check_hub_identity(target, token, verify, given.guessed_server)
            profile.kind, profile.user = "hub", target.user
            profile.server_name, profile.hub_api_url = target.server_name, target.hub_api_url
        with self.connect(profile):
            info = self.server_info
        path = profiles.save(profile)
        who = f" as {profile.user}" if profile.user else ""
        self.out.line(
            f"logged in to {url}{who} (profile {name!r}, server version {info['version']})"
        )
        self.out.note(f"saved in {path}")
        self.out.result({"profile": profile.public_dict(), "server": info})
        return 0

    def check_hub_identity(self, target, token: str, verify, guessed_server: bool) -> None:
        """whoami through the hub API; the token's owner must be the URL's user. A named server
        read from an unfamiliar URL must exist on the hub: it is never created by a guess."""
        hub = HubClient(target, token, verify)
        try:
            me = hub.whoami()
            if me.get("name") != target.user:
                owner = f"{me.get('kind', 'user')} {me.get('name')!r}"
                raise ClientError(
                    f"this token belongs to {owner}, but the URL is the server of "
                    f"{target.user!r}; use a token of that user"
                )
            if guessed_server and target.server_name not in hub.server_names():
                raise ClientError(
                    f"{target.user!r} has no server named {target.server_name!r} on the hub; "
                    "give the server's own URL, e.g. .../user/<name>/ or .../user/<name>/<server>/"
                )
        finally:
            hub.close()


class LogoutApp(RemoteDevCommand):
    """Forget a profile and its token (revoke the token on the hub too)."""

    name = "jupyter-remote-dev-logout"
    description = __doc__
    synopsis = "[--profile NAME]"
    flags = {**RemoteDevCommand.flags, **JSON_FLAG}

    def run(self) -> int:
        name = profiles.profile_name(self.profile)
        if not profiles.remove(name):
            raise ProfileError(f"no profile {name!r} to log out of")
        self.out.line(f"logged out: profile {name!r} removed (revoke the token on the hub too)")
        self.out.result({"removed": name})
        return 0
