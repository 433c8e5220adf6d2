"""Credentials through ``GIT_ASKPASS``: the token is read at run time, never stored.

The helper is a tiny shell script, written once per process into a private (0700) directory. It
holds no secret: when git asks for a password it prints ``$JUPYTER_REMOTE_DEV_GIT_TOKEN`` or the
first line of the file named by ``$JUPYTER_REMOTE_DEV_GIT_TOKEN_FILE``. So the token never appears
in ``.git/config``, a remote URL, a command line, a log line or a status answer; :func:`redact`
scrubs it from any git output we pass on, as a second line of defence.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

TOKEN_ENV = "JUPYTER_REMOTE_DEV_GIT_TOKEN"
TOKEN_FILE_ENV = "JUPYTER_REMOTE_DEV_GIT_TOKEN_FILE"
USERNAME_ENV = "JUPYTER_REMOTE_DEV_GIT_USERNAME"

ASKPASS_SCRIPT = f"""#!/bin/sh
# git credential prompt helper of jupyter-remote-dev; holds no secret itself.
case "$1" in
  [Uu]sername*) printf '%s\\n' "${{{USERNAME_ENV}:-x-access-token}}" ;;
  *)
    if [ -n "${{{TOKEN_ENV}}}" ]; then
      printf '%s\\n' "${TOKEN_ENV}"
    elif [ -n "${{{TOKEN_FILE_ENV}}}" ]; then
      head -n 1 -- "${TOKEN_FILE_ENV}" | tr -d '\\r\\n'; echo
    fi ;;
esac
"""


@functools.cache
def askpass_path() -> str:
    """Path of the askpass helper, created on first use and removed when the process exits."""
    folder = tempfile.mkdtemp(prefix="remote-dev-askpass-")
    atexit.register(shutil.rmtree, folder, True)
    script = Path(folder, "askpass.sh")
    script.write_text(ASKPASS_SCRIPT)
    script.chmod(0o700)
    return str(script)


def askpass_env(http_username: str, token_file: str | None) -> dict[str, str]:
    """Environment for a git child process that may need to authenticate over HTTP(S)."""
    env = {
        "GIT_ASKPASS": askpass_path(),
        "GIT_TERMINAL_PROMPT": "0",
        USERNAME_ENV: http_username,
    }
    if token_file:
        env[TOKEN_FILE_ENV] = token_file
    return env


def current_tokens(token_file: str | None) -> list[str]:
    """The token values that must never be shown (from the environment and the token file)."""
    tokens = [os.environ.get(TOKEN_ENV, "").strip()]
    path = token_file or os.environ.get(TOKEN_FILE_ENV)
    if path:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                tokens.append(handle.readline().strip())
        except OSError:
            pass
    return [token for token in tokens if len(token) >= 4]


def redact(text: str, token_file: str | None = None) -> str:
    """``text`` with every known token replaced by ``***``."""
    for token in current_tokens(token_file):
        text = text.replace(token, "***")
    return text
