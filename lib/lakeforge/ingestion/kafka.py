"""Kafka topics -> bronze, incrementally, by Structured Streaming: each record once, with the topic,
partition and offset it came from. Values are JSON objects or Confluent-format Avro (kafka_avro)."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from lakeforge.config.models import KafkaSource, read_secret
from lakeforge.ingestion.micro_batches import run_micro_batches

CORRUPT = "_corrupt_record"  # a value that is not a JSON object keeps its text here (silver quarantines it)
RECORD_COLUMNS = {"topic": "_topic", "partition": "_partition", "offset": "_offset", "timestamp": "_kafka_timestamp"}


def spark_options(source: KafkaSource) -> dict[str, str]:
    """Options of Spark's Kafka source for `source`, with its SASL/PLAIN login when it names one."""
    options = {
        "kafka.bootstrap.servers": source.bootstrap,
        "subscribe": ",".join(source.topics),
        "startingOffsets": source.starting_offsets,
        # Records deleted by retention before they were read stop the run instead of vanishing unnoticed.
        "failOnDataLoss": "true",
    }
    if source.max_offsets_per_trigger is not None:
        options["maxOffsetsPerTrigger"] = str(source.max_offsets_per_trigger)
    if source.user_env is not None:
        user, password = read_secret(source.user_env), read_secret(source.password_env)
        options |= {
            "kafka.security.protocol": "SASL_PLAINTEXT",
            "kafka.sasl.mechanism": "PLAIN",
            "kafka.sasl.jaas.config": f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{user}" password="{password}";',
        }
    return options


def value_schema(source: KafkaSource) -> StructType:
    fields = [StructField(name, StructType.fromDDL(f"v {kind}").fields[0].dataType, True) for name, kind in source.value_schema.items()]
    return StructType([*fields, StructField(CORRUPT, StringType(), True)])


def parse_records(source: KafkaSource) -> Callable[[DataFrame], DataFrame]:
    """Kafka rows of one micro-batch -> one column per value field, plus where each record came from
    (_source_ref: topic/partition/offset, which names a record uniquely). Per batch, not on the stream:
    Avro values need the writer schemas of the ids the batch holds."""
    schema = value_schema(source)
    writers = None
    if source.value_format == "avro":
        from lakeforge.ingestion.kafka_avro import WriterSchemas  # the `avro` extra: a JSON pipeline runs without it

        writers = WriterSchemas(source)

    def transform(df: DataFrame) -> DataFrame:
        records = df.select("value", *[F.col(column).alias(alias) for column, alias in RECORD_COLUMNS.items()])
        if writers is not None:
            values = writers.decode(records, schema, CORRUPT)
        else:
            value = F.from_json(F.col("value").cast("string"), schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT})
            values = records.withColumn("_value", value).select("_value.*", *RECORD_COLUMNS.values())
        return values.select(
            *[F.col(f"`{field.name}`") for field in schema.fields],
            *RECORD_COLUMNS.values(),
            F.concat_ws("/", "_topic", F.col("_partition").cast("string"), F.col("_offset").cast("string")).alias("_source_ref"),
        )

    return transform


def trigger_of(source: KafkaSource) -> dict[str, object]:
    if source.trigger == "available_now":
        return {"availableNow": True}
    return {"processingTime": source.processing_time}


def ingest_new_records(spark: SparkSession, source: KafkaSource, checkpoint: str, process_batch: Callable[[DataFrame, int], None]) -> None:
    """Every record not ingested before goes through `process_batch` once; with trigger available_now
    this returns when the records there at the start are done, with processing_time it runs until stopped."""
    records = spark.readStream.format("kafka").options(**spark_options(source)).load()
    parse = parse_records(source)
    run_micro_batches(records, checkpoint, lambda batch, batch_id: process_batch(parse(batch), batch_id), trigger_of(source))
