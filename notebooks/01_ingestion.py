# Databricks notebook source
# MAGIC %md
# MAGIC # 01 · Ingestion: four sources → bronze → silver → gold
# MAGIC
# MAGIC Walks through the `customer360` pipeline step by step with the library's own functions:
# MAGIC customers (CSV files), usage events (JSON Lines), billing (PostgreSQL over JDBC) and support
# MAGIC tickets (a paginated REST API) land raw in **bronze**, are cleansed and validated into **silver**
# MAGIC (bad rows go to **quarantine** with the rules they broke), and are joined into the **gold**
# MAGIC `customer_360` table the churn model trains on. Every run is written to the **audit** table.
# MAGIC
# MAGIC Locally: `make demo` runs the same pipeline; `lakeforge notebook notebooks/01_ingestion.py` runs this notebook.
# MAGIC On Databricks: install the Lakeforge wheel on the cluster and set `LAKEFORGE_ENV=cluster`.

# COMMAND ----------

import json
import os
from pathlib import Path
from urllib.parse import urlparse

from pyspark.sql import functions as F

from lakeforge.config import load_pipeline_config
from lakeforge.spark import build_spark

CONF = os.environ.get("LAKEFORGE_CONF", "conf/customer360.yml")
SEED_DIR = Path(os.environ.get("LAKEFORGE_WORK", ".work")) / "seed"
DEMO_CUSTOMERS = int(os.environ.get("LAKEFORGE_DEMO_CUSTOMERS", "2000"))

config = load_pipeline_config(CONF)
spark = build_spark(config.platform.spark)  # on Databricks this returns the cluster's session
print(f"lakehouse: {config.platform.storage.root}\nlanding:   {config.platform.storage.landing}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## 1. Demo data in the four sources
# MAGIC Generated once with known defects (malformed lines, wrong types, out-of-range values,
# MAGIC duplicates); billing rows go into PostgreSQL, tickets are served by a local REST API.

# COMMAND ----------

from lakeforge.demo.api_server import start_api_server
from lakeforge.demo.run import ensure_demo_data

ensure_demo_data(config, SEED_DIR, customers=DEMO_CUSTOMERS, seed=7)
manifest = json.loads((SEED_DIR / "manifest.json").read_text())
tickets_source = config.sources["tickets"]
api = start_api_server(
    json.loads((SEED_DIR / "tickets.json").read_text()),
    token=os.environ[tickets_source.token_env],
    port=urlparse(tickets_source.url).port,
)

# COMMAND ----------

# MAGIC %md
# MAGIC ## 2. Sources → bronze → silver
# MAGIC Each source is ingested incrementally: files by a Structured Streaming `availableNow` pass with a
# MAGIC checkpoint, the database by a high-water mark, the API by its `updated_since` parameter.

# COMMAND ----------

from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.reporting import print_run

runner = PipelineRunner(spark, config)
for source in config.sources:
    runner.ingest(source)
print_run(runner.run)

# COMMAND ----------

# MAGIC %md
# MAGIC ## 3. What was quarantined, and why

# COMMAND ----------

quarantine = spark.read.format("delta").load(runner.lakehouse.quarantine("customers"))
display(quarantine.select(F.explode("_reasons").alias("reason")).groupBy("reason").count().orderBy("reason"))
display(quarantine.select("_reasons", "_details", "_raw_record").limit(5))

# COMMAND ----------

# MAGIC %md
# MAGIC ## 4. Gold: one row per customer, and the audit

# COMMAND ----------

runner.build_gold()
runner.finish()  # writes validation results and the audit; fails if any layer does not reconcile
api.stop()

gold = spark.read.format("delta").load(runner.lakehouse.gold("customer_360"))
display(gold.groupBy("contract").agg(F.count("*").alias("customers"), F.avg(F.col("churn").cast("int")).alias("churn_rate")))
print(f"gold rows: {gold.count()}")
