"""The one place a SparkSession is built: local mode with Delta and local jars, or cluster mode."""

from __future__ import annotations

import glob
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from pyspark.sql import SparkSession

from lakeforge.config.models import SparkSettings

log = logging.getLogger(__name__)

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}

# Sized for a laptop or a 2-core CI box; cluster mode leaves these to the cluster.
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    # Stay on loopback: no other interface is needed, or wanted, in local mode.
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    # Delta reads its log with this many partitions; the default 50 is slow for small tables.
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.databricks.delta.optimize.repartition.enabled": "true",
    # VACUUM with a short retention is allowed so tests and demos can vacuum; clusters keep the check.
    "spark.databricks.delta.retentionDurationCheck.enabled": "false",
    "spark.sql.adaptive.enabled": "true",
    # Cached frames here live for one step of one job on one machine: compressing their columns costs
    # more CPU than the memory is worth (a 1M-row CSV ingest: 5 s of 55), and what does not fit spills.
    # They are cached serialised (MEMORY_AND_DISK): deserialised blocks of a 10M-row ingest, read back
    # from disk, ran a 6 GiB driver out of heap.
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.streaming.forceDeleteTempCheckpointLocation": "true",
    # Streaming checkpoints through FileSystem.rename: the default FileContext rename asks Hadoop's local
    # file system for link status, which forks `readlink` twice per file, several times per micro-batch.
    "spark.sql.streaming.checkpointFileManagerClass": "org.apache.spark.sql.execution.streaming.FileSystemBasedCheckpointFileManager",
}


def local_jars(jars_dir: str | None) -> list[str]:
    """Jars fetched by scripts/setup/jars.sh; an empty or missing folder is a set-up error."""
    if jars_dir is None:
        return []
    jars = sorted(glob.glob(os.path.join(jars_dir, "*.jar")))
    if not jars:
        raise FileNotFoundError(
            f"no jars in {jars_dir}: run `make setup` (scripts/setup/jars.sh) to fetch Delta and the JDBC driver"
        )
    return [os.path.abspath(jar) for jar in jars]


def build_spark(settings: SparkSettings | None = None) -> SparkSession:
    """Build (or return the running) SparkSession configured for Delta Lake."""
    settings = settings or SparkSettings()
    # pandas-on-Spark asks for this before any session exists; set here it reaches the executors too.
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    builder = SparkSession.builder.appName(settings.app_name)
    conf: dict[str, str] = dict(DELTA_CONF)
    if settings.mode == "local":
        builder = builder.master(settings.master)
        conf.update(LOCAL_CONF)
        # Python workers must be this interpreter (the project's env), not whatever python3 is on PATH;
        # SparkContext reads the variable when it starts.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        conf["spark.driver.memory"] = settings.driver_memory
        conf["spark.sql.shuffle.partitions"] = str(settings.shuffle_partitions)
        # spark.default.parallelism stays Spark's local default, the master's cores: training spreads its
        # rows over that many partitions (stratified.assign_folds), one task per core on every pass.
        jars = local_jars(settings.jars_dir)
        if jars:
            conf["spark.jars"] = ",".join(jars)
    conf["spark.ui.showConsoleProgress"] = str(settings.progress_bar).lower()
    conf.update(settings.conf)
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(settings.log_level)
    if settings.mode == "local":
        warn_if_heap_short(spark, settings.driver_memory)
    if settings.mode == "cluster":
        from lakeforge.executors import require_on_executors

        require_on_executors(spark, settings.executor_modules, extra="all", purpose=f"{settings.app_name} on {spark.sparkContext.master}")
    return spark


JOB_DESCRIPTION = "spark.job.description"


@contextmanager
def job_description(spark: SparkSession, text: str) -> Iterator[None]:
    """Name the Spark jobs run inside (the Spark UI and History Server list jobs by it, and the ingest
    benchmark times its phases by it), then put back what was there (a streaming batch's description)."""
    context = spark.sparkContext
    previous = context.getLocalProperty(JOB_DESCRIPTION)
    context.setJobDescription(text)
    try:
        yield
    finally:
        context.setLocalProperty(JOB_DESCRIPTION, previous)  # type: ignore[arg-type]  # None removes it


def heap_short_of(max_heap_bytes: int, driver_memory_bytes: int) -> bool:
    """The JVM reports a little less than -Xmx as its max heap (one survivor space is not counted), so
    only a heap under 80% of the setting is one that ignored it."""
    return max_heap_bytes < 0.8 * driver_memory_bytes


def warn_if_heap_short(spark: SparkSession, driver_memory: str) -> None:
    """Under spark-submit the driver JVM starts before the job reads its config, and Spark ignores
    spark.driver.memory set then: the job would run with the default 1g and fail later with
    `Java heap space`. Say so at the start, with the fix."""
    jvm = spark.sparkContext._jvm
    max_heap = jvm.java.lang.Runtime.getRuntime().maxMemory()
    wanted = jvm.org.apache.spark.network.util.JavaUtils.byteStringAsBytes(driver_memory)
    if heap_short_of(max_heap, wanted):
        log.warning("the driver JVM has a %d MiB heap but platform.spark.driver_memory is %s: it started before the config "
                    "was read (spark-submit); pass --driver-memory %s to spark-submit", max_heap // 2**20, driver_memory, driver_memory)
