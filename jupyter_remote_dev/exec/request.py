"""The body of POST exec, checked field by field before anything runs."""

from __future__ import annotations

import base64
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RemoteDevError
from ..files.fileio import resolve_folder

FIELDS = (
    "argv", "shell", "cwd", "env", "stdin", "stdin_b64", "stdin_stream", "timeout", "detachable"
)  # fmt: skip


@dataclass(frozen=True)
class ExecRequest:
    """A validated command: what to run, where, with what, for how long."""

    argv: list[str]
    """What is executed (for ``shell``, the configured shell prefix plus the command line)."""
    cwd: Path
    cwd_display: str
    """``cwd`` as the client gave it, relative to the server root ("" for the root)."""
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes | None = None
    stdin_stream: bool = False
    """stdin stays open for ``POST exec/<id>/stdin`` (the CLI forwards its own stdin so)."""
    timeout: float | None = None
    detachable: bool = False
    original_argv: list[str] | None = None
    shell: str | None = None


def _fail(message: str) -> RemoteDevError:
    return RemoteDevError(message, status=400)


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _fail(f"{name} must be a string, got {type(value).__name__}")
    if "\0" in value:
        raise _fail(f"{name} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # no OS call can take it; the JSON reader refuses it first
        raise _fail(f"{name} must be valid Unicode text (it holds a lone surrogate)") from None
    return value


def _seconds(value: Any, name: str) -> float | None:
    """A positive, finite number of seconds (None when absent); NaN, infinities, numbers too big
    for a float, strings and booleans are refused (NaN would pass every ``>`` limit check)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"{name} must be a number of seconds, got {type(value).__name__}")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds) or seconds <= 0:
        raise _fail(f"{name} must be a positive, finite number of seconds")
    return seconds


def resolve_cwd(root: str | os.PathLike, cwd: str, allow_hidden: bool) -> Path:
    """``cwd`` resolved inside ``root`` by the files API's rules; 400 if it leaves it or is no
    folder (an escaping cwd is a malformed request here: nothing has been touched)."""
    try:
        return resolve_folder(root, cwd, allow_hidden)
    except RemoteDevError as error:
        raise _fail(f"cwd {cwd!r}: {error.message}") from error


def parse_exec_request(
    body: Any,
    *,
    root: str | os.PathLike,
    shell: list[str],
    max_timeout: float,
    allow_hidden: bool = False,
) -> ExecRequest:
    """Check a decoded POST exec body and build the request, or raise a 400 naming the problem."""
    if not isinstance(body, dict):
        raise _fail('the body must be a JSON object such as {"argv": ["make", "test"]}')
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise _fail(f"unknown field(s) {', '.join(unknown)}; expected some of {', '.join(FIELDS)}")
    if ("argv" in body) == ("shell" in body):
        raise _fail("give exactly one of argv (a list of strings) or shell (a command line)")
    if "argv" in body:
        argv = body["argv"]
        if not isinstance(argv, list) or not argv:
            raise _fail("argv must be a non-empty list of strings")
        argv = [_text(arg, "each argv item") for arg in argv]
        if not argv[0]:
            raise _fail("argv[0] must name a program")
        command, original, line = argv, argv, None
    else:
        line = _text(body["shell"], "shell")
        if not line.strip():
            raise _fail("shell must be a non-empty command line")
        command, original = [*shell, line], None
    cwd_text = _text(body.get("cwd", ""), "cwd")
    cwd = resolve_cwd(root, cwd_text, allow_hidden)
    env = body.get("env", {})
    if not isinstance(env, dict):
        raise _fail("env must be an object of variable names to string values")
    for name, value in env.items():
        if not name or "=" in name or "\0" in name:
            raise _fail(f"env name {name!r} is not a valid variable name")
        _text(value, f"env[{name!r}]")
    if "stdin" in body and "stdin_b64" in body:
        raise _fail("give at most one of stdin (text) or stdin_b64 (base64 bytes)")
    stdin = None
    if "stdin" in body:
        stdin = _text(body["stdin"], "stdin").encode("utf-8")
    elif "stdin_b64" in body:
        try:
            stdin = base64.b64decode(_text(body["stdin_b64"], "stdin_b64"), validate=True)
        except ValueError as error:  # binascii.Error, or a character outside ASCII
            raise _fail(f"stdin_b64 is not valid base64: {error}") from error
    stdin_stream = body.get("stdin_stream", False)
    if not isinstance(stdin_stream, bool):
        raise _fail("stdin_stream must be true or false")
    if stdin_stream and stdin is not None:
        raise _fail("give stdin/stdin_b64 (all at once) or stdin_stream (piece by piece), not both")
    timeout = _seconds(body.get("timeout"), "timeout")
    if timeout is not None and max_timeout and timeout > max_timeout:
        raise _fail(f"timeout {timeout:g} s is over the server's limit of {max_timeout:g} s")
    detachable = body.get("detachable", False)
    if not isinstance(detachable, bool):
        raise _fail("detachable must be true or false")
    return ExecRequest(
        argv=command,
        cwd=cwd,
        cwd_display=cwd_text,
        env=dict(env),
        stdin=stdin,
        stdin_stream=stdin_stream,
        timeout=timeout if timeout is not None else (max_timeout or None),
        detachable=detachable,
        original_argv=original,
        shell=line,
    )
