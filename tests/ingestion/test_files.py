"""File sources: each format lands in bronze, is refined into silver, and is read exactly once."""

import json

import pandas as pd
import pytest
from pyspark.sql import functions as F

from helpers import one_source_pipeline
from lakeforge.config.models import FileSource, PipelineConfig
from lakeforge.ingestion.files import resolve_format
from lakeforge.pipelines.runner import PipelineRunner


def write_csv(folder, name, rows, malformed=()):
    lines = ["id;name;amount", *(f'{i};"{n}";{a}' for i, n, a in rows), *malformed]
    (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="latin-1")


def write_jsonl(folder, name, rows, malformed=()):
    lines = [json.dumps({"id": i, "name": n, "amount": a}) for i, n, a in rows] + list(malformed)
    (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n")


def write_xml(folder, name, rows, malformed=()):
    body = "".join(f"<order><id>{i}</id><name>{n}</name><amount>{a}</amount></order>" for i, n, a in rows)
    body += "".join(malformed)
    (folder / f"{name}.xml").write_text(f"<orders>{body}</orders>\n")


def write_parquet(folder, name, rows, malformed=()):
    pd.DataFrame(rows, columns=["id", "name", "amount"]).astype({"id": "int64", "amount": "float64"}).to_parquet(folder / f"{name}.parquet")


FORMATS = {
    "csv": (write_csv, {"header": True, "delimiter": ";", "encoding": "ISO-8859-1"}, ["7;\"broken\";1;extra;fields"]),
    "jsonl": (write_jsonl, {}, ['{"id": 8, "name": "cut']),
    "xml": (write_xml, {"rowTag": "order"}, ["<order><id>9</id><name>bad</name><amount>1</amount></orderx>"]),
    "parquet": (write_parquet, {}, []),
}


def pipeline(tmp_path, fmt, options) -> PipelineConfig:
    schema = {"id": "bigint", "name": "string", "amount": "double"} if fmt == "parquet" else {"id": "string", "name": "string", "amount": "string"}
    source = {"kind": "files", "path": "orders", "options": options, "schema": schema}
    silver = {"keys": ["id"], "columns": {"id": {"type": "bigint"}, "name": {"case": "upper"}, "amount": {"type": "double"}}}
    return one_source_pipeline(tmp_path, "orders", source, silver)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_is_ingested_incrementally_with_malformed_rows_quarantined(spark, tmp_path, fmt):
    write, options, malformed = FORMATS[fmt]
    folder = tmp_path / "in" / "orders"
    folder.mkdir(parents=True)
    write(folder, "day1", [(1, "ümlaut", 1.5), (2, "b", 2.5), (3, "c", 3.5)], malformed)
    config = pipeline(tmp_path, fmt, options)

    first = PipelineRunner(spark, config).execute()
    silver = first.layer("orders", "silver")
    assert first.layer("orders", "bronze").read == 3 + len(malformed)
    assert (silver.written, silver.quarantined) == (3, len(malformed))

    write(folder, "day2", [(4, "d", 4.5)])
    second = PipelineRunner(spark, config).execute()
    assert second.layer("orders", "bronze").read == 1
    third = PipelineRunner(spark, config).execute()
    assert third.layer("orders", "bronze").read == 0

    table = spark.read.format("delta").load(f"{tmp_path}/lake/silver/orders")
    assert sorted(table.select("id").toPandas()["id"]) == [1, 2, 3, 4]
    assert table.where("id = 1").first()["name"] == "ÜMLAUT"
    if malformed:
        quarantine = spark.read.format("delta").load(f"{tmp_path}/lake/quarantine/orders").first()
        assert quarantine["_reasons"] == ["malformed_record"]
        assert malformed[0] in quarantine["_raw_record"]
        assert quarantine["_source_ref"].endswith(f"day1.{fmt}")


def test_format_comes_from_the_extension_when_not_configured(tmp_path):
    source = FileSource(path="x", schema={"id": "string"})
    (tmp_path / "a.jsonl").write_text("{}\n")
    assert resolve_format(source, str(tmp_path)) == "jsonl"
    (tmp_path / "b.csv").write_text("id\n")
    with pytest.raises(ValueError, match=r"cannot infer the file format .*\['.csv', '.jsonl'\]"):
        resolve_format(source, str(tmp_path))


def test_bronze_keeps_raw_values_and_lineage(spark, tmp_path):
    write, options, malformed = FORMATS["csv"]
    folder = tmp_path / "in" / "orders"
    folder.mkdir(parents=True)
    write(folder, "day1", [(1, " padded ", "n/a")])
    run = PipelineRunner(spark, pipeline(tmp_path, "csv", options)).execute()
    bronze = spark.read.format("delta").load(f"{tmp_path}/lake/bronze/orders").first()
    assert (bronze["name"], bronze["amount"]) == (" padded ", "n/a")
    assert bronze["_run_id"] == run.run_id and bronze["_source"] == "orders"
    silver = spark.read.format("delta").load(f"{tmp_path}/lake/silver/orders").select("name", F.col("amount").isNull().alias("null_amount")).first()
    assert (silver["name"], silver["null_amount"]) == ("PADDED", True)


def test_csv_whose_header_does_not_match_the_schema_is_an_error(spark, tmp_path):
    folder = tmp_path / "in" / "orders"
    folder.mkdir(parents=True)
    (folder / "day1.csv").write_text("id;amount;name\n1;2.5;a\n")
    with pytest.raises(Exception, match="(?i)header"):
        PipelineRunner(spark, pipeline(tmp_path, "csv", FORMATS["csv"][1])).execute()
