"""Reading a JSON request body that may be hostile: every failure is a 400 naming the problem.

jupyter_server's ``get_json_body`` decodes the body outside its ``try``, so a body that is not
UTF-8 raised a 500. Python's ``json`` also accepts ``NaN``/``Infinity`` (not JSON), decodes
``"\\ud800"`` to a lone surrogate that no OS call can encode, and recurses on nesting.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import RemoteDevError

_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_constants(name: str) -> float:
    raise RemoteDevError(f"the body is not valid JSON: {name} is not a JSON number")


def parse_json_body(raw: bytes) -> Any:
    """The decoded JSON value of ``raw``; a 400 :class:`RemoteDevError` for an empty body,
    bytes that are not UTF-8, invalid JSON (``NaN``/``Infinity`` included), nesting too deep
    to decode, or a string or key holding a lone surrogate."""
    if not raw.strip():
        raise RemoteDevError("the body is empty: expected a JSON document")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RemoteDevError(
            f"the body is not UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start}); "
            "JSON must be UTF-8 text"
        ) from None
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except ValueError as error:
        raise RemoteDevError(f"the body is not valid JSON: {error}") from None
    except RecursionError:
        raise RemoteDevError("the body is not usable JSON: nested too deeply") from None
    where = _lone_surrogate_at(value)
    if where is not None:
        raise RemoteDevError(
            f"the body has a lone surrogate (an unpaired \\ud800-\\udfff escape) at {where}: "
            "JSON strings must be valid Unicode"
        )
    return value


def _lone_surrogate_at(value: Any) -> str | None:
    """The JSON path (``$.argv[1]``) of the first string or key holding a lone surrogate."""
    pending = [("$", value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return where
        elif isinstance(item, dict):
            for key, child in item.items():
                if _SURROGATE.search(key):
                    return f"{where} (a key)"
                pending.append((f"{where}.{key}", child))
        elif isinstance(item, list):
            pending.extend((f"{where}[{index}]", child) for index, child in enumerate(item))
    return None
