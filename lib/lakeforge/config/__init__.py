"""Typed configuration loaded from YAML files in conf/."""

from lakeforge.config.loader import ConfigError, load_config, load_pipeline_config, load_yaml
from lakeforge.config.models import (
    ColumnRule,
    ExpectationRule,
    FileSource,
    GoldTable,
    JdbcSource,
    KafkaSource,
    PipelineConfig,
    PlatformConfig,
    RestSource,
    SilverTable,
    SparkSettings,
    StorageSettings,
    StrictModel,
)

__all__ = [
    "ColumnRule",
    "ConfigError",
    "ExpectationRule",
    "FileSource",
    "GoldTable",
    "JdbcSource",
    "KafkaSource",
    "PipelineConfig",
    "PlatformConfig",
    "RestSource",
    "SilverTable",
    "SparkSettings",
    "StrictModel",
    "StorageSettings",
    "load_config",
    "load_pipeline_config",
    "load_yaml",
]
