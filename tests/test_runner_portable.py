"""``wiredesk run`` on Beam's portable path (the one Flink and Spark take) gives the DirectRunner's rows.

A job service (``local_job_service_main``) and a worker pool (``worker_pool_main``) run as separate processes;
the job is submitted with ``--runner=PortableRunner --environment_type=EXTERNAL`` and ships wiredesk as a
wheel built from this checkout (``--extra_package``), which the workers install before they run, as on a
cluster (see ``portable_boot.py``: Beam's container ``boot`` is not available here).
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from runner_helpers import (
    VENV_BIN,
    assert_same_rows,
    free_port,
    log_tail,
    run_wiredesk,
    services,
    small_inputs,
    table_rows,
    venv_env,
    wait_for_port,
)

from conftest import REPO, manifest

#: What the wheel is built from: pyproject.toml's package folders and the files it names.
PACKAGE_FILES = ("pyproject.toml", "README.md", "pipeline", "schemas", "seeds", "transforms")


def build_wheel(into: Path) -> Path:
    """A wheel of this checkout's working tree, built in a copy (the build leaves nothing in the checkout)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
                             *PACKAGE_FILES], cwd=REPO, capture_output=True, check=True).stdout.decode()
    src = into / "src"
    for rel in filter(None, listed.split("\0")):
        if (REPO / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, src / rel)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--disable-pip-version-check", "-w", str(into / "dist"), str(src)],
                   check=True, capture_output=True)
    return next((into / "dist").glob("wiredesk-*.whl"))


@pytest.fixture(scope="module")
def portable(tmp_path_factory):
    """Job service and worker pool on free ports, stopped (process groups killed) when the module ends."""
    tmp = tmp_path_factory.mktemp("portable")
    wheel = build_wheel(tmp / "wheel")
    boot = tmp / "boot"
    boot.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).with_name("portable_boot.py")}" "$@"\n')
    boot.chmod(0o755)
    markers = tmp / "markers"
    markers.mkdir()
    job_port, pool_port = free_port(), free_port()
    python = str(VENV_BIN / "python")
    commands = [
        [python, "-m", "apache_beam.runners.portability.local_job_service_main", "--port", str(job_port),
         "--staging_dir", str(tmp / "staging")],
        [python, "-m", "apache_beam.runners.worker.worker_pool_main", "--service_port", str(pool_port),
         "--container_executable", str(boot)],
    ]
    logs = tmp / "logs"
    env = venv_env(WIREDESK_BOOT_MARKER=str(markers), WIREDESK_BOOT_DIR=str(tmp))
    with services(commands, logs, env=env, cwd=tmp) as procs:
        wait_for_port(job_port, procs, logs)
        wait_for_port(pool_port, procs, logs)
        yield {"tmp": tmp, "wheel": wheel, "markers": markers, "logs": logs, "procs": procs,
               "args": ["--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
                        "--environment_type=EXTERNAL", f"--environment_config=localhost:{pool_port}",
                        f"--extra_package={wheel}"]}


def test_portable_rows_equal_direct(portable, tmp_path):
    inputs = small_inputs(tmp_path)
    direct = run_wiredesk(inputs, tmp_path / "direct")
    assert direct.returncode == 0, direct.stderr[-3000:]
    ported = run_wiredesk(inputs, tmp_path / "portable", *portable["args"])
    assert ported.returncode == 0, ported.stderr[-3000:] + log_tail(portable["logs"])
    assert all(p.poll() is None for p in portable["procs"]), "a service died"
    assert_same_rows(table_rows(tmp_path / "portable"), table_rows(tmp_path / "direct"))
    want, got = manifest(tmp_path / "direct"), manifest(tmp_path / "portable")
    assert got["counts"] == want["counts"] and got["counts"]["articles"] > 0
    # The workers ran the shipped wheel, not this checkout.
    imported = {p.read_text() for p in portable["markers"].iterdir()}
    assert imported, "no SDK worker started through the boot script"
    assert all("wiredesk-boot-" in path and not path.startswith(str(REPO)) for path in imported), imported
