"""Branch staging for Airflow DAGs: publish, sync, fetch, rename by policy, clean up.

Kept empty: :mod:`.policy` is imported inside Airflow's DAG parser and must stay light.
"""
