"""Benchmark: drift statistics over an inference log in Spark (lakeforge.monitoring) against the same
statistics in pandas + numpy on the same rows, at growing log sizes.

    .venv/bin/python scripts/bench/monitor.py [--rows 1000000 3000000 10000000] [--windows 10]

Writes bench/results/monitor.json. The log is generated once per size under .work/bench/monitor: a
Delta inference log (inputs as a string map, as monitoring reads it) and a flat Parquet copy of the
same rows for pandas. Spark's time covers reading the log and computing; pandas' compute time starts
with the typed columns already in memory (its best case), its read time is reported beside it. Both
sides compute null rates, exact KS against the training CDF, PSI over the profile's bins, and
Jensen-Shannon distance, per window; the largest difference between their figures is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyspark
from pyspark.sql import functions as F

from lakeforge.config import load_config
from lakeforge.monitoring.config import MonitoringConfig
from lakeforge.monitoring.monitors import feature_drift
from lakeforge.monitoring.windows import in_windows, typed_features
from lakeforge.quality.profile import TrainingProfile, profile_features
from lakeforge.spark import build_spark
from lakeforge.tables import delta

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work")) / "bench" / "monitor"
NUMERIC, CATEGORICAL = ["tenure", "charges"], ["plan", "contract"]
PSI_FLOOR = 1e-4
DAY0_EPOCH = 1_772_323_200  # 2026-03-01 00:00 UTC


def rows_frame(spark, rows: int, windows: int, seed: int, shift: bool):
    """Typed rows spread over `windows` days; with shift, tenure grows by 12 in the later half."""
    ids = spark.range(rows)
    day = (F.col("id") % windows).cast("int")
    tenure = F.floor(F.rand(seed) * 72) + (F.when(day >= windows // 2, 12).otherwise(0) if shift else F.lit(0))
    charges = F.when(F.rand(seed + 1) < 0.01, None).otherwise(F.round(F.randn(seed + 2) * 20 + 70, 2))
    plan = F.element_at(F.array(*[F.lit(p) for p in ("basic", "plus", "pro", "max")]), (F.floor(F.rand(seed + 3) * 4) + 1).cast("int"))
    contract = F.when(F.rand(seed + 4) < 0.55, "month").when(F.rand(seed + 5) < 0.6, "one_year").otherwise("two_year")
    scored_at = F.timestamp_seconds(F.lit(DAY0_EPOCH) + day * 86_400 + F.col("id") % 86_000)
    return ids.select("id", scored_at.alias("scored_at"), tenure.cast("int").alias("tenure"), charges.alias("charges"),
                      plan.alias("plan"), contract.alias("contract"))


def ensure_log(spark, rows: int, windows: int) -> tuple[str, str]:
    log, flat = str(WORK / f"log_{rows}"), str(WORK / f"flat_{rows}.parquet")
    if not delta.exists(spark, log):
        typed = rows_frame(spark, rows, windows, seed=11, shift=True)
        typed.write.mode("overwrite").parquet(flat)
        inputs = F.create_map(*[x for c in NUMERIC + CATEGORICAL for x in (F.lit(c), F.col(c).cast("string"))])
        spark.read.parquet(flat).select(
            F.col("id").cast("string").alias("request_id"), "scored_at", F.lit("bench").alias("model_name"), F.lit("1").alias("model_version"),
            F.col("id").cast("string").alias("entity_id"), inputs.alias("inputs"), F.lit(0.0).alias("prediction"), F.rand(3).alias("score"),
            F.lit(None).cast("double").alias("latency_ms"),
        ).write.format("delta").mode("overwrite").save(log)
    return log, flat


def training_profile(spark) -> TrainingProfile:
    train = rows_frame(spark, 100_000, 1, seed=1, shift=False)
    return TrainingProfile(task="classification", features=profile_features(train, NUMERIC, CATEGORICAL))


def spark_drift(spark, log: str, profile: TrainingProfile, window: str) -> pd.DataFrame:
    features = spark.read.format("delta").load(log).transform(in_windows(window)).transform(typed_features(profile))
    return feature_drift(features, profile).toPandas()


def pandas_drift(frame: pd.DataFrame, profile: TrainingProfile) -> pd.DataFrame:
    """The same statistics with pandas group-bys and numpy searchsorted / histogram, per day."""
    out = []
    for day, part in frame.groupby(frame["scored_at"].dt.floor("D")):
        for name, p in profile.features.items():
            column = part[name]
            row = {"window_start": day, "feature": name, "null_rate": column.isna().mean()}
            values = column.dropna()
            if p.kind == "numeric":
                v = np.sort(values.to_numpy(dtype=float))
                points, cdf = np.array(p.points), np.array(p.cdf)
                # Training CDF at each current value's bucket, current CDF at each end of every bucket.
                ends = np.unique(np.concatenate([points, np.nextafter(points, np.inf)]))
                current = np.searchsorted(v, ends, side="left") / len(v)
                ref = np.r_[0.0, cdf][np.searchsorted(points, ends, side="left")]
                row["ks"] = float(np.max(np.abs(ref - current)))
                shares = np.maximum(np.histogram(v, [-np.inf, *p.psi_edges, np.inf])[0] / len(v), PSI_FLOOR)
                expected = np.maximum(np.array(p.psi_shares()), PSI_FLOOR)
                row["psi"] = float(np.sum((shares - expected) * np.log(shares / expected)))
            else:
                current = values.value_counts(normalize=True)
                keys = sorted(set(current.index) | set(p.frequencies))
                q, r = np.array([current.get(k, 0.0) for k in keys]), np.array([p.frequencies.get(k, 0.0) for k in keys])
                m = (q + r) / 2
                kl = lambda a: np.sum(np.where(a > 0, a * np.log(np.where(a > 0, a, 1) / m), 0.0))  # noqa: E731
                row["js"] = float(np.sqrt(max((kl(q) + kl(r)) / 2 / np.log(2), 0.0)))
            out.append(row)
    return pd.DataFrame(out)


def timed(action):
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def largest_difference(spark_result: pd.DataFrame, pandas_result: pd.DataFrame) -> float:
    joined = spark_result.merge(pandas_result, on=["window_start", "feature"], suffixes=("", "_pd"))
    return float(max(np.nanmax(np.abs(joined[c] - joined[f"{c}_pd"]).to_numpy(dtype=float)) for c in ("null_rate", "ks", "psi", "js")))


def run_size(spark, rows: int, windows: int, profile: TrainingProfile) -> dict:
    log, flat = ensure_log(spark, rows, windows)
    spark_drift(spark, log, profile, "1 day")  # warm-up: JIT and Delta log caches
    spark_seconds, spark_result = timed(lambda: spark_drift(spark, log, profile, "1 day"))
    read_seconds, frame = timed(lambda: pd.read_parquet(flat, columns=["scored_at", *NUMERIC, *CATEGORICAL]))
    pandas_seconds, pandas_result = timed(lambda: pandas_drift(frame, profile))
    del frame
    return {
        "rows": rows, "windows": windows, "features": len(profile.features),
        "spark_seconds": round(spark_seconds, 2), "pandas_compute_seconds": round(pandas_seconds, 2), "pandas_read_seconds": round(read_seconds, 2),
        "spark_over_pandas": round(spark_seconds / pandas_seconds, 2),
        "spark_over_pandas_with_read": round(spark_seconds / (pandas_seconds + read_seconds), 2),
        "largest_difference": largest_difference(spark_result, pandas_result),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    parser.add_argument("--windows", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "bench/results/monitor.json"))
    args = parser.parse_args()
    config = load_config(ROOT / "conf/monitoring.yml", MonitoringConfig, env="local")
    spark = build_spark(config.platform.spark.model_copy(update={"progress_bar": False, "log_level": "ERROR"}))
    profile = training_profile(spark)
    results = [run_size(spark, rows, args.windows, profile) for rows in args.rows]
    first = results[0]
    for result in results:
        result["spark_time_vs_smallest"] = round(result["spark_seconds"] / first["spark_seconds"], 2)
        result["rows_vs_smallest"] = round(result["rows"] / first["rows"], 2)
    report = {
        "benchmark": "drift statistics over an inference log: Spark (lakeforge.monitoring) vs pandas + numpy",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "pyspark": pyspark.__version__,
                    "spark_master": spark.sparkContext.master, "load_average_at_end": os.getloadavg()},
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
