"""Run a streaming source through a function per micro-batch, with the checkpoint that makes it exactly-once."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame


def run_micro_batches(
    stream: DataFrame, checkpoint: str, process_batch: Callable[[DataFrame, int], None], trigger: dict[str, object]
) -> None:
    """Start the query and wait for it (availableNow: until the data there at the start is done).

    A batch's error is raised as itself, not as the StreamingQueryException Spark wraps it in.
    """
    errors: list[Exception] = []

    def guarded(batch: DataFrame, batch_id: int) -> None:
        try:
            process_batch(batch, batch_id)
        except Exception as error:
            errors.append(error)
            raise

    query = (
        stream.writeStream.foreachBatch(guarded)
        .option("checkpointLocation", checkpoint)  # exactly-once: which offsets and batches are done survives restarts
        .trigger(**trigger)
        .start()
    )
    try:
        query.awaitTermination()
    except StreamingQueryException:
        if errors:
            raise errors[0] from None
        raise
