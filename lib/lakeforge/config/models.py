"""Config schema: one pydantic model per YAML section, strict about unknown keys."""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lakeforge.errors import MissingSecretError


class StrictModel(BaseModel):
    """Rejects unknown keys, so a typo in YAML is an error instead of a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def read_secret(env_var: str | None) -> str | None:
    """Value of a secret referenced by environment-variable name (secrets never live in conf/)."""
    if env_var is None:
        return None
    value = os.environ.get(env_var)
    if value is None:
        raise MissingSecretError(f"environment variable {env_var} is not set (the config references it for a secret); "
                                 "export it, e.g. `source scripts/services/env.sh` for the local services")
    return value


# --- platform: Spark session, storage, tracking ---------------------------------------------


class SparkSettings(StrictModel):
    mode: Literal["local", "cluster"] = "local"
    # local mode only; in cluster mode spark-submit decides master and resources.
    master: str = "local[*]"
    app_name: str = "lakeforge"
    shuffle_partitions: int = Field(default=4, ge=1)
    driver_memory: str = "4g"
    jars_dir: str | None = None
    progress_bar: bool = True
    log_level: str = "WARN"
    conf: dict[str, str] = Field(default_factory=dict)
    # cluster mode only: Python modules every executor must import, checked when the session starts
    # (lakeforge.executors), so a missing dependency fails the job at once with the fix, not deep in a task.
    executor_modules: list[str] = Field(default_factory=list)


class StorageSettings(StrictModel):
    # Delta tables live at {root}/{layer}/{name}; raw files arrive under {landing}.
    root: str
    landing: str

    @property
    def checkpoints(self) -> str:
        return f"{self.root}/_checkpoints"


class PlatformConfig(StrictModel):
    spark: SparkSettings = Field(default_factory=SparkSettings)
    storage: StorageSettings
    mlflow_tracking_uri: str | None = None


# --- sources -> bronze -----------------------------------------------------------------------


class FileSource(StrictModel):
    kind: Literal["files"] = "files"
    path: str  # relative paths resolve under storage.landing
    format: Literal["csv", "json", "jsonl", "parquet", "xml"] | None = None  # None: from the extension
    options: dict[str, str | int | bool] = Field(default_factory=dict)
    # Column -> Spark SQL type of the raw read. CSV/JSON/XML are read as strings and typed in silver.
    schema_: dict[str, str] = Field(alias="schema")
    max_files_per_batch: int | None = None


class JdbcSource(StrictModel):
    kind: Literal["jdbc"] = "jdbc"
    url: str
    table: str
    driver: str | None = None  # JDBC driver class; known from the URL for PostgreSQL, MySQL, SQL Server, Oracle
    user_env: str
    password_env: str
    primary_key: list[str]
    # Incremental load: rows with watermark_column > the stored high-water mark.
    watermark_column: str | None = None
    # Parallel read: split partition_column's range into num_partitions JDBC queries.
    partition_column: str | None = None
    num_partitions: int = Field(default=1, ge=1)
    fetch_size: int = 10_000


class PagePagination(StrictModel):
    type: Literal["page"] = "page"
    page_param: str = "page"
    size_param: str = "page_size"
    page_size: int = 100
    start_page: int = 1


class OffsetPagination(StrictModel):
    type: Literal["offset"] = "offset"
    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int = 100


class CursorPagination(StrictModel):
    type: Literal["cursor"] = "cursor"
    cursor_param: str = "cursor"
    next_cursor_field: str = "next_cursor"  # dotted path in the response body


class LinkHeaderPagination(StrictModel):
    type: Literal["link"] = "link"  # RFC 8288 Link: <...>; rel="next"


Pagination = Annotated[
    PagePagination | OffsetPagination | CursorPagination | LinkHeaderPagination,
    Field(discriminator="type"),
]


class RetryPolicy(StrictModel):
    max_attempts: int = Field(default=5, ge=1)
    backoff_seconds: float = 0.5  # first wait; doubles each attempt, with full jitter
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 10.0


class RestSource(StrictModel):
    kind: Literal["rest"] = "rest"
    url: str
    pagination: Pagination = Field(default_factory=PagePagination)
    records_field: str = "data"  # dotted path to the list of records in each page
    token_env: str | None = None  # bearer token, read from this environment variable
    since_param: str | None = None  # incremental: sent with the latest value of since_field seen
    since_field: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    # Bronze stores raw pages; silver parses records with this schema.
    record_schema: dict[str, str]


class KafkaSource(StrictModel):
    """Records of Kafka topics; each value a JSON object, or Avro in the Confluent wire format decoded
    with its writer's schema from a schema registry; `value_schema` names the fields bronze keeps."""

    kind: Literal["kafka"] = "kafka"
    bootstrap: str
    topics: list[str] = Field(min_length=1)
    value_format: Literal["json", "avro"] = "json"
    # field -> Spark SQL type in bronze; strings are typed in silver. Avro fields the writer lacks are null.
    value_schema: dict[str, str]
    # Confluent-compatible schema registry (avro only); its optional basic-auth login from these variables.
    schema_registry_url: str | None = None
    registry_user_env: str | None = None
    registry_password_env: str | None = None
    # SASL/PLAIN login read from these environment variables; without them the connection is plaintext.
    user_env: str | None = None
    password_env: str | None = None
    starting_offsets: Literal["earliest", "latest"] = "earliest"  # for the first run only: the checkpoint knows the rest
    # available_now: read what is there and stop (scheduled runs); processing_time: run continuously.
    trigger: Literal["available_now", "processing_time"] = "available_now"
    processing_time: str = "30 seconds"
    max_offsets_per_trigger: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _registry_for_avro(self) -> KafkaSource:
        if (self.value_format == "avro") != (self.schema_registry_url is not None):
            raise ValueError("`schema_registry_url` is required with value_format: avro (the writer's schema comes from the registry) and only then")
        return self


