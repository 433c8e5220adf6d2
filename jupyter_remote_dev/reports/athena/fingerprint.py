"""Group SQL by its shape: literals, comments, case and spacing removed.

``SELECT * FROM logs WHERE day = '2026-11-23' AND n > 5`` and the same query for another day have
one fingerprint, so a query a scheduler runs 500 times is one line of the report. The normalised
text is what the report shows: no literal (a customer id, an e-mail) leaves the query history.
"""

from __future__ import annotations

import hashlib
import re

_TOKEN = re.compile(
    r"""
    (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^']|'')*(?:'|\Z))
  | (?P<quoted>"(?:[^"]|"")*(?:"|\Z)|`[^`]*(?:`|\Z))
  | (?P<word>[^\W\d][\w$]*)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
#: Words that make the literal after them one literal: DATE '2026-01-01', X'00ff'.
_LITERAL_TYPES = frozenset({"date", "time", "timestamp", "interval", "decimal", "x"})
#: Words followed by a space before "(": everything else before "(" is a function call, count(*).
_SPACED_BEFORE_PAREN = frozenset(
    "and as by else exists from in join not on or over select table then using values when "
    "where with".split()
)
_LIST = re.compile(r"\bin \(\?(?:, \?)*\)")
_TABLE = re.compile(
    r"\b(?:from|join)\s+((?:\"[^\"]+\"|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|[\w$]+)){0,2})",
    re.IGNORECASE,
)
_SELECT_STAR = re.compile(r"\bselect\s+(?:distinct\s+)?(?:[\w\"]+\s*\.\s*)?\*", re.IGNORECASE)


def normalize(sql: str) -> str:
    """``sql`` with comments dropped, literals as ``?``, ``IN`` lists of literals as ``in (?+)``,
    lower case outside quoted identifiers, one space between tokens."""
    out: list[str] = []
    for match in _TOKEN.finditer(sql):
        kind, text = match.lastgroup, match.group()
        if kind in ("string", "number"):
            if kind == "string" and out and out[-1] in _LITERAL_TYPES:
                out.pop()
            out.append("?")
        elif kind == "quoted":
            out.append(text)
        elif kind in ("word", "other"):
            out.append(text.lower())
    text, before = "", ""
    for token in out:
        call = token == "(" and before.isidentifier() and before not in _SPACED_BEFORE_PAREN
        glued = call or token in ").," or text.endswith(("(", "."))
        text += token if glued or not text else " " + token
        before = token
    text = _LIST.sub("in (?+)", text)
    return text.rstrip("; ")


def fingerprint(sql: str) -> str:
    """A short stable id of the normalised text."""
    return hashlib.sha256(normalize(sql).encode()).hexdigest()[:16]


def tables(normalized: str) -> list[str]:
    """Tables named after FROM or JOIN in a normalised query, as written (``db.table``)."""
    found = []
    for match in _TABLE.finditer(normalized):
        name = re.sub(r"\s+", "", match.group(1))
        if name.lower() not in ("select", "unnest", "(") and name not in found:
            found.append(name)
    return found


def selects_star(normalized: str) -> bool:
    """Whether the query selects every column (``SELECT *`` or ``SELECT t.*``)."""
    return bool(_SELECT_STAR.search(normalized))


def where_clause(normalized: str) -> str:
    """The text after the first WHERE (empty when none): where partition filters would be."""
    head, sep, tail = normalized.partition(" where ")
    return tail if sep else ""
