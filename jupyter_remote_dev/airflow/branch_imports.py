"""Branch-local imports: a branch's DAG files import the branch's own helper modules.

A branch folder ``<branch root>/<slug>/`` is the branch's copy of the whole DAGs folder, so a
DAG in it that says ``from lib.util import x`` means the branch's ``lib/util.py``, as the same
line in the main DAGs folder means main's. Airflow puts only the bundle root on ``sys.path``,
and one process may parse main's DAGs and several branches' in turn (``airflow dags
reserialize``, Airflow 2's processor), where ``sys.modules`` would hand a branch main's (or another
branch's) already-imported ``lib``. :func:`prepare_imports` runs just before Airflow imports each
DAG file (through the ``get_dagbag_import_timeout`` policy hook, the one hook Airflow calls per
file before running it) and:

* puts the file's branch folder on ``sys.path`` just before the DAG folders (the DAGs folder and
  the branch roots, which Airflow appends after the installed packages), and takes the previous
  one off;
* forgets modules imported from any other branch folder;
* for a branch file, forgets already-imported modules of the names the branch folder provides
  at its top level (``lib`` above), unless they are the standard library's or installed packages'.

Standard library only, like :mod:`.policy`.
"""

from __future__ import annotations

import os
import sys
import sysconfig

#: The branch folder this module put on ``sys.path`` for the file being parsed, if any.
_current: list[str] = []


def prepare_imports(branch_dir: str | None, roots: list[str]) -> None:
    """Set up imports for a DAG file in ``branch_dir`` (None: a file outside every branch)."""
    while _current:
        folder = _current.pop()
        while folder in sys.path:
            sys.path.remove(folder)
    branch_real = os.path.realpath(branch_dir) if branch_dir else None
    prefixes = tuple(os.path.realpath(root) + os.sep for root in roots)
    shadowed = _top_level_names(branch_dir) if branch_dir else set()
    for name, module in list(sys.modules.items()):
        where = _module_path(module)
        if where is None:
            continue
        in_branch = branch_real is not None and where.startswith(branch_real + os.sep)
        if in_branch:
            continue
        if where.startswith(prefixes) or (
            name.partition(".")[0] in shadowed and not _installed(name, where)
        ):
            del sys.modules[name]
    if branch_dir:
        sys.path.insert(_dag_folders_position(roots), branch_dir)
        _current.append(branch_dir)


def _dag_folders_position(roots: list[str]) -> int:
    """Where DAG folders start on ``sys.path``: after the standard library and installed packages
    (Airflow appends its DAGs folder and bundle roots there), before the first DAG folder. So a
    branch folder shadows main's helpers, never an installed package."""
    folders = {os.path.realpath(p) for p in roots}
    settings = sys.modules.get("airflow.settings")
    if isinstance(getattr(settings, "DAGS_FOLDER", None), str):
        folders.add(os.path.realpath(settings.DAGS_FOLDER))
    first_dag_folder, after_installed = len(sys.path), 0
    for index, entry in enumerate(sys.path):
        real = os.path.realpath(entry) if entry else ""
        if real in folders:
            first_dag_folder = min(first_dag_folder, index)
        elif (real + os.sep).startswith(_INSTALL_PREFIXES):
            after_installed = index + 1
    return min(first_dag_folder, after_installed)


def _module_path(module) -> str | None:
    """The real path of a module's file (or a namespace package's first folder)."""
    location = getattr(module, "__file__", None)
    if not location:
        paths = list(getattr(module, "__path__", None) or [])
        location = paths[0] if paths else None
    return os.path.realpath(location) if isinstance(location, str) else None


def _top_level_names(folder: str) -> set[str]:
    """Importable top-level names in ``folder``: ``x.py`` modules and package folders."""
    try:
        entries = os.scandir(folder)
    except OSError:
        return set()
    names = set()
    with entries:
        for entry in entries:
            stem, ext = os.path.splitext(entry.name)
            if entry.is_dir() and entry.name.isidentifier():
                names.add(entry.name)
            elif ext == ".py" and stem.isidentifier():
                names.add(stem)
    return names


def _installed(name: str, where: str) -> bool:
    """True for the standard library and installed packages: never shadowed by a branch."""
    if name.partition(".")[0] in sys.stdlib_module_names:
        return True
    return where.startswith(_INSTALL_PREFIXES)


_INSTALL_PREFIXES = tuple(
    {
        os.path.realpath(path) + os.sep
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (path := sysconfig.get_paths().get(key))
    }
)