Source = Annotated[FileSource | JdbcSource | RestSource | KafkaSource, Field(discriminator="kind")]


# --- bronze -> silver: cleansing and validation ------------------------------------------------


class ColumnRule(StrictModel):
    """How one silver column is derived from its raw bronze value."""

    type: str = "string"  # Spark SQL type: string, int, bigint, double, decimal(10,2), date, timestamp, boolean
    source: str | None = None  # raw column name, when it differs
    trim: bool = True  # string columns; values of other types are always stripped of surrounding blanks
    case: Literal["lower", "upper", "title"] | None = None
    formats: list[str] = Field(default_factory=list)  # date/timestamp patterns tried in order
    true_values: list[str] = Field(default_factory=lambda: ["yes", "y", "true", "t", "1"])
    false_values: list[str] = Field(default_factory=lambda: ["no", "n", "false", "f", "0"])
    null_values: list[str] = Field(default_factory=lambda: ["", "null", "none", "n/a", "na"])
    impute: str | int | float | bool | None = None  # constant used when the value is null after cleansing


class ExpectationRule(StrictModel):
    """A Great Expectations expectation with Lakeforge's handling of failures.

    `policy`, as in declarative pipelines' expect / expect_or_drop / expect_or_fail:
    drop sends the failing rows to quarantine with the rule's name (for a table-level rule such as
    a row count, the whole batch), warn keeps them and records the count, fail stops the job.
    """

    name: str
    expectation: str  # e.g. expect_column_values_to_not_be_null
    kwargs: dict[str, Any] = Field(default_factory=dict)
    policy: Literal["warn", "drop", "fail"] = "drop"


class SilverTable(StrictModel):
    source: str  # key in PipelineConfig.sources
    keys: list[str]
    latest_by: str | None = None  # dedupe keeps the row with the greatest value of this column
    columns: dict[str, ColumnRule]
    expectations: list[ExpectationRule] = Field(default_factory=list)


# --- silver -> gold: tables declared in SQL or as Python transforms -----------------------------

TRANSFORM_PATH = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"


class GoldTable(StrictModel):
    """One gold table: Spark SQL over silver and gold tables by name, or a Python transform.

    transform: "package.module:function"; its parameters named after silver or gold tables receive
    those tables as DataFrames, the others come from `params`. mode incremental recomputes only the
    keys that the inputs' changes since the last build touch (Delta's change data feed) and MERGEs them.
    """

    sql: str | None = None
    transform: str | None = Field(default=None, pattern=TRANSFORM_PATH)
    params: dict[str, Any] = Field(default_factory=dict)
    keys: list[str] = Field(min_length=1)
    mode: Literal["full", "incremental"] = "full"
    partition_by: list[str] = Field(default_factory=list)
    expectations: list[ExpectationRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_definition(self) -> GoldTable:
        if (self.sql is None) == (self.transform is None):
            raise ValueError("set exactly one of `sql` (Spark SQL over tables by name) or `transform` (package.module:function)")
        if self.sql is not None and self.params:
            raise ValueError("`params` are arguments of a `transform`; a `sql` table takes none")
        return self


class PipelineConfig(StrictModel):
    name: str
    platform: PlatformConfig
    sources: dict[str, Source]
    silver: dict[str, SilverTable]
    gold: dict[str, GoldTable] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _silver_sources_exist(self) -> PipelineConfig:
        for table, spec in self.silver.items():
            if spec.source not in self.sources:
                raise ValueError(
                    f"silver.{table}.source: silver table '{table}' reads source '{spec.source}', "
                    f"which is not one of the sources {sorted(self.sources)}"
                )
        return self

    @model_validator(mode="after")
    def _gold_names_are_not_silver_names(self) -> PipelineConfig:
        shared = sorted(set(self.gold) & set(self.silver))
        if shared:
            raise ValueError(f"gold: tables {shared} have the names of silver tables: SQL and transforms refer to tables by name, so rename one")
        return self
