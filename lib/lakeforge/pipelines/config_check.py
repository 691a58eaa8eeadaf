"""Check a pipeline file without running it: its keys, its table references, and its gold SQL and
transforms planned by Spark against the silver schemas its column declarations imply."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from lakeforge.config.loader import expand_vars, merged_config_data
from lakeforge.config.models import ExpectationRule, PipelineConfig
from lakeforge.pipelines.gold_definitions import GoldDefinitionError, build_order, compute_gold, definition_key, table_inputs

# Columns every silver row carries besides the declared ones (pipelines.medallion.METADATA).
SILVER_METADATA = {"_source": "string", "_source_ref": "string", "_run_id": "string", "_ingested_at": "timestamp"}
SOURCE_KINDS = {"files", "jdbc", "rest", "kafka"}


@dataclass(frozen=True)
class ConfigProblem:
    key: str  # dotted path in the YAML: gold.daily_revenue.sql, silver.orders.keys
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def load_checked(path: str | Path, env: str | None = None) -> tuple[PipelineConfig | None, list[ConfigProblem]]:
    """The typed config, or None with every schema mistake (unknown or missing keys, bad values)."""
    data, _ = merged_config_data(path, env)
    try:
        config = PipelineConfig.model_validate(expand_vars(data))
    except ValidationError as error:
        return None, [schema_problem(detail) for detail in error.errors()]
    return config, [*silver_problems(config), *gold_reference_problems(config)]


def schema_problem(detail: dict) -> ConfigProblem:
    loc = [str(part) for part in detail["loc"]]
    if len(loc) > 2 and loc[0] == "sources" and loc[2] in SOURCE_KINDS:
        del loc[2]  # pydantic names the union member it tried; the YAML has no such key
    message = detail["msg"].removeprefix("Value error, ")
    if not loc and ": " in message:  # a whole-file rule names its key first (PipelineConfig's validators)
        key, message = message.split(": ", 1)
        return ConfigProblem(key, message)
    return ConfigProblem(".".join(loc) or "(top)", message)


def silver_problems(config: PipelineConfig) -> list[ConfigProblem]:
    problems = []
    for table, spec in config.silver.items():
        columns, at = set(spec.columns), f"silver.{table}"
        problems += [ConfigProblem(f"{at}.keys", f"'{key}' is not one of the table's columns {sorted(columns)}") for key in spec.keys if key not in columns]
        if spec.latest_by is not None and spec.latest_by not in columns:
            problems.append(ConfigProblem(f"{at}.latest_by", f"'{spec.latest_by}' is not one of the table's columns {sorted(columns)}"))
        problems += rule_problems(at, spec.expectations, columns)
    return problems


def rule_problems(at: str, rules: list[ExpectationRule], columns: set[str]) -> list[ConfigProblem]:
    return [
        ConfigProblem(f"{at}.expectations[{index}].kwargs.column", f"rule '{rule.name}' checks column '{rule.kwargs['column']}', which the table does not have {sorted(columns)}")
        for index, rule in enumerate(rules)
        if "column" in rule.kwargs and rule.kwargs["column"] not in columns
    ]


def gold_reference_problems(config: PipelineConfig) -> list[ConfigProblem]:
    """Gold SQL that does not parse, transforms that do not import, unknown tables, cycles."""
    problems, inputs = [], {}
    for name in config.gold:
        try:
            inputs[name] = table_inputs(config, name)
        except GoldDefinitionError as error:
            problems.append(ConfigProblem(error.key, error.message))
    try:
        build_order(inputs)
    except GoldDefinitionError as error:
        problems.append(ConfigProblem(error.key, error.message))
    return problems


def plan_problems(spark: SparkSession, config: PipelineConfig) -> list[ConfigProblem]:
    """Plan every gold table on empty silver tables of the declared schemas: Spark names each unknown
    column or table, and the result must have the table's keys, partition and expectation columns."""
    frames, problems = {}, []
    for table, spec in config.silver.items():
        try:
            frames[table] = empty_silver(spark, spec.columns)
        except PySparkException as error:
            problems.append(ConfigProblem(f"silver.{table}.columns", f"a type does not parse: {first_line(error)}"))
    try:
        order = build_order({name: table_inputs(config, name) for name in config.gold})
    except GoldDefinitionError:
        return problems  # load_checked reported it
    for name in order:
        spec = config.gold[name]
        inputs = table_inputs(config, name)
        if any(table not in frames for table in inputs):
            continue  # an input already has a problem
        try:
            rows = compute_gold(spark, name, spec, {table: frames[table] for table in inputs})
        except Exception as error:  # Spark's analysis errors, or anything a user's transform raises
            problems.append(ConfigProblem(definition_key(name, spec), first_line(error)))
            continue
        frames[name] = rows
        problems += output_problems(f"gold.{name}", spec.keys, spec.partition_by, spec.expectations, rows)
    return problems


def output_problems(at: str, keys: list[str], partition_by: list[str], rules: list[ExpectationRule], rows: DataFrame) -> list[ConfigProblem]:
    columns = set(rows.columns)
    missing = [ConfigProblem(f"{at}.{field}", f"'{column}' is not a column of the table's result {sorted(columns)}")
               for field, named in (("keys", keys), ("partition_by", partition_by)) for column in named if column not in columns]
    return [*missing, *rule_problems(at, rules, columns)]


def empty_silver(spark: SparkSession, columns: dict) -> DataFrame:
    types = {name: rule.type for name, rule in columns.items()} | SILVER_METADATA
    return spark.createDataFrame([], ", ".join(f"`{name}` {kind}" for name, kind in types.items()))


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
