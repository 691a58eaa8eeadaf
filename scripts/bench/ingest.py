"""Benchmark: CSV -> bronze -> silver rows/s against plain Spark CSV -> Parquet on the same file, and
JDBC -> bronze -> silver against a plain spark.read.jdbc -> Parquet of the same PostgreSQL table.

    source scripts/services/env.sh && .venv/bin/python scripts/bench/ingest.py [--rows 1000000 10000000] [--jdbc-rows 1000000]

Writes bench/results/ingest.json. Both sides run in the same session on the same machine, so the
ratio (Lakeforge rows/s over baseline rows/s) is what to compare across machines, not raw speed.
Each size also gets the seconds of Spark jobs per phase of the run (the job descriptions the runner
sets, read from the session's own UI), so the next bottleneck shows without a profiler, and the peak
resident set size of the Spark JVM (driver and executors, in local mode) and of the Python driver
during the run, against the JVM's heap: memory stays bounded as rows grow. The JDBC
table (customer360's billing columns) is generated inside PostgreSQL (generate_series), both sides
read it over 4 partitions of invoice_id.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path

import psycopg2
import pyspark
from pyspark import StorageLevel

from lakeforge.config import load_pipeline_config
from lakeforge.config.models import PlatformConfig, StorageSettings
from lakeforge.demo.generate import write_customers_csv
from lakeforge.demo.seed_postgres import conninfo_from_env
from lakeforge.ingestion.jdbc import connection_options
from lakeforge.ingestion.files import raw_schema
from lakeforge.pipelines.medallion import keep_raw_record, silver_columns
from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.quality.cleansing import cleanse_columns, drop_duplicates_keep_latest
from lakeforge.quality.expectations import split_valid_and_quarantined, tag_rule_failures, validate_rules
from lakeforge.spark import build_spark

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work")) / "bench" / "ingest"


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def spark_jobs(spark) -> list[dict]:
    """The session's jobs as its UI's REST API lists them (newest first)."""
    url = f"{spark.sparkContext.uiWebUrl}/api/v1/applications/{spark.sparkContext.applicationId}/jobs"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def seconds_by_phase(jobs: list[dict]) -> dict[str, float]:
    """Job wall seconds summed by the phase after ": " in their description; jobs without one (a
    streaming batch's own, Delta's log reads) count as "other"."""
    def seconds(job: dict) -> float:
        stamp = lambda text: datetime.strptime(text.removesuffix("GMT"), "%Y-%m-%dT%H:%M:%S.%f")  # noqa: E731
        return (stamp(job["completionTime"]) - stamp(job["submissionTime"])).total_seconds()

    phases: Counter[str] = Counter()
    for job in jobs:
        description = job.get("description") or ""
        phases[description.split(": ", 1)[1] if ": " in description else "other"] += seconds(job)
    return {phase: round(total, 2) for phase, total in phases.most_common()}


def reset_peak_rss(pid: int) -> None:
    """Linux's peak resident set size of `pid` starts again from its current size ("5" to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mib(pid: int) -> int:
    """VmHWM of `pid`: its peak resident set size since start or the last reset."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


def bench_config(rows: int, source: str = "customers", table: str | None = None):
    """One source of customer360 and its silver table, pointed at a fresh lakehouse for this size (and,
    for the JDBC source, at the bench's own table)."""
    config = load_pipeline_config(ROOT / "conf/customer360.yml", env="local")
    storage = StorageSettings(root=str(WORK / f"lakehouse_{source}_{rows}"), landing=str(WORK / f"landing_{rows}"))
    platform_config = PlatformConfig(spark=config.platform.spark, storage=storage)
    spec = config.sources[source] if table is None else config.sources[source].model_copy(update={"table": table})
    return config.model_copy(
        update={
            "platform": platform_config,
            "sources": {source: spec},
            "silver": {source: config.silver[source]},
            "gold": None,
        }
    )


BILLING_ROWS = """
DROP TABLE IF EXISTS {table};
CREATE TABLE {table} (invoice_id bigint PRIMARY KEY, customer_id text, billing_month date, amount numeric(10, 2), paid boolean, updated_at timestamp);
INSERT INTO {table}
SELECT g, 'c' || (g % 200000), date '2024-01-01' + ((g % 24) * interval '1 month'), (g % 100000) / 100.0, g % 3 = 0,
       timestamp '2024-01-01' + g * interval '1 second'
FROM generate_series(1, {rows}) AS g;
ANALYZE {table};
"""


def run_jdbc(spark, rows: int) -> dict:
    """JDBC -> bronze -> silver of a generated billing table against spark.read.jdbc -> Parquet."""
    table = f"public.bench_billing_{rows}"
    with psycopg2.connect(conninfo_from_env()) as connection, connection.cursor() as cursor:
        cursor.execute(BILLING_ROWS.format(table=table, rows=rows))
    connection.close()
    config = bench_config(rows, "billing", table)
    shutil.rmtree(WORK / f"lakehouse_billing_{rows}", ignore_errors=True)
    source = config.sources["billing"]
    baseline_out = WORK / f"baseline_jdbc_{rows}.parquet"
    shutil.rmtree(baseline_out, ignore_errors=True)
    options = {**connection_options(source), "dbtable": table, "partitionColumn": "invoice_id", "lowerBound": "1",
               "upperBound": str(rows), "numPartitions": str(source.num_partitions)}
    baseline_seconds = timed(lambda: spark.read.format("jdbc").options(**options).load().write.parquet(str(baseline_out)))
    runner = PipelineRunner(spark, config)
    lakeforge_seconds = timed(lambda: runner.execute(sources=["billing"]))
    bronze, silver = runner.run.layer("billing", "bronze"), runner.run.layer("billing", "silver")
    assert bronze.read == rows and silver.read == silver.written + silver.quarantined + silver.deduplicated
    return {
        "rows": bronze.read,
        "baseline_jdbc_to_parquet_seconds": round(baseline_seconds, 2),
        "lakeforge_jdbc_to_bronze_to_silver_seconds": round(lakeforge_seconds, 2),
        "ratio": round(baseline_seconds / lakeforge_seconds, 3),
        "silver_rows": silver.written,
        "quarantined": silver.quarantined,
    }


def stage_seconds(spark, config, rows: int) -> dict[str, float]:
    """Each silver stage's own cost, measured apart over the run's bronze table with a warm JVM: the
    seconds a stage adds to the stages before it (`noop` writes, best of two), the silver write as a
    Delta append of the deduplicated rows. The run's phases fuse stages into one Spark job; this
    splits them."""
    spec = config.silver["customers"]
    bronze = spark.read.format("delta").load(str(WORK / f"lakehouse_customers_{rows}" / "bronze" / "customers"))
    raw = [name for name in bronze.columns if not name.startswith("_")]
    cleansed = bronze.transform(keep_raw_record(raw)).transform(cleanse_columns(spec.columns))
    tagged = cleansed.transform(tag_rule_failures(spec.expectations))

    def noop(df) -> float:
        return min(timed(lambda: df.write.format("noop").mode("overwrite").save()) for _ in range(2))

    totals = {"scan bronze": noop(bronze), "cleanse": noop(cleansed), "row rules": noop(tagged)}
    cached = tagged.persist(StorageLevel.MEMORY_AND_DISK)
    totals["fill cache"] = timed(cached.count)
    parsed = cached.select(*spec.columns)
    table_rules = timed(lambda: validate_rules(parsed, spec.expectations, suite_name="bench"))
    valid = split_valid_and_quarantined(cached)[0]
    from_cache = noop(valid.select(*silver_columns(spec)))
    deduped = valid.transform(drop_duplicates_keep_latest(spec.keys, spec.latest_by)).select(*silver_columns(spec))
    dedup = noop(deduped) - from_cache
    silver_write = timed(lambda: deduped.write.format("delta").mode("overwrite").save(str(WORK / "stage_silver"))) - dedup - from_cache
    cached.unpersist()
    shutil.rmtree(WORK / "stage_silver", ignore_errors=True)
    added = {
        "scan bronze": totals["scan bronze"],
        "cleanse": totals["cleanse"] - totals["scan bronze"],
        "row rules": totals["row rules"] - totals["cleanse"],
        "fill cache": totals["fill cache"] - totals["row rules"],
        "table rules (one aggregate)": table_rules,
        "dedup window": dedup,
        "silver delta write": silver_write,
    }
    return {stage: round(seconds, 2) for stage, seconds in added.items()}


def run_size(spark, rows: int, stages: bool) -> dict:
    config = bench_config(rows)
    shutil.rmtree(WORK / f"lakehouse_customers_{rows}", ignore_errors=True)
    csv = WORK / f"landing_{rows}" / "customers" / "customers.csv"
    if not csv.exists():
        csv.parent.mkdir(parents=True, exist_ok=True)
        write_customers_csv(csv, rows, seed=1)
    source = config.sources["customers"]

    baseline_out = WORK / f"baseline_{rows}.parquet"

    def copy() -> None:
        spark.read.schema(raw_schema(source, "csv")).options(header="true").csv(str(csv)).write.mode("overwrite").parquet(str(baseline_out))

    copy()  # unmeasured: warms the OS file cache and the JIT, so the baseline is not timed cold
    baseline_seconds = timed(copy)
    runner = PipelineRunner(spark, config)
    before = {job["jobId"] for job in spark_jobs(spark)}
    processes = {"spark_jvm_driver_and_executors": spark._jvm.java.lang.ProcessHandle.current().pid(), "python_driver": os.getpid()}
    for pid in processes.values():
        reset_peak_rss(pid)
    lakeforge_seconds = timed(lambda: runner.execute(sources=["customers"]))
    peak_rss = {name: peak_rss_mib(pid) for name, pid in processes.items()}
    jobs = [job for job in spark_jobs(spark) if job["jobId"] not in before and job.get("completionTime")]
    bronze = runner.run.layer("customers", "bronze")
    silver = runner.run.layer("customers", "silver")
    assert bronze.read == silver.read == silver.written + silver.quarantined + silver.deduplicated
    return {
        "rows": bronze.read,
        "baseline_csv_to_parquet_seconds": round(baseline_seconds, 2),
        "lakeforge_csv_to_bronze_to_silver_seconds": round(lakeforge_seconds, 2),
        "baseline_rows_per_second": round(bronze.read / baseline_seconds),
        "lakeforge_rows_per_second": round(bronze.read / lakeforge_seconds),
        "ratio": round(baseline_seconds / lakeforge_seconds, 3),
        "silver_rows": silver.written,
        "quarantined": silver.quarantined,
        "deduplicated": silver.deduplicated,
        "spark_jobs": len(jobs),
        "peak_rss_mib": peak_rss | {"jvm_max_heap": spark._jvm.java.lang.Runtime.getRuntime().maxMemory() // 2**20},
        "job_seconds_by_phase": seconds_by_phase(jobs),
    } | ({"stage_seconds_measured_apart": stage_seconds(spark, config, rows)} if stages else {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--jdbc-rows", type=int, default=1_000_000, help="rows of the JDBC comparison's PostgreSQL table (0: skip it)")
    parser.add_argument("--out", default=str(ROOT / "bench/results/ingest.json"))
    args = parser.parse_args()

    config = load_pipeline_config(ROOT / "conf/customer360.yml", env="local")
    ui = {"spark.ui.enabled": "true", "spark.ui.port": "0", "spark.ui.retainedJobs": "100000"}  # the phases' job times
    spark = build_spark(config.platform.spark.model_copy(update={"progress_bar": False, "conf": {**config.platform.spark.conf, **ui}}))
    results = [run_size(spark, rows, stages=index == 0) for index, rows in enumerate(args.rows)]
    jdbc = run_jdbc(spark, args.jdbc_rows) if args.jdbc_rows else None
    first, last = results[0], results[-1]
    growth = (  # time growth per row growth: 1.0 means linear
        round((last["lakeforge_csv_to_bronze_to_silver_seconds"] / first["lakeforge_csv_to_bronze_to_silver_seconds"]) / (last["rows"] / first["rows"]), 3)
        if len(results) > 1 else None
    )
    report = {
        "benchmark": "ingest: CSV -> bronze -> silver vs plain Spark CSV -> Parquet; JDBC -> bronze -> silver vs spark.read.jdbc -> Parquet",
        "goals": {
            "ratio": ">= 0.5 at every size (0.3 at the very least)",
            "ratio_met": all(result["ratio"] >= 0.5 for result in results),
            "jdbc_ratio_met": jdbc is not None and jdbc["ratio"] >= 0.5,
            "time_growth_vs_rows": "<= 1.1 from the smallest to the largest size (1M to 10M rows)",
            "time_growth_met": growth is not None and growth <= 1.1 and last["rows"] >= 10 * first["rows"],
        },
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "spark": pyspark.__version__},
        "results": results,
        "jdbc": jdbc,
        "time_growth_vs_rows": growth,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
