"""Airflow DAG: wiredesk's hourly batch on Dataflow, through the Beam provider's BeamRunPythonPipelineOperator.

Needs apache-airflow-providers-apache-beam and -google on the Airflow workers, and wiredesk with Beam's GCP extra
in the interpreter the operator runs (``pip install "wiredesk-0.1.0-py3-none-any.whl[gcp]"``: the DAG builds the
pipeline there and submits it). ``py_file`` is deploy/dataflow/main.py copied to Cloud Storage: it submits the
job without waiting, and the job commits its own run; the operator then follows the Dataflow job until it ends
(``wait_until_finished``), so the task's state is the job's. The workers run the image of deploy/Dockerfile.

Each DAG run processes its data interval (one hour) under a run id made from the interval, so a retried or
cleared task run replaces that hour's run instead of adding it again; ``max_active_runs=1`` keeps two runs from
sharing the state. tests/test_deploy.py reads this file with ``ast`` (Airflow is not installed there) and checks
that every pipeline option is one wiredesk or Beam accepts.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.beam.operators.beam import BeamRunPythonPipelineOperator

PROJECT = "your-project"
REGION = "europe-west1"
BUCKET = "gs://your-bucket"
IMAGE = "europe-west1-docker.pkg.dev/your-project/wiredesk/wiredesk:0.1.0"
HOUR = "{{ data_interval_start.strftime('%Y/%m/%d/%H') }}"
RUN_ID = "hourly-{{ data_interval_start.strftime('%Y%m%dT%H') }}"

with DAG(
    dag_id="wiredesk_hourly",
    description="wiredesk: the last hour's wire stories, deduplicated against earlier runs and grouped into events",
    schedule="@hourly",
    start_date=datetime(2026, 12, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=55),
    default_args={"owner": "wiredesk", "retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["wiredesk", "dataflow"],
) as dag:
    BeamRunPythonPipelineOperator(
        task_id="wiredesk_run",
        runner="DataflowRunner",
        py_file=f"{BUCKET}/wiredesk/launcher/main.py",
        py_interpreter="python3",
        py_system_site_packages=True,
        pipeline_options={
            "input": f"{BUCKET}/wire/{HOUR}/",
            "output": f"{BUCKET}/wiredesk/output",
            "state": f"{BUCKET}/wiredesk/state",
            "run_id": RUN_ID,
            "temp_location": f"{BUCKET}/wiredesk/tmp",
            "staging_location": f"{BUCKET}/wiredesk/staging",
            "sdk_container_image": IMAGE,
            "max_num_workers": 8,
            "experiments": ["use_runner_v2"],
        },
        dataflow_config={
            "job_name": "wiredesk-hourly",
            "project_id": PROJECT,
            "location": REGION,
            "wait_until_finished": True,
        },
    )
