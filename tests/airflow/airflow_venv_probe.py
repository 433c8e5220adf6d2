"""Run by the Airflow virtualenv's Python (not by pytest): report what Airflow made of our DAGs.

``probe db``: every DAG in the metadata DB with its paused flag, tags, file and the DAG each task
points at (``external_dag_id`` / ``trigger_dag_id``), plus import errors, as JSON.
``probe worker FILE BUNDLE DAG_ID``: parse one file the way Airflow 3's task runner does
(``BundleDagBag``) and report whether ``DAG_ID`` is among the DAGs found, and its tags.
``probe sequence FILE BUNDLE [FILE BUNDLE ...]``: parse the files in turn in one process, as
``airflow dags reserialize`` does, and report each one's DAGs with their tags.
The first two report where ``jupyter_remote_dev`` was imported from, so a test can tell that
Airflow ran the code under test and not another checkout installed in its virtualenv.
"""

import json
import sys


def probe_db() -> dict:
    from airflow.models.dag import DagModel
    from airflow.models.errors import ParseImportError
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dags = {}
    with create_session() as session:
        for model in session.scalars(select(DagModel)):
            dag = SerializedDagModel.get_dag(model.dag_id, session=session)
            refs = {}
            for task in dag.tasks:
                target = getattr(task, "external_dag_id", None) or getattr(
                    task, "trigger_dag_id", None
                )
                if target:
                    refs[task.task_id] = target
            dags[model.dag_id] = {
                "paused": model.is_paused,
                "tags": sorted(tag.name for tag in model.tags),
                "fileloc": model.fileloc,
                "bundle": model.bundle_name,
                "display_name": model.dag_display_name,
                "refs": refs,
            }
        errors = [e.stacktrace for e in session.scalars(select(ParseImportError))]
    return {"dags": dags, "errors": errors, "package": package_dir()}


def package_dir() -> str:
    """Where this interpreter imports jupyter_remote_dev from (it must be the code under test)."""
    import os

    import jupyter_remote_dev

    return os.path.dirname(jupyter_remote_dev.__file__)


def probe_worker(path: str, bundle: str, dag_id: str) -> dict:
    from airflow import settings
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(dag_folder=path, safe_mode=False, load_op_links=False, bundle_path=bundle)
    hooks = settings.get_policy_plugin_manager().hook.dag_policy.get_hookimpls()
    return {
        "found": dag_id in bag.dags,
        "dag_ids": sorted(bag.dags),
        "tags": sorted(bag.dags[dag_id].tags) if dag_id in bag.dags else None,
        "errors": bag.import_errors,
        "policies": sorted(type(impl.plugin).__name__ for impl in hooks),
        "package": package_dir(),
    }


def probe_sequence(*pairs: str) -> dict:
    """Parse ``FILE BUNDLE`` pairs one after the other in this one process; the tags of each."""
    from airflow.dag_processing.dagbag import BundleDagBag

    parsed = []
    for path, bundle in zip(pairs[::2], pairs[1::2], strict=True):
        bag = BundleDagBag(
            dag_folder=path, safe_mode=False, load_op_links=False, bundle_path=bundle
        )
        parsed.append({dag_id: sorted(dag.tags) for dag_id, dag in bag.dags.items()})
        parsed[-1]["errors"] = bag.import_errors
    return {"parsed": parsed}


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    probes = {"db": probe_db, "worker": probe_worker, "sequence": probe_sequence}
    result = probes[mode](*args)
    print("PROBE-RESULT " + json.dumps(result))
