"""A git client for tests of the team repository over HTTP: no user config, no prompts."""

from __future__ import annotations

import base64
import subprocess


def git(*args, cwd=None, user=None, token=None, check=True):
    """git with no user config, and Basic credentials in a header when given."""
    options = ["-c", "credential.helper=", "-c", "protocol.version=2"]
    if user is not None:
        basic = base64.b64encode(f"{user}:{token}".encode()).decode()
        options += ["-c", f"http.extraHeader=Authorization: Basic {basic}"]
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x", "LANG": "C"}  # fmt: skip
    result = subprocess.run(["git", *options, *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result
