"""jobs/ingest.py runs under spark-submit (its own JVM), as a scheduled cluster job would."""

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_ingest_job_runs_under_spark_submit(tmp_path):
    (tmp_path / "env").mkdir()
    overlay = {
        "platform": {
            "spark": {"master": "local[1]", "jars_dir": str(ROOT / ".work/jars"), "progress_bar": False},
            "storage": {"root": str(tmp_path / "lake"), "landing": str(tmp_path / "in")},
        }
    }
    (tmp_path / "env/local.yml").write_text(yaml.safe_dump(overlay))
    pipeline = {
        "name": "job_orders",
        "sources": {"orders": {"kind": "files", "path": "orders", "format": "csv", "options": {"header": True}, "schema": {"id": "string"}}},
        "silver": {"orders": {"source": "orders", "keys": ["id"], "columns": {"id": {"type": "int"}}}},
    }
    (tmp_path / "orders.yml").write_text(yaml.safe_dump(pipeline))
    (tmp_path / "in/orders").mkdir(parents=True)
    (tmp_path / "in/orders/a.csv").write_text("id\n1\n2\n2\nthree\n")

    result = subprocess.run(
        [str(ROOT / ".venv/bin/spark-submit"), str(ROOT / "jobs/ingest.py"), "--conf", str(tmp_path / "orders.yml")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    silver_line = next(line for line in result.stdout.splitlines() if line.startswith("orders") and " silver " in line)
    assert silver_line.split()[2:6] == ["4", "2", "1", "1"]  # read, written, quarantined, deduplicated
