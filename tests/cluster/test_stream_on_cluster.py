"""jobs/stream_iot.py on the standalone cluster, a bounded processing-time run (--seconds) then an
--available-now run resuming from its checkpoints: the same silver, quarantine, gold windows and alerts as
one --available-now run in local mode, from the same Kafka topic (Kafka read by the executors)."""

from __future__ import annotations

import pytest
from pyspark.testing import assertDataFrameEqual

from cluster.cluster_jobs import ROOT, WORK, delta_rows, submit, write_conf
from lakeforge.streaming.config import Faults, load_iot_config, topic_names
from lakeforge.streaming.kafka import delete_topics, ensure_topics
from lakeforge.streaming.services import services_up
from lakeforge.streaming.simulator import simulate
from lakeforge.streaming.tables import IotTables
from streaming.iot import isolated_config

FAULTS = Faults(spike_probability=0.02, stuck_devices=1, stuck_after=40, stuck_for=20, malformed_probability=0.03,
                out_of_order_probability=0.03, duplicate_probability=0.03)


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> dict:
    """4 devices x 150 readings with faults, published straight to the config's own Kafka topics."""
    services_up(None, ("kafka",))  # exports the Kafka login the config names
    root = tmp_path_factory.mktemp("stream")
    config = isolated_config(load_iot_config(ROOT / "conf/iot.yml", env="local"), root, devices=4, readings_per_device=150, faults=FAULTS)
    ensure_topics(config.kafka)
    manifest, _ = simulate(config, via="kafka", rate=0)
    overlay = {"platform": {"spark": {"master": "local[2]", "jars_dir": str(WORK / "jars"), "progress_bar": False, "driver_memory": "1g"},
                            "storage": {"root": "${LAKEFORGE_LAKEHOUSE_ROOT}", "landing": "${LAKEFORGE_LANDING_ROOT}"}}}
    conf = write_conf(root / "conf", {"iot.yml": config.model_dump(mode="json", exclude_none=True)}, overlay)
    yield {"root": root, "config": config, "file": str(conf / "iot.yml"), "manifest": manifest}
    delete_topics(config.kafka, topic_names(config))


def run_stream(stream: dict, name: str, target, mode: list[str]) -> IotTables:
    lake = stream["root"] / name
    env = {"LAKEFORGE_LAKEHOUSE_ROOT": str(lake), "LAKEFORGE_LANDING_ROOT": str(stream["root"] / "landing")}
    args = ["--config", stream["file"], "--env", "local" if target is None else "cluster", *mode]
    result = submit("jobs/stream_iot.py", args, target, env)
    assert result.returncode == 0, result.stderr[-3000:]
    config = stream["config"]
    storage = config.platform.storage.model_copy(update={"root": str(lake)})
    return IotTables.of(config.model_copy(update={"platform": config.platform.model_copy(update={"storage": storage})}))


def test_the_iot_stream_bounded_then_resumed_on_the_cluster_writes_the_tables_local_mode_writes(spark, stream, on_cluster):
    local = run_stream(stream, "local", None, ["--available-now"])
    bounded = run_stream(stream, "cluster", on_cluster, ["--seconds", "60"])  # processing-time trigger, stops by itself
    assert delta_rows(spark, bounded.silver).count() > 0
    cluster = run_stream(stream, "cluster", on_cluster, ["--available-now"])
    keys = [(row["device_id"], row["seq"]) for row in delta_rows(spark, local.silver).select("device_id", "seq").collect()]
    valid = {(device, seq) for device, seqs in stream["manifest"].valid.items() for seq in seqs}
    # Every valid reading, once; straight to Kafka, an oversized reading the bridge would refuse lands too.
    # One sent under another device's key is quarantined, so which of two arrives first decides nothing.
    assert len(keys) == len(set(keys)) and set(keys) >= valid
    assert delta_rows(spark, local.alerts).count() > 0 and delta_rows(spark, local.quarantine).count() > 0
    for name in ("silver", "quarantine", "gold", "alerts"):
        assertDataFrameEqual(delta_rows(spark, getattr(cluster, name)), delta_rows(spark, getattr(local, name)))
