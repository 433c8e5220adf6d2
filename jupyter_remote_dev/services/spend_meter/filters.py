"""OpenCost's v2 filter language for allocations, the subset a single machine needs.

``<field><op>"<value>"[,"<value>"...]`` clauses joined by ``+`` (and) or ``|`` (or), not both
(contracts.md section 1.5). Fields: ``cluster``, ``node``, ``namespace``, ``pod``, ``container``,
``controllerName``, ``controllerKind``, ``label[<k>]``, ``annotation[<k>]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ...cost.model import sanitize_label_name
from .windows import ParameterError

FIELDS = ("cluster", "node", "namespace", "pod", "container", "controllerName", "controllerKind")
_CLAUSE = re.compile(
    r'\s*(?:(label|annotation)\[([^\]]+)\]|([A-Za-z]+))\s*(!?(?:<~|~>|~)?:)\s*((?:"[^"]*"\s*,\s*)*"[^"]*")\s*\Z'
)
_VALUE = re.compile(r'"([^"]*)"')
_TESTS: dict[str, Callable[[str, str], bool]] = {
    ":": lambda have, want: have == want,
    "~:": lambda have, want: want in have,
    "<~:": lambda have, want: have.startswith(want),
    "~>:": lambda have, want: have.endswith(want),
}

#: An allocation's properties: plain fields, plus "labels"/"annotations" keyed by sanitized name.
Properties = dict
Predicate = Callable[[Properties], bool]


def _split(text: str) -> tuple[list[str], str]:
    """Clauses and their joiner, splitting on + and | outside quotes and brackets."""
    parts, joiners, current, quoted, bracket = [], set(), "", False, False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char in "[]" and not quoted:
            bracket = char == "["
        elif char in "+|" and not quoted and not bracket:
            parts.append(current)
            joiners.add(char)
            current = ""
            continue
        current += char
    parts.append(current)
    if len(joiners) > 1:
        raise ParameterError("filter", "mixing + and | needs parentheses, which are not supported")
    return parts, joiners.pop() if joiners else "+"


def _clause(text: str) -> Predicate:
    match = _CLAUSE.match(text)
    if not match:
        raise ParameterError("filter", f"cannot parse {text.strip()!r}")
    kind, key, field, op, values_text = match.groups()
    if field and field not in FIELDS:
        raise ParameterError("filter", f"unknown field {field!r}")
    values = _VALUE.findall(values_text)
    negate = op.startswith("!")
    test = _TESTS[op.lstrip("!")]
    key = sanitize_label_name(key) if key else None

    def predicate(properties: Properties) -> bool:
        have = (properties.get(kind + "s") or {}).get(key) if kind else properties.get(field)
        if have is None:
            return negate
        found = any(test(have, want) for want in values)
        return found != negate

    return predicate


def parse_filter(text: str) -> Predicate:
    """A predicate over allocation properties; raises :class:`ParameterError`."""
    if not text.strip():
        return lambda properties: True
    parts, joiner = _split(text)
    predicates = [_clause(part) for part in parts]
    combine = all if joiner == "+" else any
    return lambda properties: combine(p(properties) for p in predicates)
