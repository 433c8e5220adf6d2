"""Fixtures of the Airflow tests: a moto S3 server per module, a store on a new bucket per test."""

from ..support.airflow_support import s3_fixture, store_fixture  # noqa: F401 (fixtures)
