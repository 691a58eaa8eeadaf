"""Gold customer_360: one row per customer with the churn model's features and label."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

CUSTOMER_FEATURES = [
    "customer_id",
    "gender",
    "senior_citizen",
    "partner",
    "dependents",
    "tenure",
    "contract",
    "payment_method",
    "paperless_billing",
    "internet_service",
    "monthly_charges",
    "total_charges",
]


def usage_features(usage: DataFrame, snapshot: Column) -> DataFrame:
    return usage.groupBy("customer_id").agg(
        F.count("*").alias("usage_events"),
        F.sum(F.when(F.col("event_type") == "call", F.col("quantity")).otherwise(0)).alias("call_minutes"),
        F.sum(F.when(F.col("event_type") == "data", F.col("quantity")).otherwise(0)).alias("data_mb"),
        F.sum(F.when(F.col("event_type") == "sms", F.col("quantity")).otherwise(0)).alias("sms_count"),
        F.count_distinct(F.to_date("event_time")).alias("active_days"),
        F.datediff(snapshot, F.max("event_time")).alias("days_since_last_event"),
    )


def billing_features(billing: DataFrame) -> DataFrame:
    return billing.groupBy("customer_id").agg(
        F.count("*").alias("invoices"),
        F.sum("amount").cast("double").alias("billed_total"),
        F.sum(F.when(~F.col("paid"), 1).otherwise(0)).alias("unpaid_invoices"),
        F.sum(F.when(~F.col("paid"), F.col("amount")).otherwise(0)).cast("double").alias("unpaid_amount"),
    )


def ticket_features(tickets: DataFrame) -> DataFrame:
    return tickets.groupBy("customer_id").agg(
        F.count("*").alias("tickets"),
        F.sum(F.when(F.col("status") != "closed", 1).otherwise(0)).alias("open_tickets"),
        F.sum(F.when(F.col("priority").isin("high", "urgent"), 1).otherwise(0)).alias("urgent_tickets"),
        F.avg("satisfaction").alias("avg_satisfaction"),
    )


def build_customer_360(customers: DataFrame, usage: DataFrame, billing: DataFrame, tickets: DataFrame, snapshot_date: str) -> DataFrame:
    """Customers left-joined with their usage, billing and ticket aggregates; no activity counts as 0."""
    snapshot = F.lit(snapshot_date).cast("date")
    counts = ["usage_events", "call_minutes", "data_mb", "sms_count", "active_days", "invoices", "billed_total",
              "unpaid_invoices", "unpaid_amount", "tickets", "open_tickets", "urgent_tickets"]
    return (
        customers.select(*CUSTOMER_FEATURES, "churn")
        .join(usage_features(usage, snapshot), "customer_id", "left")
        .join(billing_features(billing), "customer_id", "left")
        .join(ticket_features(tickets), "customer_id", "left")
        .fillna(0, subset=counts)
        .withColumn("snapshot_date", snapshot)
    )
