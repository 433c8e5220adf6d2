"""The DAG IDs a Python file declares literally, read from its syntax tree without running it.

Every way Airflow 2 and 3 let a file declare a DAG is recognised: ``@dag``, ``@dag(...)``,
``@module.dag(...)`` and aliases (``from airflow.sdk import dag as d``), where the ID is the
``dag_id`` argument (by keyword or position) or else the function's name; and ``DAG(...)`` /
``module.DAG(...)`` calls (``with DAG(...)``, ``x = DAG(dag_id=...)``). An ID may be a string
literal or a module-level string constant; anything computed (f-strings, concatenation,
``**kwargs``) is not guessed at. The branch policy follows references to exactly these IDs.
"""

from __future__ import annotations

import ast
import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)

DECLARERS = frozenset({"dag", "DAG"})
#: A file can declare a DAG only if it names ``dag`` or ``DAG`` somewhere.
_MAY_DECLARE = re.compile(rb"\b(?:dag|DAG)\b")
_UNKNOWN = object()


def file_dag_ids(path: str | os.PathLike) -> list[str]:
    """The DAG IDs one Python file declares literally; [] for files that cannot declare a DAG or
    do not parse (Airflow reports those)."""
    data = Path(path).read_bytes()
    if not _MAY_DECLARE.search(data):
        return []
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        log.warning("not scanning %s for DAG IDs: it does not parse", path)
        return []
    return sorted(dag_ids(tree))


def dag_ids(tree: ast.Module) -> set[str]:
    """The literal DAG IDs of a parsed module."""
    names = DECLARERS | _imported_aliases(tree)
    constants = _string_constants(tree)
    found: set[str] = set()
    decorators: set[int] = set()
    for node in ast.walk(tree):  # breadth first: a function comes before its decorators
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                call = deco if isinstance(deco, ast.Call) else None
                if _callee(call.func if call else deco) not in names:
                    continue
                if call is None:
                    found.add(node.name)
                    continue
                decorators.add(id(call))
                dag_id = _dag_id_argument(call, constants)
                if dag_id is not _UNKNOWN:
                    found.add(dag_id or node.name)  # Airflow: dag_id or the function's name
        elif isinstance(node, ast.Call) and id(node) not in decorators:
            if _callee(node.func) in names:
                dag_id = _dag_id_argument(node, constants)
                if dag_id is not _UNKNOWN and dag_id:
                    found.add(dag_id)
    return found


def _callee(node: ast.expr) -> str:
    """``dag`` for ``dag``, ``af.dag`` and ``airflow.sdk.dag``; '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _imported_aliases(tree: ast.Module) -> set[str]:
    """Local names bound to Airflow's ``dag``/``DAG`` by ``from airflow... import dag as x``."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "airflow":
            aliases.update(a.asname for a in node.names if a.name in DECLARERS and a.asname)
    return aliases


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level names assigned a string exactly once (``DAG_ID = "etl"``)."""
    values: dict[str, str | None] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            literal = value.value if isinstance(value, ast.Constant) else None
            fresh = target.id not in values and isinstance(literal, str)
            values[target.id] = literal if fresh else None
    return {name: value for name, value in values.items() if value is not None}


def _dag_id_argument(call: ast.Call, constants: dict[str, str]):
    """The ``dag_id`` a call passes (keyword or first positional): a string, None if it passes
    none, or ``_UNKNOWN`` if it is computed."""
    given = [kw.value for kw in call.keywords if kw.arg == "dag_id"] or call.args[:1]
    if not given:
        return _UNKNOWN if any(kw.arg is None for kw in call.keywords) else None
    value = given[0]
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    if isinstance(value, ast.Name) and value.id in constants:
        return constants[value.id]
    return _UNKNOWN
