"""Gold transforms the gold tests name by import path (pipelines.gold_transforms:...)."""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def build_customer_spend(orders: DataFrame, min_amount: float) -> DataFrame:
    """Total spend and order count per customer, counting orders of at least `min_amount`."""
    kept = orders.where(F.col("amount") >= min_amount)
    return kept.groupBy("customer_id").agg(F.sum("amount").alias("spend"), F.count("*").alias("orders"))
