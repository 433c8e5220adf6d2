"""Run by the Airflow virtualenv's Python (not by pytest): what Airflow makes of the Athena report
DAG, as JSON after ``PROBE-RESULT``.

``bag FOLDER DAG_ID``: load FOLDER in Airflow's DagBag and describe the DAG.
``run FOLDER DAG_ID ISO_DATE``: run the DAG once with ``dag.test()`` for that logical date, with
the report's work (``run.scheduled``, tested on its own) replaced by a recorder of its arguments.
"""

import json
import sys
from datetime import datetime


def bag_result(folder: str, dag_id: str) -> tuple[dict, object]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=folder, safe_mode=True)
    errors = {str(k): v for k, v in bag.import_errors.items()}
    result = {"errors": errors, "dag_ids": sorted(bag.dags)}
    dag = bag.dags.get(dag_id)
    if dag is not None:
        result.update(
            tasks=sorted(t.task_id for t in dag.tasks),
            timetable=dag.timetable.expression,
            timezone=str(dag.timetable.timezone),
            tags=sorted(dag.tags),
            catchup=dag.catchup,
            retries=[t.retries for t in dag.tasks],
        )
    import boto3  # the task needs it on the workers; this venv stands for them

    import jupyter_remote_dev

    result["boto3"] = boto3.__version__
    result["package"] = jupyter_remote_dev.__file__
    return result, bag


def run_result(folder: str, dag_id: str, logical_date: str) -> dict:
    import jupyter_remote_dev.reports.athena.run as run

    calls = []

    def recorder(when, **kwargs):
        calls.append({"when": when.isoformat(), **kwargs})
        return {"week": str(run.Week.last_complete(when))}

    run.scheduled = recorder
    _, bag = bag_result(folder, dag_id)
    dag_run = bag.dags[dag_id].test(logical_date=datetime.fromisoformat(logical_date))
    return {"state": str(dag_run.state), "calls": calls}


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    result = bag_result(*args)[0] if mode == "bag" else run_result(*args)
    print("PROBE-RESULT " + json.dumps(result))
