"""What a gold table is made of: its inputs (tables named in its SQL or its transform's parameters),
the order the tables build in, and its rows computed from input DataFrames."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from graphlib import CycleError, TopologicalSorter

import sqlglot
from pyspark.sql import DataFrame, SparkSession
from sqlglot import exp

from lakeforge.config.models import GoldTable, PipelineConfig
from lakeforge.errors import LakeforgeError


class GoldDefinitionError(LakeforgeError, ValueError):
    """A gold table's declaration cannot be used; `key` is where in the pipeline YAML the mistake is."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def load_transform(name: str, spec: GoldTable) -> Callable[..., DataFrame]:
    """The function a `transform: package.module:function` names."""
    module_name, _, function_name = spec.transform.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise GoldDefinitionError(f"gold.{name}.transform", f"cannot import module '{module_name}': {error}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise GoldDefinitionError(f"gold.{name}.transform", f"module '{module_name}' has no function '{function_name}'")
    return function


def referenced_tables(name: str, spec: GoldTable) -> list[str]:
    """The table names a gold table reads: those in its SQL (CTE names aside), or its transform's
    parameters that `params` does not fill."""
    if spec.transform is not None:
        signature = inspect.signature(load_transform(name, spec))
        parameters = signature.parameters
        unknown_params = sorted(set(spec.params) - set(parameters))
        if unknown_params:
            raise GoldDefinitionError(f"gold.{name}.params", f"{unknown_params} are not parameters of {spec.transform}{signature}")
        return [parameter for parameter in parameters if parameter not in spec.params]
    try:
        tree = sqlglot.parse_one(spec.sql, read="spark")
    except sqlglot.errors.ParseError as error:
        raise GoldDefinitionError(f"gold.{name}.sql", f"does not parse: {error}") from None
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = [table.name for table in tree.find_all(exp.Table) if table.name not in ctes]
    return list(dict.fromkeys(tables))


def definition_key(name: str, spec: GoldTable) -> str:
    """Where the table's SQL or transform is in the pipeline YAML."""
    return f"gold.{name}.sql" if spec.sql is not None else f"gold.{name}.transform"


def table_inputs(config: PipelineConfig, name: str) -> list[str]:
    """A gold table's input tables, each checked to be a silver or gold table of the pipeline."""
    spec = config.gold[name]
    tables = referenced_tables(name, spec)
    unknown = [table for table in tables if table not in {*config.silver, *config.gold}]
    if unknown:
        raise GoldDefinitionError(
            definition_key(name, spec),
            f"reads {unknown}, which are not tables of this pipeline (silver: {sorted(config.silver)}, gold: {sorted(config.gold)})",
        )
    return tables


def gold_inputs(config: PipelineConfig) -> dict[str, list[str]]:
    return {name: table_inputs(config, name) for name in config.gold}


def build_order(inputs: Mapping[str, list[str]]) -> list[str]:
    """Gold tables in an order where each comes after the gold tables it reads."""
    graph = {name: [table for table in tables if table in inputs] for name, tables in inputs.items()}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        cycle = error.args[1]
        raise GoldDefinitionError("gold", f"tables read each other in a cycle: {' -> '.join(cycle)}") from None


def compute_gold(spark: SparkSession, name: str, spec: GoldTable, tables: Mapping[str, DataFrame]) -> DataFrame:
    """The gold table's rows from its input tables (a lazy DataFrame: nothing runs yet)."""
    if spec.transform is not None:
        return load_transform(name, spec)(**tables, **spec.params)
    for table, df in tables.items():
        df.createOrReplaceTempView(table)  # SQL names the tables; a temp view per name resolves them
    return spark.sql(spec.sql)
