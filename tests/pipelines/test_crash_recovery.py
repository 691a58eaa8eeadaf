"""SIGKILL `lakeforge ingest` inside each kind of source unit (a file batch, a second file batch, JDBC,
REST), re-run it, and the lakehouse equals one from a run that never crashed; the audit never calls a
killed run succeeded."""

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from lakeforge.config.loader import load_model
from lakeforge.config.models import PipelineConfig
from lakeforge.demo.api_server import start_api_server
from lakeforge.pipelines.faults import FAULT_ENV, PAUSED_MARKER, FaultPoint
from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.tables.audit import read_audit
from lakeforge.tables.layout import Lakehouse
from pipelines.mixed_sources import TOKEN, assert_same_tables, create_orders, pipeline_dict, tickets, write_events

ROOT = Path(__file__).resolve().parents[2]
LAKEFORGE = str(Path(os.sys.executable).with_name("lakeforge"))
ORDERS = "lakeforge_test_crash_orders"
# In run order: each run dies at its point, the next one resumes from what the killed one left.
KILL_POINTS = ("events#0:landed", "events#1:refined", "orders:refined", "tickets:landed")


def landed_sources(root: Path) -> None:
    write_events(root / "in", "a.jsonl", range(1, 4), malformed=True)
    write_events(root / "in", "b.jsonl", range(3, 6))  # event 3 again: silver keeps one


def write_conf(root: Path, api_url: str) -> Path:
    """The pipeline YAML with its own env/local.yml, so the subprocess uses this lakehouse and 2 cores."""
    (root / "conf/env").mkdir(parents=True)
    spark = {"master": "local[2]", "shuffle_partitions": 2, "driver_memory": "1g", "jars_dir": str(ROOT / ".work/jars"),
             "progress_bar": False, "log_level": "ERROR"}
    (root / "conf/env/local.yml").write_text(yaml.safe_dump({"platform": {"spark": spark}}))
    conf = root / "conf/mixed.yml"
    conf.write_text(yaml.safe_dump(pipeline_dict(root, ORDERS, api_url)))
    return conf


def ingest(conf: Path, kill_at: str) -> None:
    """`lakeforge ingest`, SIGKILLed (with its Spark JVM) once it reaches the point `kill_at`."""
    env = {**os.environ, FAULT_ENV: f"{kill_at}=pause"}
    process = subprocess.Popen(
        [LAKEFORGE, "ingest", "--conf", str(conf)], cwd=ROOT, env=env, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    output = []
    for line in process.stderr:
        output.append(line)
        if line.startswith(f"{PAUSED_MARKER} {kill_at}"):
            os.killpg(process.pid, signal.SIGKILL)
            break
    assert process.wait() == -signal.SIGKILL, f"lakeforge ingest ended before reaching {kill_at}:\n{''.join(output[-30:])}"


@pytest.fixture()
def api(monkeypatch):
    monkeypatch.setenv("LF_MIXED_API_TOKEN", TOKEN)
    with start_api_server(tickets(range(1, 8)), TOKEN, mode="cursor", page_size=3) as server:
        yield server


@pytest.mark.timeout(1800)  # four Spark processes: slow on a busy 2-core machine
def test_killed_runs_resume_to_the_tables_of_a_run_never_killed(spark, pg_conninfo, api, tmp_path):
    create_orders(pg_conninfo, ORDERS, range(1, 9))
    crashed, reference = tmp_path / "crashed", tmp_path / "reference"
    for root in (crashed, reference):
        landed_sources(root)

    conf = write_conf(crashed, api.url)
    for point in KILL_POINTS:
        ingest(conf, kill_at=point)
    for root in (crashed, reference):  # the re-run, in this process to spare a fifth Spark start
        config = load_model(PipelineConfig, pipeline_dict(root, ORDERS, api.url), origin=str(root))
        PipelineRunner(spark, config, faults=FaultPoint()).execute()

    assert_same_tables(spark, crashed, reference)
    jobs = read_audit(spark, Lakehouse(str(crashed / "lake"))).where("layer = 'job'").collect()
    statuses = {}
    for row in jobs:
        statuses.setdefault(row["run_id"], set()).add(row["status"])
    assert Counter(frozenset(s) for s in statuses.values()) == Counter(
        {frozenset({"started"}): len(KILL_POINTS), frozenset({"started", "succeeded"}): 1}
    )
