"""Exactly-once into Delta, all the way: the streaming job (all four stages: bronze's query, and
silver's, whose micro-batches also score alerts and refresh gold) is SIGKILLed inside silver's
micro-batches, restarted and caught up; bronze, silver, gold windows and alerts then equal,
row for row by key, those of a run that was never killed. scripts/bench/stream_soak.py runs the same
with 100,000 events and 5 kills."""

from lakeforge.streaming.config import AvailableNow, Faults, write_iot_config
from lakeforge.streaming.job import run_stream
from lakeforge.streaming.simulator import simulate
from lakeforge.streaming.tables import IotTables
from lakeforge.tables.layout import Lakehouse
from streaming.crashes import audit_gaps, differences, kill_repeatedly

# Readings of a device arrive in order (no late or out-of-order faults): an alert depends on the
# readings before it, which then are in silver whenever it is scored, however the batches are cut.
FAULTS = Faults(duplicate_probability=0.03, spike_probability=0.01, stuck_devices=1, stuck_after=40, stuck_for=20)


def test_sigkilled_job_writes_each_row_of_every_table_exactly_once(spark, make_config, tmp_path):
    config = make_config(devices=6, readings_per_device=250, faults=FAULTS)
    # Audit windows longer than any run, so each kill cuts one open: the next run records it from the journal.
    stream = config.stream.model_copy(update={"max_offsets_per_trigger": 300, "audit_seconds": 3600.0, "progress_flush_seconds": 1.0})
    config = config.model_copy(update={"stream": stream})
    manifest, produced = simulate(config, via="kafka")
    assert manifest.duplicates > 0 and manifest.spikes

    killed = IotTables.of(config)
    conf_path = write_iot_config(config, tmp_path / "conf")
    assert kill_repeatedly(conf_path, killed, kills=2, queries=("silver",), log=tmp_path / "stream.log") == ["silver", "silver"]
    storage = config.platform.storage.model_copy(update={"root": str(tmp_path / "never-killed")})
    reference = config.model_copy(update={"platform": config.platform.model_copy(update={"storage": storage})})
    run_stream(spark, reference.model_copy(update={"stream": reference.stream.model_copy(update={"trigger": AvailableNow()})}))

    report = differences(spark, killed, IotTables.of(reference))
    assert report["bronze"]["rows"] == produced.messages
    assert report["silver"]["rows"] == manifest.valid_count
    assert report["gold"]["rows"] > 0 and report["alerts"]["rows"] >= len(manifest.spikes)
    assert {table: {k: v for k, v in counts.items() if k != "rows"} for table, counts in report.items()} == {
        table: {"lost": 0, "duplicated": 0, "unexpected": 0, "changed": 0} for table in ("bronze", "silver", "gold", "alerts")
    }
    # Every micro-batch is in the audit once: the windows the kills cut are recorded by the next run,
    # as failed, and the counts add up to Kafka's offsets and the tables' rows.
    gaps = audit_gaps(spark, killed, config.platform.storage.root, produced.messages)
    windows = {name: gaps.pop(name) for name in list(gaps) if name.startswith("windows_")}
    assert gaps == {"bronze_read": 0, "bronze_written": 0, "silver_read": 0, "silver_written": 0, "silver_quarantined": 0}
    assert windows.get("windows_failed", 0) >= 2  # one per kill
    assert set(windows) <= {"windows_failed", "windows_succeeded"}  # none unreconciled; the catch-up may find nothing new
    lake = Lakehouse(config.platform.storage.root)
    failed = spark.read.format("delta").load(lake.system("audit")).where("status = 'failed' and layer in ('bronze', 'silver')")
    assert all("stopped before it recorded" in row["error"] for row in failed.collect())
