"""Run by the Airflow virtualenv's Python (not by pytest): load a DAGs folder in Airflow's DagBag
and report what it made of the Athena report DAG, as JSON after ``PROBE-RESULT``."""

import json
import sys

from airflow.dag_processing.dagbag import DagBag


def probe(folder: str, dag_id: str) -> dict:
    bag = DagBag(dag_folder=folder, safe_mode=True)
    result = {
        "errors": {str(k): v for k, v in bag.import_errors.items()},
        "dag_ids": sorted(bag.dags),
    }
    dag = bag.dags.get(dag_id)
    if dag is not None:
        result.update(
            tasks=sorted(t.task_id for t in dag.tasks),
            timetable=dag.timetable.expression,
            timezone=str(dag.timetable.timezone),
            tags=sorted(dag.tags),
            catchup=dag.catchup,
            retries=[t.retries for t in dag.tasks],
            fileloc=dag.fileloc,
        )
    import boto3  # the task needs it on the workers; this venv stands for them

    result["boto3"] = boto3.__version__
    import jupyter_remote_dev

    result["package"] = jupyter_remote_dev.__file__
    return result


if __name__ == "__main__":
    print("PROBE-RESULT " + json.dumps(probe(*sys.argv[1:])))
