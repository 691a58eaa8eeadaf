# Databricks notebook source
# MAGIC %md
# MAGIC # 06 · Real-time recommendations: interactions → Delta → ALS → a numpy serving artifact
# MAGIC
# MAGIC Generates a realistic interaction log (users with category tastes, long-tail item popularity,
# MAGIC implicit events and explicit ratings) in MovieLens format, loads it into bronze/silver Delta
# MAGIC tables, trains Spark ML ALS on a time-based split beside a popularity baseline, registers the
# MAGIC model in MLflow (alias `challenger`) and shows how one user's answer moves when new
# MAGIC interactions are folded in, exactly as the service (`lakeforge serve`) does per request.
# MAGIC
# MAGIC Locally: `lakeforge notebook notebooks/06_recommendations.py`; `make demo-recs` runs the service too.
# MAGIC On Databricks: install the Lakeforge wheel on the cluster and set `LAKEFORGE_ENV=cluster`.

# COMMAND ----------

import os
from collections import Counter
from pathlib import Path

from pyspark.sql import functions as F

from lakeforge.config import load_config
from lakeforge.recommendations.config import RecsConfig
from lakeforge.recommendations.generate import generate_interactions
from lakeforge.recommendations.load import load_folder
from lakeforge.recommendations.recommend import NewInteraction, recommend
from lakeforge.recommendations.run import summary, train_and_register
from lakeforge.recommendations.tables import RecsTables
from lakeforge.spark import build_spark

config = load_config(os.environ.get("LAKEFORGE_RECS_CONF", "conf/recommendations.yml"), RecsConfig)
INTERACTIONS = int(os.environ.get("LAKEFORGE_DEMO_INTERACTIONS", "20000"))
config = config.model_copy(update={"generator": config.generator.model_copy(update={"interactions": INTERACTIONS})})
spark = build_spark(config.platform.spark)  # on Databricks this returns the cluster's session
tables = RecsTables.of(config)
folder = Path(config.platform.storage.landing) / "recommendations"

# COMMAND ----------

# MAGIC %md
# MAGIC ## 1. Interactions in MovieLens format, loaded into bronze and silver
# MAGIC `ratings.csv` (userId, movieId, rating, timestamp), `movies.csv` (movieId, title, genres) and the
# MAGIC implicit `events.csv`. Silver keeps each event id once; rows breaking a rule go to quarantine.

# COMMAND ----------

print(generate_interactions(config.generator, folder))
run = load_folder(spark, config, folder)
for counts in run.layers:
    print(vars(counts))
spark.read.format("delta").load(tables.silver).groupBy("event_type").count().orderBy(F.desc("count")).show()

# COMMAND ----------

# MAGIC %md
# MAGIC ## 2. ALS on a time-based split, beside popularity; registered as `challenger`

# COMMAND ----------

result, tracked = train_and_register(spark, config)
summary(result, tracked)

# COMMAND ----------

# MAGIC %md
# MAGIC ## 3. One user's answer before and after new interactions (fold-in, no retraining)

# COMMAND ----------

model = result.model
user = int(model.user_ids[0])
seen_rows = model.history(model.user_rows[user])[0]
touched = Counter(model.item_categories[seen_rows].tolist())
target = min(set(model.item_categories.tolist()), key=lambda category: touched.get(category, 0))
picks = [int(model.item_ids[row]) for row in model.popularity.argsort()[::-1] if model.item_categories[row] == target and row not in set(seen_rows)][:5]
before = recommend(model, user, 10)
after = recommend(model, user, 10, [NewInteraction(item, "purchase", 1.0) for item in picks])
print(f"user {user}: purchases of {target} items {picks}")
print("before:", list(zip(before.item_ids, before.categories)))
print("after: ", list(zip(after.item_ids, after.categories)))
