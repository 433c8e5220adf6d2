"""Plain advice for the common ways Athena money is wasted, one rule per function.

Each rule looks at one query group (the executions sharing a fingerprint) and, where the table
metadata helps, at the tables it reads. A rule that cannot tell (no metadata, say) gives no hint.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .fingerprint import selects_star, tables, where_clause

#: ``(catalog, database, table, workgroup) -> {"columns", "partition_keys"} | None``
TableInfo = Callable[[str, str, str, str], "dict | None"]


@dataclass(frozen=True)
class HintSettings:
    wide_columns: int = 20
    rerun_threshold: int = 3


def split_table(name: str, catalog: str, database: str) -> tuple[str, str, str]:
    """``[catalog.][database.]table`` (quoted parts unquoted), filled from the query context."""
    parts = [p.strip('"`').lower() for p in re.findall(r'"[^"]+"|`[^`]+`|[^.]+', name)]
    parts = [catalog, database][: 3 - len(parts)] + parts if len(parts) < 3 else parts[-3:]
    return parts[0], parts[1], parts[2]


def full_partition_scan(sql: str, meta: dict, table: str) -> str | None:
    keys = meta.get("partition_keys") or []
    where = where_clause(sql)
    if keys and not any(re.search(rf'\b"?{re.escape(k)}"?\b', where) for k in keys):
        return (
            f"reads every partition of {table}: filter on its partition "
            f"column{'s' if len(keys) > 1 else ''} {', '.join(keys)} in WHERE"
        )
    return None


def select_star_wide(sql: str, meta: dict, table: str, wide: int) -> str | None:
    if selects_star(sql) and meta.get("columns", 0) >= wide:
        return (
            f"SELECT * reads all {meta['columns']} columns of {table}: name the columns you need "
            "(columnar formats such as Parquet then read only those)"
        )
    return None


def rerun(identical_runs: int, threshold: int) -> str | None:
    if identical_runs >= threshold:
        return (
            f"the same query, literals and all, ran {identical_runs} times: turn on query result "
            "reuse in the workgroup or keep the result instead of scanning again"
        )
    return None


def hints_for(group: dict, context: tuple[str, str, str], info: TableInfo, settings) -> list:
    """Hints for one query group; ``context`` is (catalog, database, workgroup) of a sample run."""
    catalog, database, workgroup = context
    found = []
    for name in tables(group["sql"]):
        parts = split_table(name, catalog or "awsdatacatalog", database or "default")
        meta = info(*parts, workgroup)
        if not meta:
            continue
        label = ".".join(parts[1:])
        for kind, text in (
            ("full-partition-scan", full_partition_scan(group["sql"], meta, label)),
            (
                "select-star-wide",
                select_star_wide(group["sql"], meta, label, settings.wide_columns),
            ),
        ):
            if text:
                found.append({"kind": kind, "table": label, "text": text})
    text = rerun(group["identical_runs"], settings.rerun_threshold)
    if text:
        found.append({"kind": "rerun", "table": None, "text": text})
    return found
