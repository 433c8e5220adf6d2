"""The weekly Athena query-cost report.

:mod:`.fetch` reads workgroups and query executions from the Athena API, :mod:`.pricing` turns bytes
scanned into dollars, :mod:`.fingerprint` groups SQL by shape, :mod:`.build` makes the report (a
plain dict, the ``report.json`` schema), :mod:`.render` writes HTML, CSV and JSON, :mod:`.run` ties
them to a week and an S3 upload, :mod:`.cli` and :mod:`.dag` run it. Nothing here imports tornado;
only :mod:`.fetch` and :mod:`.run` need boto3 (the ``airflow`` extra).
"""
