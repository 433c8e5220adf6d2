"""A stream's output as event fields: text as ``data`` when it is UTF-8, else ``data_b64``."""

from __future__ import annotations

import base64


def _utf8_tail_start(data: bytes) -> int:
    """Where a trailing, incomplete UTF-8 sequence starts in ``data`` (``len(data)`` if none)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: look further back for the lead byte
            continue
        need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4 if byte >= 0xF0 else 1
        return len(data) - back if need > back else len(data)
    return len(data)


class OutputEncoder:
    """Turns one stream's chunks into event fields: ``data`` (valid UTF-8) or ``data_b64``.

    A multi-byte character split between two reads is held back (at most 3 bytes) until its end
    arrives, so ordinary text always travels as ``data``. A chunk that is not valid UTF-8 travels
    whole as ``data_b64``. Concatenating the decoded bytes of the events gives the output exactly.
    """

    def __init__(self) -> None:
        self._pending = b""

    def encode(self, chunk: bytes, final: bool = False) -> tuple[dict, int] | None:
        """Event fields and the byte count for ``chunk`` (None when nothing is ready yet)."""
        data = self._pending + chunk
        cut = len(data) if final else _utf8_tail_start(data)
        head, self._pending = data[:cut], data[cut:]
        if not head:
            return None
        try:
            return {"data": head.decode("utf-8")}, len(head)
        except UnicodeDecodeError:
            self._pending = b""
            return {"data_b64": base64.b64encode(data).decode("ascii")}, len(data)
