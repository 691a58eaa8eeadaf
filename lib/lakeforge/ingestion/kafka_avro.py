"""Avro values in the Confluent wire format (a zero byte, the writer schema's 4-byte registry id, the
Avro body), decoded with each record's own writer schema, as Confluent's deserializer does: records
written before and after a schema change decode side by side."""

from __future__ import annotations

import json
from functools import reduce
from operator import or_

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.avro.functions import from_avro
from pyspark.sql.types import StructType

from lakeforge.config.models import KafkaSource, read_secret

WIRE_HEADER_BYTES = 5


def writer_id() -> Column:
    """The writer schema's registry id, or null when the value does not start with the wire format's zero byte."""
    return F.when(F.hex(F.substring("value", 1, 1)) == "00", F.conv(F.hex(F.substring("value", 2, 4)), 16, 10).cast("int"))


class WriterSchemas:
    """Writer schemas by registry id, fetched once each (an id never changes its schema)."""

    def __init__(self, source: KafkaSource) -> None:
        settings = {"url": source.schema_registry_url}
        if source.registry_user_env is not None:
            settings["basic.auth.user.info"] = f"{read_secret(source.registry_user_env)}:{read_secret(source.registry_password_env)}"
        self.client = SchemaRegistryClient(settings)
        self.known: dict[int, dict | None] = {}

    def record_schema(self, schema_id: int) -> dict | None:
        """The Avro record schema of `schema_id`, or None when the registry has no such id or it is not
        an Avro record (its records then go to quarantine). Any other registry failure stops the batch."""
        if schema_id not in self.known:
            try:
                schema = self.client.get_schema(schema_id)
            except SchemaRegistryError as error:
                if error.http_status_code != 404:
                    raise
                schema = None
            parsed = json.loads(schema.schema_str) if schema is not None and schema.schema_type in (None, "AVRO") else None
            self.known[schema_id] = parsed if isinstance(parsed, dict) and parsed.get("type") == "record" else None
        return self.known[schema_id]

    def decode(self, batch: DataFrame, value_schema: StructType, corrupt: str) -> DataFrame:
        """Kafka rows -> the `value_schema` fields decoded from each value, the other Kafka columns kept.

        A value that is not in the wire format, names an id the registry lacks, or does not decode is
        null in every field and keeps its bytes (base64) in `corrupt`, so silver quarantines it."""
        batch = batch.withColumn("_writer_id", writer_id())
        ids = [row["_writer_id"] for row in batch.where("_writer_id IS NOT NULL").select("_writer_id").distinct().collect()]
        writers = {schema_id: schema for schema_id in ids if (schema := self.record_schema(schema_id)) is not None}
        body = F.expr(f"substring(value, {WIRE_HEADER_BYTES + 1})")
        decoded = {
            schema_id: F.when(F.col("_writer_id") == schema_id, from_avro(body, json.dumps(schema), {"mode": "PERMISSIVE"}))
            for schema_id, schema in writers.items()
        }

        def field(name: str, kind) -> Column:
            written = [decoded[schema_id].getField(name) for schema_id, schema in writers.items() if name in {f["name"] for f in schema["fields"]}]
            return F.coalesce(*[column.cast(kind) for column in written], F.lit(None).cast(kind)).alias(name)

        readable = reduce(or_, [column.isNotNull() for column in decoded.values()], F.lit(False))
        fields = [field(f.name, f.dataType) for f in value_schema.fields if f.name != corrupt]
        kept = [name for name in batch.columns if name not in ("value", "_writer_id")]
        return batch.select(*kept, *fields, F.when(~readable, F.base64("value")).alias(corrupt))
