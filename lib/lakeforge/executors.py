"""Check that executors can import the Python modules a job needs, before the job depends on them.

On a cluster, executors run their own Python: a module missing there surfaces as a ModuleNotFoundError
deep in a task's traceback, after Spark has retried the task several times. One tiny job that imports
nothing but the standard library asks every executor up front and fails with what is missing, where,
and how to ship it.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from lakeforge.errors import LakeforgeError

SHIPPING_HINT = (
    "install `lakeforge[{extra}]` on the cluster (a cluster library), or ship the packed environment: "
    "spark-submit --archives dist/lakeforge-env.tar.gz#environment --conf spark.pyspark.python=./environment/bin/python "
    "(built by `make dist`; see docs/cluster.md)"
)


class MissingExecutorDependency(LakeforgeError):
    """Executors cannot import modules the job needs."""


def missing_on_executors(spark: SparkSession, modules: list[str]) -> dict[str, list[str]]:
    """{executor host: modules it cannot import}, from one task per slot (hosts missing nothing are left out)."""
    wanted = list(modules)

    # Defined inside, so cloudpickle ships it by value: the check must not need lakeforge on the executor.
    def probe(_rows):
        import importlib.util
        import socket

        yield socket.gethostname(), [name for name in wanted if importlib.util.find_spec(name) is None]

    slots = max(2, spark.sparkContext.defaultParallelism)
    answers = spark.sparkContext.parallelize(range(slots), slots).mapPartitions(probe).collect()
    missing: dict[str, set[str]] = {}
    for host, names in answers:
        if names:
            missing.setdefault(host, set()).update(names)
    return {host: sorted(names) for host, names in sorted(missing.items())}


def require_on_executors(spark: SparkSession, modules: list[str], extra: str, purpose: str) -> None:
    """Raise MissingExecutorDependency naming the modules, the hosts and the fix if any executor lacks one."""
    if not modules:
        return
    missing = missing_on_executors(spark, modules)
    if missing:
        where = "; ".join(f"{host}: {', '.join(names)}" for host, names in missing.items())
        python = spark.sparkContext.getConf().get("spark.pyspark.python", "PYSPARK_PYTHON or python3")
        raise MissingExecutorDependency(
            f"{purpose} needs Python modules the executors cannot import ({where}; executor Python: {python}): "
            + SHIPPING_HINT.format(extra=extra)
        )
