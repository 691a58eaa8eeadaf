# Databricks notebook source
# MAGIC %md
# MAGIC # 05 · Image transfer learning: Delta image tables → Petastorm → distributed PyTorch
# MAGIC
# MAGIC Lands labelled images in Delta (bronze bytes, silver decoded and split, quarantine for bad files),
# MAGIC feeds the silver table to PyTorch through Petastorm, and fine-tunes a torchvision ResNet-18 on
# MAGIC several processes with pyspark's `TorchDistributor`: first a new head on the frozen backbone, then
# MAGIC the top blocks at a lower learning rate. The model is logged to MLflow, registered as `challenger`,
# MAGIC and used for batch inference into a gold table.
# MAGIC
# MAGIC Locally: `lakeforge notebook notebooks/05_image_finetuning.py` (or `make demo-images`).
# MAGIC On Databricks: install the Lakeforge wheel and set `LAKEFORGE_ENV=cluster`; with
# MAGIC `training.distribution.local_mode: auto` (the default) the ranks train on the workers.

# COMMAND ----------

import os
from pathlib import Path

from pyspark.sql import functions as F

from lakeforge.config import load_config
from lakeforge.images.config import ImagesConfig
from lakeforge.spark import build_spark
from lakeforge.tables.layout import Lakehouse

CONF = os.environ.get("LAKEFORGE_IMAGES_CONF", "conf/images.yml")
config = load_config(CONF, ImagesConfig)
spark = build_spark(config.platform.spark)  # on Databricks this returns the cluster's session
lakehouse = Lakehouse(config.platform.storage.root)

# COMMAND ----------

# MAGIC %md
# MAGIC ## 1. Images → bronze → silver (or quarantine), with a stratified split
# MAGIC The built-in dataset is written once (shapes in several classes, the last one a minority, plus the
# MAGIC source-task classes). Re-running adds nothing; corrupt or unsupported files are quarantined.

# COMMAND ----------

from lakeforge.images.generate import generate_images
from lakeforge.images.ingest import ingest_images
from lakeforge.reporting import print_run

generate_images(config.generate, Path(config.data.path), Path(config.pretrain.data.path))
print_run(ingest_images(spark, config.data, lakehouse))
silver = spark.read.format("delta").load(lakehouse.silver(config.data.table))
display(silver.groupBy("label").pivot("split", ["train", "val", "test"]).count().orderBy("label"))

# COMMAND ----------

# MAGIC %md
# MAGIC ## 2. Weights to transfer from
# MAGIC ImageNet weights are used when they are already in the torch hub cache (`$TORCH_HOME`), or any
# MAGIC file given as `model.weights`. Without either, the backbone is first trained on the source-task
# MAGIC classes and fine-tuning transfers from that checkpoint. Nothing is downloaded.

# COMMAND ----------

from lakeforge.images.train import resolve_weights

weights = resolve_weights(spark, config)
print(f"transferring from {weights.origin}: {weights.path}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## 3. Fine-tune on N processes with TorchDistributor
# MAGIC Each rank reads its own Petastorm shard; every rank must report back, or the run fails.

# COMMAND ----------

from lakeforge.images.report import history_table, per_class_table
from lakeforge.images.train import train_images

result = train_images(spark, config, weights)
print(history_table(result))
print(per_class_table(result))
print(f"test accuracy {result.metrics['accuracy']:.3f}, macro F1 {result.metrics['macro_f1']:.3f}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## 4. Track in MLflow and register the model as `challenger`

# COMMAND ----------

from lakeforge.images.tracking import log_image_training

tracked = log_image_training(result)
print(f"run {tracked.run_id}: {tracked.model_uri} (version {tracked.model_version})\nreport: {tracked.report_path}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## 5. Batch inference from the registry into gold

# COMMAND ----------

from lakeforge.images.predict import checkpoint_from_registry, predict_images, write_predictions

checkpoint = checkpoint_from_registry(tracked.model_uri, Path(config.work_dir) / "predict" / "model.pt")
predictions_path = lakehouse.gold(config.predictions_table)
write_predictions(spark, predict_images(silver, checkpoint), predictions_path, tracked.model_uri)
predictions = spark.read.format("delta").load(predictions_path)
display(predictions.groupBy("split").agg(F.count("*").alias("images"), F.avg((F.col("label") == F.col("prediction")).cast("double")).alias("accuracy")))
