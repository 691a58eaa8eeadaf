# Databricks notebook source
# MAGIC %md
# MAGIC # 02 · Real-time IoT ingestion: devices → MQTT → Kafka → bronze / silver / gold / alerts
# MAGIC
# MAGIC A fleet of simulated devices publishes readings over MQTT (Mosquitto, one login and topic per
# MAGIC device) with injected faults: spikes, a stuck sensor, drift, malformed payloads, duplicates,
# MAGIC late and out-of-order readings. The bridge forwards them to Kafka, acknowledging to MQTT only
# MAGIC what Kafka confirmed; the streaming job writes **bronze** (raw records), **silver** (typed,
# MAGIC validated, deduplicated by `(device_id, seq)`), **gold** (per-device 1-minute windows) and
# MAGIC **alerts** (thresholds, rolling z-score, stuck sensors), exactly once through its checkpoints.
# MAGIC
# MAGIC Locally: `make services-up` starts the brokers; `lakeforge notebook notebooks/02_iot_streaming.py`
# MAGIC runs this notebook; `make demo-iot` runs the same steps live for a minute.
# MAGIC On Databricks, point `conf/iot.yml` at your brokers and set `LAKEFORGE_ENV=cluster`.

# COMMAND ----------

import os

from pyspark.sql import functions as F

from lakeforge.spark import build_spark
from lakeforge.streaming.config import load_iot_config
from lakeforge.streaming.kafka import ensure_topics
from lakeforge.streaming.services import export_credentials

CONF = os.environ.get("LAKEFORGE_IOT_CONF", "conf/iot.yml")
READINGS = int(os.environ.get("LAKEFORGE_IOT_READINGS", "300"))  # per device; 300 is half a minute at 10/s

config = load_iot_config(CONF)
config = config.model_copy(update={"simulator": config.simulator.model_copy(update={"readings_per_device": READINGS})})
export_credentials()  # the brokers' logins, from the files `make services-up` wrote
ensure_topics(config.kafka)
spark = build_spark(config.platform.spark)  # on Databricks this returns the cluster's session
print(f"lakehouse: {config.platform.storage.root}\ntelemetry topic: {config.kafka.topics.telemetry.name}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## 1. Devices publish, the bridge forwards
# MAGIC Each device logs in as itself and publishes QoS 1 to `devices/<id>/telemetry`. Payloads that are
# MAGIC not JSON, too large, or claim another device's id go to the dead-letter topic with the reason.

# COMMAND ----------

from lakeforge.streaming.demo import publish_through_bridge

published = publish_through_bridge(config, rate=0)  # unpaced: as fast as the broker takes them
manifest = published.manifest
print(f"published {published.stats.messages} messages at {published.stats.per_second:.0f}/s")
print(f"bridge: {published.bridge}")
print(f"injected: {manifest.to_dict()}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## 2. Kafka → bronze and silver → gold + alerts
# MAGIC Bronze and silver both read the topic (`stream.silver.source: kafka`), so silver never waits for
# MAGIC bronze's commit; each silver micro-batch also scores alerts and refreshes gold windows (one pass).
# MAGIC A scheduled catch-up (`availableNow`): each query processes what is new since its checkpoint and
# MAGIC stops. With a processing-time trigger (`lakeforge stream iot`) the same queries run continuously.

# COMMAND ----------

from lakeforge.streaming.job import as_catch_up, run_stream
from lakeforge.streaming.progress import latest_progress
from lakeforge.streaming.tables import IotTables

tables = IotTables.of(config)
run_stream(spark, as_catch_up(config))
display(spark.createDataFrame([{k: v for k, v in row.items() if k != "last"} for row in latest_progress(spark, tables.progress)]))

# COMMAND ----------

# MAGIC %md
# MAGIC ## 3. Silver: one row per reading; quarantine: the rows that broke a rule, and why

# COMMAND ----------

silver = spark.read.format("delta").load(tables.silver)
per_device = silver.groupBy("device_id").agg(F.count("*").alias("readings"), F.max("seq").alias("last_seq")).orderBy("device_id")
display(per_device)
quarantine = spark.read.format("delta").load(tables.quarantine)
display(quarantine.select(F.explode("_reasons").alias("reason")).groupBy("reason").count().orderBy("reason"))

# COMMAND ----------

# MAGIC %md
# MAGIC ## 4. Gold: per-device windows, and the alerts raised

# COMMAND ----------

from lakeforge.streaming.demo import device_windows, raised_alerts

windows = device_windows(spark, config)
display(windows)
alerts = raised_alerts(spark, config)
display(alerts.groupBy("rule", "metric").count().orderBy("rule", "metric"))
print(f"silver rows: {silver.count()}, windows: {windows.count()}, alerts: {alerts.count()}")
