import sys

import pytest

from pyspark import TaskContext

from lakeforge.spark import job_description, local_jars


def test_local_session_has_delta_and_small_machine_settings(spark):
    assert spark.conf.get("spark.sql.extensions") == "io.delta.sql.DeltaSparkSessionExtension"
    assert spark.conf.get("spark.sql.catalog.spark_catalog") == "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    # (shuffle partitions are not checked: any test that builds the session from conf/ resets them)
    assert spark.conf.get("spark.databricks.delta.snapshotPartitions") == "2"
    assert spark.conf.get("spark.driver.host") == "127.0.0.1"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


def test_python_workers_run_the_projects_interpreter(spark):
    worker = spark.sparkContext.parallelize([0], 1).map(lambda _: __import__("sys").executable).first()
    assert worker == sys.executable


def test_missing_jars_is_a_set_up_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `make setup`"):
        local_jars(str(tmp_path))
    (tmp_path / "delta.jar").write_bytes(b"")
    assert local_jars(str(tmp_path)) == [str(tmp_path / "delta.jar")]


def test_jobs_inside_a_job_description_carry_it_and_the_outer_one_comes_back(spark):
    def described() -> str | None:  # as the job's tasks see it
        return spark.sparkContext.parallelize([0], 1).map(lambda _: TaskContext.get().getLocalProperty("spark.job.description")).first()

    with job_description(spark, "run demo: audit"):
        with job_description(spark, "silver customers: dedup + silver merge"):
            assert described() == "silver customers: dedup + silver merge"
        assert described() == "run demo: audit"
    assert described() is None
