#!/usr/bin/env bash
# Create, once, the virtualenv with a real Apache Airflow 3 that tests/airflow/test_airflow_policy.py parses
# DAGs in. Airflow's pinned dependencies clash with ours, so it lives apart from the main environment,
# at a fixed path outside the repo. Our package goes in editable and without dependencies: Airflow
# finds the branch policy through the `airflow.policy` entry point, exactly as in a real deployment.
set -euo pipefail
cd "$(dirname "$0")/.."

AIRFLOW_VENV="${AIRFLOW_VENV:-$HOME/.cache/jupyter-remote-dev/airflow-venv}"
AIRFLOW_SPEC="${AIRFLOW_SPEC:-apache-airflow==3.*}"
PYTHON="${AIRFLOW_PYTHON:-python3}"

# Already there, with Airflow 3 and our policy entry point pointing at this checkout? Done.
if "$AIRFLOW_VENV/bin/python" - "$PWD" 2>/dev/null <<'PY'; then
import sys
from importlib.metadata import entry_points, version
from pathlib import Path

import boto3  # the weekly Athena report DAG's task needs it (our `airflow` extra)
import jupyter_remote_dev

assert version("apache-airflow").startswith("3.")
assert "jupyter_remote_dev.airflow.policy" in {ep.value for ep in entry_points(group="airflow.policy")}
assert Path(jupyter_remote_dev.__file__).parent.parent == Path(sys.argv[1])
PY
  echo "airflow venv ready: $AIRFLOW_VENV"
  exit 0
fi

"$PYTHON" -m venv "$AIRFLOW_VENV"
pip=("$AIRFLOW_VENV/bin/python" -m pip --quiet --disable-pip-version-check)
"${pip[@]}" install --upgrade pip
"${pip[@]}" install "$AIRFLOW_SPEC" boto3 hatchling editables hatch-nodejs-version \
  hatch-jupyter-builder
# Editable, so the venv always sees the current source; the lab extension build is not needed here.
SKIP_JUPYTER_BUILDER=1 "${pip[@]}" install --no-deps --no-build-isolation -e .
echo "airflow venv ready: $AIRFLOW_VENV"
