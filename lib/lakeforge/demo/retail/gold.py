"""The retail example's Python gold transform (named in conf/examples/retail.yml by import path)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

VOIDED = ("refunded", "cancelled")  # an order whose latest event is one of these earns nothing


def build_customer_lifetime_value(orders: DataFrame, products: DataFrame, order_status: DataFrame) -> DataFrame:
    """One row per customer with a counted order: orders, lifetime value (quantity x unit price, voided
    orders left out), first and last order dates and the average order value."""
    priced = (
        orders.join(products, "product_id")
        .join(order_status.select("order_id", "status"), "order_id", "left")
        .where(F.col("status").isNull() | ~F.col("status").isin(*VOIDED))
        .withColumn("value", (F.col("quantity") * F.col("unit_price")).cast("decimal(12,2)"))
    )
    return priced.groupBy("customer_id").agg(
        F.countDistinct("order_id").alias("orders"),
        F.sum("value").cast("decimal(12,2)").alias("lifetime_value"),
        F.min("order_date").alias("first_order_date"),
        F.max("order_date").alias("last_order_date"),
        (F.sum("value") / F.countDistinct("order_id")).cast("decimal(12,2)").alias("avg_order_value"),
    )
