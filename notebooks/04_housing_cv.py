# Databricks notebook source
# MAGIC %md
# MAGIC # 04 · House prices: k-fold cross-validation of regression models
# MAGIC
# MAGIC The regressors of `conf/housing.yml` (OLS and XGBoost) on California-housing
# MAGIC shaped data: `ocean_proximity` one-hot encoded, missing `total_bedrooms` imputed, shuffled k-fold
# MAGIC cross-validation with the RMSE / MAE / R² / MAPE of every fold, and the best model registered in
# MAGIC MLflow as `challenger`.
# MAGIC
# MAGIC Data: `lakeforge sample-data housing --out .work/samples/housing.csv` writes a look-alike of the public
# MAGIC CSV. Locally: `lakeforge notebook notebooks/04_housing_cv.py` (or `lakeforge train housing`).

# COMMAND ----------

import os

import pandas as pd

from lakeforge.config import load_config
from lakeforge.spark import build_spark
from lakeforge.training.config import TrainingConfig

CONF = os.environ.get("LAKEFORGE_TRAIN_CONF", "conf/housing.yml")
config = load_config(CONF, TrainingConfig)
spark = build_spark(config.platform.spark)  # on Databricks this returns the cluster's session
print(f"training {config.name} ({config.task}) on {config.data.path}, label {config.data.label!r}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## 1. Cross-validate every candidate (grid search inside each)

# COMMAND ----------

from lakeforge.training.report import comparison_table
from lakeforge.training.train import train_models

result = train_models(spark, config)
print(comparison_table(result))

# COMMAND ----------

# MAGIC %md
# MAGIC ## 2. Every fold of every model
# MAGIC The spread across folds says how much a single train/test split could mislead.

# COMMAND ----------

folds = pd.DataFrame(
    [{"model": c.name, "fold": i, **{m: fold[m] for m in ("rmse", "mae", "r2", "mape")}} for c in result.candidates for i, fold in enumerate(c.folds)]
)
display(folds.round(4))

# COMMAND ----------

# MAGIC %md
# MAGIC ## 3. Track and register the best model

# COMMAND ----------

from lakeforge.training.tracking import log_training

tracked = log_training(result)
print(f"best: {result.best.name}, test RMSE {result.best.test['rmse']:,.0f} (mean baseline {result.baseline['rmse']:,.0f})")
print(f"{tracked.model_uri} (version {tracked.model_version})\nreport: {tracked.report_path}")
