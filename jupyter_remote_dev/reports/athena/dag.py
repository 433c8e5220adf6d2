"""The weekly Athena report as an Airflow 3 DAG: every Monday, last week's report to S3.

Put a file like this in the DAGs folder (Airflow parses only files that mention both "airflow"
and "dag")::

    # Airflow DAG: the weekly Athena query-cost report
    from jupyter_remote_dev.reports.athena.dag import make_dag

    dag = make_dag(bucket="my-reports", region="eu-west-1")

The workers need this package with its ``airflow`` extra (boto3) and an AWS identity allowed the
Athena read calls listed in :mod:`.fetch` plus ``s3:PutObject`` on the bucket. Parsing the file
imports only Airflow and this module: boto3 and the report code load when the task runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, task

#: Monday 06:00 UTC: the ISO week that just ended is complete and Athena's statistics final.
SCHEDULE = "0 6 * * 1"


def make_dag(
    bucket: str,
    prefix: str = "athena-reports",
    region: str | None = None,
    price_per_tb: str = "5",
    region_prices: tuple[str, ...] = (),
    workgroup_prices: tuple[str, ...] = (),
    top: int = 25,
    dag_id: str = "athena_weekly_report",
    schedule: str = SCHEDULE,
    tags: tuple[str, ...] = ("cost", "athena"),
) -> DAG:
    """A DAG with one task that writes last week's report to ``s3://bucket/prefix/WEEK/`` and
    ``.../latest/``. Prices are strings such as ``"5"`` and ``"etl=4.5"``."""
    if not bucket:
        raise ValueError("make_dag needs the bucket the Athena report is written to")
    with DAG(
        dag_id,
        schedule=schedule,
        start_date=datetime(2026, 1, 5, tzinfo=timezone.utc),
        catchup=False,
        max_active_runs=1,
        tags=list(tags),
        default_args={"retries": 2, "retry_delay": timedelta(minutes=15)},
        doc_md=__doc__,
    ) as dag:

        @task(task_id="athena_report", execution_timeout=timedelta(hours=2))
        def athena_report(**context) -> dict:
            from jupyter_remote_dev.reports.athena.run import scheduled

            run = context.get("dag_run")
            when = context.get("logical_date") or getattr(run, "run_after", None)
            return scheduled(
                when,
                bucket=bucket,
                prefix=prefix,
                region=region,
                price_per_tb=price_per_tb,
                region_prices=region_prices,
                workgroup_prices=workgroup_prices,
                top=top,
            )

        athena_report()
    return dag
