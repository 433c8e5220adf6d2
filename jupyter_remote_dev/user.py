"""Who this server's user is, the one answer every area uses."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping

LOGIN_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")
"""What :func:`getpass.getuser` reads before the passwd database, in its order."""


def current_user(environ: Mapping[str, str] | None = None) -> str:
    """$JUPYTERHUB_USER under JupyterHub, else the login name (as :func:`getpass.getuser` finds
    it), else ``uid-<n>`` for a uid without a passwd entry, as in some container images."""
    env = os.environ if environ is None else environ
    for name in ("JUPYTERHUB_USER", *LOGIN_VARIABLES):
        if env.get(name):
            return env[name]
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid-{os.getuid()}"
