"""Request headers of the files API (ETags, ranges, hashes, modes) parsed into plain values."""

from __future__ import annotations

import re

from ..errors import PathError, RemoteDevError

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def parse_etags(header: str | None) -> list[str] | None:
    """``If-Match``/``If-None-Match`` values without quotes and ``W/``; ``["*"]`` for ``*``."""
    if header is None:
        return None
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return [t for t in tags if t]


def parse_file_mode(value: str | None) -> int | None:
    """``X-File-Mode`` (octal permission bits, e.g. ``755``) as an int, or None."""
    if value is None:
        return None
    try:
        mode = int(value, 8)
    except ValueError:
        raise PathError(f"X-File-Mode must be octal permission bits, got {value!r}") from None
    if not 0 <= mode <= 0o777:
        raise PathError(f"X-File-Mode allows permission bits only (<= 777), got {value!r}")
    return mode


def parse_sha256(value: object, name: str = "X-Content-SHA256") -> str | None:
    """A lower-case hex sha256 or None; anything else (a number, an object) is a 400."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RemoteDevError(f"{name} must be a string of 64 hex digits")
    value = value.strip().lower()
    if not _SHA256.match(value):
        raise RemoteDevError(f"{name} must be 64 hex digits, got {value[:70]!r}")
    return value


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` as (start, stop) with stop exclusive; None for the whole file.

    Several ranges are answered with the whole file (allowed by RFC 9110); an unsatisfiable
    range raises 416.
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes=") :].strip().partition("-")
    try:
        if first == "":
            start, stop = max(size - int(last), 0), size
        else:
            start = int(first)
            stop = min(int(last) + 1, size) if last else size
    except ValueError:
        return None
    if start >= size or stop <= start:
        raise RemoteDevError(f"range {header!r} is outside the file's {size} bytes", status=416)
    return start, stop


def parse_content_range(header: str | None) -> tuple[int, int, int]:
    """``Content-Range: bytes a-b/total`` as (start, stop exclusive, total); else 400."""
    found = _CONTENT_RANGE.match((header or "").strip())
    if not found:
        raise RemoteDevError("Content-Range 'bytes <first>-<last>/<total>' is required")
    first, last, total = map(int, found.groups())
    if last < first or last >= total:
        raise RemoteDevError(f"invalid Content-Range {header!r}")
    return first, last + 1, total
