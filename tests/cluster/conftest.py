"""The Spark standalone cluster of scripts/services/spark-cluster.sh (started here if not running, stopped
only if started here) and the code shipped to it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cluster.cluster_jobs import ROOT, cluster_script, cluster_target, deps_python, read_credentials
from lakeforge.workflows.config import ClusterTarget


@pytest.fixture(scope="session")
def cluster():
    """The cluster's settings (master URL and UI, event-log folder); LAKEFORGE_SPARK_SECRET is exported for submits."""
    started = cluster_script("status").returncode != 0
    if started:
        result = cluster_script("up")
        assert result.returncode == 0, f"spark-cluster.sh up failed:\n{result.stdout}\n{result.stderr[-3000:]}"
    settings = read_credentials()
    with pytest.MonkeyPatch.context() as patch:
        # In the environment only: a fixture's value is printed in failure reports.
        patch.setenv("LAKEFORGE_SPARK_SECRET", settings.pop("LAKEFORGE_SPARK_SECRET"))
        yield settings
    if started:
        cluster_script("down")


@pytest.fixture(scope="session")
def shipped_code(tmp_path_factory) -> Path:
    """This checkout's code as the wheel-bytes zip `make dist` ships (built fresh, so tests ship what they test)."""
    folder = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(folder), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(folder.glob("lakeforge-*.whl"))
    return Path(shutil.copy(wheel, folder / "lakeforge.zip"))


@pytest.fixture(scope="session")
def on_cluster(cluster, shipped_code) -> ClusterTarget:
    """Executors with every dependency installed, and lakeforge only from the shipped zip."""
    return cluster_target(cluster, shipped_code, deps_python())
