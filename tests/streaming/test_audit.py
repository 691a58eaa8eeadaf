"""The IoT job's audit can fail: each term comes from its own witness (Kafka offsets, Delta commits,
the de-duplication's state metrics), so rows a writer loses show as an unbalanced window. The balanced
case, with replays and quarantined rows, is in test_pipeline.py."""

import json
import os

import pytest
from pyspark.sql import functions as F

import lakeforge.streaming.silver
from lakeforge.streaming.audit import kafka_offsets, read_from_checkpoint
from lakeforge.streaming.journal import BatchRead, Checkpoint, HadoopFiles, Journal, JournalFile, Window
from lakeforge.streaming.config import AvailableNow, Faults
from lakeforge.streaming.job import run_stream
from lakeforge.streaming.simulator import simulate
from lakeforge.tables.audit import ReconciliationError
from lakeforge.tables.layout import Lakehouse


def test_kafka_offsets_are_read_per_topic_partition():
    assert kafka_offsets('{"t.telemetry":{"0":5,"1":12}}') == {("t.telemetry", 0): 5, ("t.telemetry", 1): 12}
    assert kafka_offsets({"t.telemetry": {"0": 5}}) == {("t.telemetry", 0): 5}  # a progress document's, parsed
    assert kafka_offsets(None) is None  # a first batch has no start
    assert kafka_offsets('{"sourceVersion":1,"reservoirVersion":3,"index":-1}') is None  # a Delta source


def test_a_batch_the_listener_never_saw_is_read_back_from_its_checkpoint(spark, tmp_path):
    def offsets(ends: dict) -> str:
        return json.dumps({"t.telemetry": ends})

    files = {"sources/0/0": "\x00v1\n" + offsets({"0": 2, "1": 0})}  # where batch 0 started (as Kafka's source writes it)
    for batch, ends in ((0, {"0": 6, "1": 3}), (3, {"0": 10, "1": 4}), (4, {"0": 15, "1": 9})):
        files[f"offsets/{batch}"] = 'v1\n{"batchWatermarkMs":0}\n' + offsets(ends)
        files[f"commits/{batch}"] = "v1\n{}"
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    checkpoint = Checkpoint(spark, str(tmp_path))
    assert checkpoint.committed() == [0, 3, 4]
    assert read_from_checkpoint(checkpoint, "bronze", 4) == BatchRead("bronze", 4, (15 - 10) + (9 - 4), None)
    assert read_from_checkpoint(checkpoint, "silver", 0) == BatchRead("silver", 0, (6 - 2) + (3 - 0), None)
    assert read_from_checkpoint(checkpoint, "bronze", 3).rows is None  # batch 2's end is not in the checkpoint


def test_a_journal_killed_while_being_replaced_is_read_from_its_staged_copy(spark, tmp_path):
    windows = [Window("run.2", "2026-01-01T00:00:00", [BatchRead("bronze", 7, 12, 0)]), Window("run.3", "2026-01-01T00:01:00", [BatchRead("silver", 5, 9, None)])]
    journal = Journal(windows, {"bronze": 6, "silver": 4})
    file = JournalFile(spark, str(tmp_path))
    assert file.load() is None
    file.save(journal)
    assert file.load() == journal
    # Killed after the old journal was deleted and before the staged one took its name.
    HadoopFiles(spark, str(tmp_path)).write(f"{JournalFile.NAME}.tmp", journal.to_json())
    for name in (JournalFile.NAME, f".{JournalFile.NAME}.crc"):
        os.remove(tmp_path / name)
    assert file.load() == journal


def test_rows_a_writer_loses_silently_fail_the_job_with_the_numbers(spark, make_config, monkeypatch):
    config = make_config(devices=2, readings_per_device=30, faults=Faults())
    config = config.model_copy(update={"stream": config.stream.model_copy(update={"trigger": AvailableNow(), "stages": ["silver"]})})
    manifest, _ = simulate(config, via="kafka")
    split = lakeforge.streaming.silver.split_valid_and_quarantined

    def losing_seq_3(batch):  # a bug that drops rows without quarantining them
        valid, rejected = split(batch)
        return valid.where(F.col("seq") != 3), rejected

    monkeypatch.setattr(lakeforge.streaming.silver, "split_valid_and_quarantined", losing_seq_3)
    lost = len(manifest.valid)  # seq 3 of each device
    with pytest.raises(ReconciliationError, match=f"read 60 rows but wrote {60 - lost}, quarantined 0 and removed 0 duplicates \\({lost} unaccounted for\\)"):
        run_stream(spark, config)

    audit = spark.read.format("delta").load(Lakehouse(config.platform.storage.root).system("audit")).collect()
    assert [(row["layer"], row["rows_read"], row["rows_written"], row["status"]) for row in audit] == [("silver", 60, 60 - lost, "unreconciled")]
