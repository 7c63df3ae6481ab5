"""A stand-in for Beam's SDK container entrypoint (``/opt/apache/beam/boot``), for the portable-runner test.

Beam's Python worker pool (``worker_pool_main``) starts a bare ``python`` SDK harness that installs nothing: on a
cluster the SDK container's ``boot`` fetches the job's staged packages (``--extra_package``, ``--setup_file``)
from the runner and installs them first. ``boot`` is a Go binary shipped only in Beam's SDK images, so the test
gives the pool this script as ``--container_executable``; it does what ``boot`` does for Python packages: asks
the provision service for the job's dependencies, downloads them from the artifact service, ``pip install``s
the packages (no index, no dependencies: the environment has them) into a fresh directory that comes first on
``sys.path``, and runs the SDK harness there. With ``WIREDESK_BOOT_MARKER`` set it records, per worker, the file
``wiredesk`` was imported from, so the test can tell that the workers ran the shipped package; with
``WIREDESK_BOOT_DIR`` set, the packages go below that directory (else the system's temporary one).

Called by the pool as ``portable_boot.py --id=ID --logging_endpoint=... --artifact_endpoint=...
--provision_endpoint=... --control_endpoint=...``.
"""
import argparse
import os
import subprocess
import sys
import tempfile

PACKAGE_SUFFIXES = (".whl", ".tar.gz", ".zip")

HARNESS = """
import os, sys
marker = os.environ.get("WIREDESK_BOOT_MARKER")
if marker:
    import wiredesk.transforms
    with open(os.path.join(marker, %(worker_id)r), "w") as fh:
        fh.write(wiredesk.transforms.__file__)
from apache_beam.runners.worker.sdk_worker import SdkHarness
SdkHarness(%(control)r, worker_id=%(worker_id)r).run()
"""


def fetch_packages(artifact_endpoint: str, provision_endpoint: str, worker_id: str, into: str):
    """The job's staged packages, downloaded into ``into``; their paths, in staging order."""
    import grpc
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import (
        beam_artifact_api_pb2,
        beam_artifact_api_pb2_grpc,
        beam_provision_api_pb2,
        beam_provision_api_pb2_grpc,
        beam_runner_api_pb2,
    )
    from apache_beam.utils import proto_utils

    metadata = [("worker_id", worker_id)]
    provision = beam_provision_api_pb2_grpc.ProvisionServiceStub(grpc.insecure_channel(provision_endpoint))
    info = provision.GetProvisionInfo(beam_provision_api_pb2.GetProvisionInfoRequest(), metadata=metadata).info
    retrieval = beam_artifact_api_pb2_grpc.ArtifactRetrievalServiceStub(grpc.insecure_channel(artifact_endpoint))
    resolved = retrieval.ResolveArtifacts(
        beam_artifact_api_pb2.ResolveArtifactsRequest(artifacts=info.dependencies), metadata=metadata).replacements
    packages = []
    for dep in resolved:
        if dep.role_urn != common_urns.artifact_roles.STAGING_TO.urn:
            continue
        name = os.path.basename(proto_utils.parse_Bytes(
            dep.role_payload, beam_runner_api_pb2.ArtifactStagingToRolePayload).staged_name)
        path = os.path.join(into, name)
        with open(path, "wb") as fh:
            for chunk in retrieval.GetArtifact(beam_artifact_api_pb2.GetArtifactRequest(artifact=dep),
                                               metadata=metadata):
                fh.write(chunk.data)
        if name.endswith(PACKAGE_SUFFIXES):
            packages.append(path)
    return packages


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    for name in ("id", "logging_endpoint", "artifact_endpoint", "provision_endpoint", "control_endpoint"):
        parser.add_argument(f"--{name}", required=True)
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix=f"wiredesk-boot-{args.id}-", dir=os.environ.get("WIREDESK_BOOT_DIR"))
    packages = fetch_packages(args.artifact_endpoint, args.provision_endpoint, args.id, work)
    site = os.path.join(work, "site")
    if packages:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                               "--disable-pip-version-check", "--target", site, *packages])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH")) if p)
    code = HARNESS % {"control": args.control_endpoint, "worker_id": args.id}
    os.execve(sys.executable, [sys.executable, "-c", code], env)


if __name__ == "__main__":
    main()
