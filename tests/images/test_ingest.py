"""Image ingestion: bad files to quarantine with the reason, nothing lost or doubled, a stable
stratified split."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from pyspark.sql import functions as F

from lakeforge.images.ingest import ingest_images
from lakeforge.tables.audit import read_audit
from lakeforge.tables.layout import Lakehouse


@pytest.fixture
def folder(tmp_path, ingested) -> Path:
    """A copy of a few generated classes plus one file of every defect."""
    target = tmp_path / "images"
    for name in ("circle", "square", "cross"):
        shutil.copytree(Path(ingested.data.path) / name, target / name)
    png = next((target / "circle").glob("*.png"))
    (target / "circle/truncated.png").write_bytes(png.read_bytes()[:200])
    (target / "circle/readme.txt").write_text("not an image")
    (target / "square/copy-of-a-circle.png").write_bytes(png.read_bytes())
    Image.new("RGB", (8, 8)).save(target / "cross/animated.gif", format="GIF")
    return target


def silver_split(spark, lakehouse: Lakehouse) -> pd.DataFrame:
    return spark.read.format("delta").load(lakehouse.silver("images")).select("path", "label", "split").toPandas()


def test_bad_files_are_quarantined_and_every_file_is_accounted_for(spark, ingested, folder, tmp_path):
    lakehouse = Lakehouse(str(tmp_path / "lake"))
    spec = ingested.data.model_copy(update={"path": str(folder)})
    run = ingest_images(spark, spec, lakehouse)
    files = sum(1 for f in folder.rglob("*") if f.is_file())

    silver = run.layer("images", "silver")
    assert run.layer("images", "bronze").written == files == silver.read
    assert (silver.written, silver.quarantined, silver.deduplicated) == (files - 4, 3, 1)
    reasons = {Path(r["path"]).name: r["_reasons"][0] for r in spark.read.format("delta").load(lakehouse.quarantine("images")).collect()}
    assert reasons["truncated.png"].startswith("corrupt PNG")
    assert reasons["readme.txt"].startswith("not an image")
    assert reasons["animated.gif"].startswith("unsupported format GIF")
    assert reasons["copy-of-a-circle.png"].startswith("duplicate of file:") and "circle" in reasons["copy-of-a-circle.png"]
    audit = read_audit(spark, lakehouse).where(F.col("layer") == "silver").collect()
    assert [(a["rows_read"], a["status"]) for a in audit] == [(files, "succeeded")]

    # Re-ingesting adds nothing; a new file is added and split like the others.
    again = ingest_images(spark, spec, lakehouse)
    assert again.layer("images", "bronze").written == 0 and again.layer("images", "silver").read == 0
    shutil.copy(next((Path(ingested.data.path) / "triangle").glob("*.jpg")), folder / "circle" / "new.jpg")
    added = ingest_images(spark, spec, lakehouse)
    assert added.layer("images", "silver").written == 1
    assert len(silver_split(spark, lakehouse)) == files - 4 + 1


def test_split_is_stratified_and_the_same_on_every_run(spark, ingested, tmp_path):
    first = silver_split(spark, Lakehouse(ingested.platform.storage.root))
    shares = ingested.data.split
    for label, rows in first.groupby("label"):
        counts = rows["split"].value_counts()
        # Each class keeps its shares to within one image.
        assert abs(counts.get("train", 0) - shares.train * len(rows)) <= 1, label
        assert abs(counts.get("val", 0) - shares.val * len(rows)) <= 1, label
        assert counts.get("test", 0) >= 1, label
    # A copy of the folder elsewhere, in a second lakehouse: every file gets the same split.
    copy = shutil.copytree(ingested.data.path, tmp_path / "moved" / "images")
    ingest_images(spark, ingested.data.model_copy(update={"path": str(copy)}), Lakehouse(str(tmp_path / "again")))
    second = silver_split(spark, Lakehouse(str(tmp_path / "again")))
    for frame in (first, second):
        frame["file"] = frame["path"].str.split("/").str[-2:].str.join("/")
    merged = first.merge(second, on="file", suffixes=("_first", "_second"))
    assert len(merged) == len(first) == len(second)
    assert (merged["split_first"] == merged["split_second"]).all()


def test_manifest_labels_override_folders(spark, ingested, tmp_path):
    images = sorted((Path(ingested.data.path) / "square").glob("*"))[:6]
    manifest = tmp_path / "labels.csv"
    pd.DataFrame({"path": [str(p) for p in images], "label": ["a", "b"] * 3}).to_csv(manifest, index=False)
    lakehouse = Lakehouse(str(tmp_path / "lake"))
    ingest_images(spark, ingested.data.model_copy(update={"manifest": str(manifest)}), lakehouse)
    assert sorted(silver_split(spark, lakehouse)["label"]) == ["a"] * 3 + ["b"] * 3

    (tmp_path / "gone.csv").write_text("path,label\nmissing.png,a\n")
    with pytest.raises(FileNotFoundError, match="missing file"):
        ingest_images(spark, ingested.data.model_copy(update={"manifest": str(tmp_path / "gone.csv")}), lakehouse)
