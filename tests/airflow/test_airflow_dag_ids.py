"""Which DAG IDs a file declares literally: every way Airflow 2/3 lets you declare a DAG."""

import textwrap

import pytest

from jupyter_remote_dev.airflow.publish import file_dag_ids

CASES = {
    "decorator call": (
        "from airflow.sdk import dag\n@dag(schedule=None)\ndef report():\n    pass\nreport()\n",
        ["report"],
    ),
    "module attribute decorator": (
        'import airflow.sdk as af\n@af.dag(schedule="@daily")\ndef daily_load():\n    pass\n',
        ["daily_load"],
    ),
    "dotted decorator": (
        "import airflow.sdk\n@airflow.sdk.dag()\ndef deep():\n    pass\n",
        ["deep"],
    ),
    "bare decorator": ("from airflow.sdk import dag\n@dag\ndef bare():\n    pass\n", ["bare"]),
    "decorator id by position": (
        'from airflow.sdk import dag\n@dag("by_position", schedule=None)\ndef f():\n    pass\n',
        ["by_position"],
    ),
    "decorator id by keyword": (
        'from airflow.sdk import dag\n@dag(schedule=None, dag_id="by_keyword")\ndef f():\n'
        "    pass\n",
        ["by_keyword"],
    ),
    "decorator with an empty id": (
        'from airflow.sdk import dag\n@dag(dag_id="")\ndef named_by_function():\n    pass\n',
        ["named_by_function"],
    ),
    "aliased decorator": (
        "from airflow.sdk import dag as airflow_dag\n@airflow_dag(schedule=None)\n"
        "def aliased():\n    pass\n",
        ["aliased"],
    ),
    "context manager by position": (
        'from airflow.sdk import DAG\nwith DAG("with_pos", schedule=None):\n    pass\n',
        ["with_pos"],
    ),
    "context manager by keyword": (
        'from airflow import models\nwith models.DAG(dag_id="with_kw"):\n    pass\n',
        ["with_kw"],
    ),
    "assignment": ('from airflow import DAG\nmy_dag = DAG(dag_id="assigned")\n', ["assigned"]),
    "module constant": (
        'from airflow.sdk import DAG, dag\nNAME = "from_constant"\nwith DAG(NAME):\n    pass\n'
        "@dag(dag_id=NAME + '_x')\ndef unknown():\n    pass\n",
        ["from_constant"],
    ),
    "several in one file": (
        "from airflow.sdk import DAG, dag\n@dag(schedule=None)\ndef a():\n    pass\n"
        'with DAG("b"):\n    pass\n@dag("c")\ndef ignored():\n    pass\n',
        ["a", "b", "c"],
    ),
    "no DAG": ("def dag_helper():\n    return 1\nx = dict(dag_id='nope')\n", []),
    "id not literal": ("from airflow.sdk import DAG\nwith DAG(f'x_{1}'):\n    pass\n", []),
}


@pytest.mark.parametrize("name", CASES)
def test_dag_ids_every_declaration_form(tmp_path, name):
    """@dag, @dag(...), @module.dag(...), with DAG(...), DAG(dag_id=...), by keyword/position."""
    source, expected = CASES[name]
    path = tmp_path / "dags.py"
    path.write_text(textwrap.dedent(source))
    assert file_dag_ids(path) == expected
