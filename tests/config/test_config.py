from pathlib import Path

import pytest

from lakeforge.config import ConfigError, FileSource, JdbcSource, RestSource, load_pipeline_config
from lakeforge.config.loader import load_model
from lakeforge.config.models import PipelineConfig, read_secret

ROOT = Path(__file__).resolve().parents[2]


def write_conf(tmp_path: Path, body: str, overlay: str = "platform: {storage: {root: /lh, landing: /in}}") -> Path:
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "local.yml").write_text(overlay)
    path = tmp_path / "pipe.yml"
    path.write_text(body)
    return path


MINIMAL = """
name: p
sources:
  c: {kind: files, path: c, format: csv, schema: {id: string}}
silver:
  c: {source: c, keys: [id], columns: {id: {}}}
"""


def test_shipped_pipeline_config_loads_with_each_environment(monkeypatch):
    monkeypatch.setenv("LAKEFORGE_WORK", "/tmp/lf")
    local = load_pipeline_config(ROOT / "conf/customer360.yml", env="local")
    assert local.platform.storage.root == "/tmp/lf/lakehouse"
    assert isinstance(local.sources["customers"], FileSource)
    assert isinstance(local.sources["billing"], JdbcSource)
    assert isinstance(local.sources["tickets"], RestSource)
    assert local.sources["tickets"].pagination.type == "cursor"
    assert local.silver["customers"].columns["tenure"].type == "int"

    monkeypatch.setenv("LAKEFORGE_LAKEHOUSE_ROOT", "s3://bucket/lake")
    monkeypatch.setenv("LAKEFORGE_LANDING_ROOT", "s3://bucket/landing")
    cluster = load_pipeline_config(ROOT / "conf/customer360.yml", env="cluster")
    assert cluster.platform.spark.mode == "cluster"
    assert cluster.platform.storage.root == "s3://bucket/lake"


def test_unknown_key_is_an_error_naming_the_key(tmp_path):
    path = write_conf(tmp_path, MINIMAL.replace("keys: [id]", "keys: [id], dedupe_by: x"))
    with pytest.raises(ConfigError, match=r"silver\.c\.dedupe_by: Extra inputs are not permitted"):
        load_pipeline_config(path, env="local")


def test_missing_key_is_an_error_naming_the_key(tmp_path):
    path = write_conf(tmp_path, MINIMAL.replace("keys: [id], ", ""))
    with pytest.raises(ConfigError, match=r"silver\.c\.keys: Field required"):
        load_pipeline_config(path, env="local")


def test_silver_table_must_read_a_declared_source(tmp_path):
    path = write_conf(tmp_path, MINIMAL.replace("{source: c,", "{source: nope,"))
    with pytest.raises(ConfigError, match="reads source 'nope'"):
        load_pipeline_config(path, env="local")


def test_overlay_wins_over_pipeline_file_and_vars_expand(tmp_path, monkeypatch):
    monkeypatch.setenv("LF_TEST_ROOT", "/data")
    body = MINIMAL + "platform: {spark: {shuffle_partitions: 64}, storage: {root: /ignored, landing: /in}}\n"
    overlay = "platform: {spark: {shuffle_partitions: 2}, storage: {root: '${LF_TEST_ROOT}/lake', landing: '${LF_MISSING:-/in}'}}"
    config = load_pipeline_config(write_conf(tmp_path, body, overlay), env="local")
    assert config.platform.spark.shuffle_partitions == 2
    assert config.platform.storage.root == "/data/lake"
    assert config.platform.storage.landing == "/in"


def test_unset_variable_without_default_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("LF_NOT_SET", raising=False)
    path = write_conf(tmp_path, MINIMAL, "platform: {storage: {root: '${LF_NOT_SET}', landing: /in}}")
    with pytest.raises(ConfigError, match="LF_NOT_SET is not set"):
        load_pipeline_config(path, env="local")


def test_missing_environment_overlay_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="environment overlay not found"):
        load_pipeline_config(write_conf(tmp_path, MINIMAL), env="staging")


def test_secrets_are_read_from_the_environment_only(monkeypatch):
    monkeypatch.setenv("LF_SECRET", "s3cret")
    assert read_secret("LF_SECRET") == "s3cret"
    monkeypatch.delenv("LF_SECRET")
    with pytest.raises(KeyError, match="LF_SECRET is not set"):
        read_secret("LF_SECRET")


def test_rest_pagination_is_chosen_by_type():
    data = {
        "name": "p",
        "platform": {"storage": {"root": "/r", "landing": "/l"}},
        "sources": {"t": {"kind": "rest", "url": "http://x", "pagination": {"type": "link"}, "record_schema": {"id": "string"}}},
        "silver": {},
    }
    config = load_model(PipelineConfig, data, origin="test")
    assert config.sources["t"].pagination.type == "link"
    data["sources"]["t"]["pagination"] = {"type": "page", "cursor_param": "c"}
    with pytest.raises(ConfigError, match="cursor_param"):
        load_model(PipelineConfig, data, origin="test")


def test_avro_kafka_values_need_a_schema_registry(tmp_path):
    kafka = "{kind: kafka, bootstrap: 'h:9092', topics: [t], value_schema: {id: string}, value_format: avro}"
    path = write_conf(tmp_path, MINIMAL.replace("{kind: files, path: c, format: csv, schema: {id: string}}", kafka))
    with pytest.raises(ConfigError, match=r"sources\.c\.kafka: .*`schema_registry_url` is required with value_format: avro"):
        load_pipeline_config(path, env="local")
    path.write_text(path.read_text().replace("value_format: avro", "value_format: avro, schema_registry_url: 'http://r'"))
    assert load_pipeline_config(path, env="local").sources["c"].schema_registry_url == "http://r"
