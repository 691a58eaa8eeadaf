"""Builders for monitoring tests: training-like samples and inference log rows made from them."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from lakeforge.tables.inference import INFERENCE_SCHEMA

DAY0 = datetime(2026, 3, 1)
PLANS = ["basic", "plus", "pro"]


def sample(rows: int, seed: int, tenure_shift: int = 0, plan_weights=(0.5, 0.3, 0.2), charge_nulls: float = 0.0) -> pd.DataFrame:
    """tenure: integers (few distinct values), charges: two decimals, plan: a category."""
    rng = np.random.default_rng(seed)
    charges = np.round(rng.normal(70, 20, rows), 2).astype(object)
    charges[rng.random(rows) < charge_nulls] = None
    return pd.DataFrame({
        "tenure": rng.integers(0, 60, rows) + tenure_shift,
        "charges": charges,
        "plan": rng.choice(PLANS, rows, p=list(plan_weights)),
    })


def log_rows(frame: pd.DataFrame, day: int, version: str = "1", model: str = "churn_test", scores=None, predictions=None,
             entity_prefix: str = "c") -> list[dict]:
    """Inference log rows for `frame`, all scored on DAY0 + day (an hour apart modulo a day)."""
    rows = []
    for i, record in enumerate(frame.to_dict("records")):
        inputs = {k: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for k, v in record.items()}
        rows.append({
            "request_id": f"{model}-{version}-{day}-{i}", "scored_at": DAY0 + timedelta(days=day, seconds=i % 86_000),
            "model_name": model, "model_version": version, "entity_id": f"{entity_prefix}{day}-{i}", "inputs": inputs,
            "prediction": None if predictions is None else float(predictions[i]), "score": None if scores is None else float(scores[i]),
            "latency_ms": None,
        })
    return rows


def log_frame(spark, rows: list[dict]):
    return spark.createDataFrame(rows, INFERENCE_SCHEMA)
