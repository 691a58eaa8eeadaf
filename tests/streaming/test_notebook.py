"""notebooks/02_iot_streaming.py runs top to bottom against the real brokers and lands every reading."""

from pathlib import Path

from pyspark.sql import functions as F

from lakeforge.notebooks import run_notebook
from lakeforge.streaming.config import write_iot_config

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks/02_iot_streaming.py"


def test_iot_notebook_lands_every_reading_in_silver_and_gold(spark, make_config, tmp_path, monkeypatch):
    config = make_config(devices=4)
    monkeypatch.setenv("LAKEFORGE_IOT_CONF", str(write_iot_config(config, tmp_path / "conf")))
    monkeypatch.setenv("LAKEFORGE_IOT_READINGS", "150")

    namespace = run_notebook(NOTEBOOK)

    manifest = namespace["manifest"]
    per_device = {row["device_id"]: row["readings"] for row in namespace["per_device"].collect()}
    assert per_device == {device: len(seqs) for device, seqs in manifest.valid.items()}
    assert sum(per_device.values()) == 4 * 150 - sum(manifest.malformed.values())
    windows = namespace["windows"]
    assert windows.agg(F.sum("readings")).first()[0] == namespace["silver"].count()
    assert namespace["published"].bridge.dead_lettered == manifest.dead_letter
