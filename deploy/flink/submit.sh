#!/usr/bin/env bash
# Submit one wiredesk batch to the Flink session cluster of deploy/flink/flinkdeployment.yaml.
#
#   kubectl port-forward svc/wiredesk-flink-rest 8081 &
#   INPUT=s3://wire/2026/12/01/13/ RUN_ID=hourly-20261201T13 deploy/flink/submit.sh [more wiredesk run options]
#
# Runs where wiredesk is installed (`pip install ".[aws]"` or ".[gcp]" for the storage), with no Java needed:
# --flink_submit_uber_jar has Beam build the job from its Flink job-server jar (downloaded from Maven Central on
# first use and cached under ~/.apache_beam; give --flink_job_server_jar=PATH offline) and upload it through Flink's
# REST API. The Python steps run in the TaskManagers' worker-pool sidecars (EXTERNAL environment, localhost:50000).
# `wiredesk run` waits for the job, then commits the run (manifest last), as on any runner. Output goes to
# --output on shared storage: --table_root is a local directory (its SQLite catalog), which the TaskManagers'
# sidecars do not share with this machine.
set -euo pipefail

FLINK_MASTER="${FLINK_MASTER:-localhost:8081}"
PARALLELISM="${PARALLELISM:-4}"
INPUT="${INPUT:-s3://your-bucket/wire/}"
OUTPUT="${OUTPUT:-s3://your-bucket/wiredesk/output}"
STATE="${STATE:-s3://your-bucket/wiredesk/state}"
RUN_ID="${RUN_ID:-manual-$(date -u +%Y%m%dT%H%M%S)}"

exec wiredesk run \
  --runner=FlinkRunner \
  --flink_master="${FLINK_MASTER}" \
  --flink_version=1.20 \
  --flink_submit_uber_jar \
  --environment_type=EXTERNAL \
  --environment_config=localhost:50000 \
  --parallelism="${PARALLELISM}" \
  --input="${INPUT}" \
  --output="${OUTPUT}" \
  --state="${STATE}" \
  --run_id="${RUN_ID}" \
  "$@"
