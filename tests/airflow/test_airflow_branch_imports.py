"""Branch-local imports without Airflow: the per-file import setup the policy runs, in a fresh
interpreter (it changes sys.path and sys.modules)."""

import json
import subprocess
import sys
import textwrap

from ..support.airflow_support import write_tree

SCRIPT = textwrap.dedent(
    """\
    import importlib, json, sys
    from jupyter_remote_dev.airflow.branch_imports import prepare_imports

    main, root, a, b = sys.argv[1:5]
    sys.path += [main, root]  # as Airflow: DAGs folder and bundle root after installed packages

    def value(branch_dir):
        prepare_imports(branch_dir, [root])
        return importlib.import_module("lib.util").VALUE

    seen = [value(a), value(None), value(b), value(a), value(None)]
    prepare_imports(a, [root])
    import httpx
    print(json.dumps({"seen": seen, "httpx": httpx.__file__}))
    """
)


def test_branch_imports_each_file_gets_its_own_folders_helpers(tmp_path):
    """Branch A, main, branch B, A again, main again: each import sees its own lib/util.py; a
    branch folder named like an installed package (httpx/) does not replace the package."""
    main, root = tmp_path / "dags", tmp_path / "branches"
    write_tree(main, {"lib/__init__.py": "", "lib/util.py": "VALUE = 'main'\n"})
    for slug in ("a-0123456789", "b-0123456789"):
        write_tree(
            root / slug,
            {
                "lib/__init__.py": "",
                "lib/util.py": f"VALUE = {slug!r}\n",
                "httpx/__init__.py": "raise SystemExit('branch httpx imported')\n",
            },
        )
    a, b = root / "a-0123456789", root / "b-0123456789"
    argv = [sys.executable, "-c", SCRIPT, str(main), str(root), str(a), str(b)]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["seen"] == ["a-0123456789", "main", "b-0123456789", "a-0123456789", "main"]
    assert str(root) not in report["httpx"]
