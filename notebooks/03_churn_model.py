# Databricks notebook source
# MAGIC %md
# MAGIC # 03 · Churn model: stratified validation, three classifiers, MLflow registry
# MAGIC
# MAGIC Trains the churn classifiers of `conf/churn.yml` on the gold `customer_360` table (or the data the
# MAGIC config names) with the library's own functions: columns are typed and encoded inside one Spark ML
# MAGIC Pipeline per model, the train/test split and the cross-validation folds are stratified by class,
# MAGIC the decision threshold is tuned on out-of-fold predictions, and the best model is registered in
# MAGIC MLflow with the alias `challenger`.
# MAGIC
# MAGIC Locally: `lakeforge notebook notebooks/03_churn_model.py` (or `lakeforge train churn`).
# MAGIC On Databricks: install the Lakeforge wheel and set `LAKEFORGE_ENV=cluster`.

# COMMAND ----------

import os

import mlflow
from pyspark.sql import functions as F

from lakeforge.config import load_config
from lakeforge.spark import build_spark
from lakeforge.training.config import TrainingConfig

CONF = os.environ.get("LAKEFORGE_TRAIN_CONF", "conf/churn.yml")
config = load_config(CONF, TrainingConfig)
spark = build_spark(config.platform.spark)  # on Databricks this returns the cluster's session
print(f"training {config.name} ({config.task}) on label {config.data.label!r}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## 1. Features found from the data, stratified split and folds
# MAGIC Text that always parses as a number is numeric (blanks become nulls and are imputed); unique-per-row
# MAGIC text is an id and left out; the rest is categorical. Each class keeps its share in the test set and
# MAGIC in every fold, to one row.

# COMMAND ----------

from lakeforge.training.columns import LABEL
from lakeforge.training.stratified import FOLD
from lakeforge.training.train import prepare

data = prepare(spark, config)
print(f"numeric: {data.roles.numeric}\ncategorical: {data.roles.categorical}\nexcluded: {data.roles.excluded}")
display(data.train.groupBy(FOLD).agg(F.count("*").alias("rows"), F.avg(LABEL).alias("positive_share")).orderBy(FOLD))
display(data.test.agg(F.count("*").alias("test_rows"), F.avg(LABEL).alias("positive_share")))

# COMMAND ----------

# MAGIC %md
# MAGIC ## 2. Cross-validate every candidate, pick the best by CV ROC-AUC, score the test set
# MAGIC One Pipeline per model: typed columns → Imputer → StringIndexer (unseen kept) + OneHotEncoder →
# MAGIC VectorAssembler → scaler (→ PCA → feature selection when configured) → classifier.

# COMMAND ----------

from lakeforge.training.report import comparison_table
from lakeforge.training.train import train_models

result = train_models(spark, config)
print(comparison_table(result))
print(f"best: {result.best.name} {result.best.best_params}, threshold {result.best.threshold:.3f}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## 3. Log everything to MLflow and register the best model as `challenger`

# COMMAND ----------

from lakeforge.training.tracking import log_training

tracked = log_training(result)
print(f"run {tracked.run_id}: {tracked.model_uri} (version {tracked.model_version})\nreport: {tracked.report_path}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## 4. Load the challenger back from the registry and score raw rows

# COMMAND ----------

challenger = mlflow.pyfunc.load_model(tracked.model_uri)
raw_rows = data.test.select(*[f"`{c}`" for c in data.roles.features]).limit(5).toPandas()
scored = raw_rows.assign(prediction=challenger.predict(raw_rows))
display(scored)
