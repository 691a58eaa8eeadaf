"""Image ingestion: bad files to quarantine with the reason, nothing lost or doubled, a stable
split by a hash of the file name."""

from __future__ import annotations

import hashlib
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


def expected_split(path: str, shares) -> str:
    """The split conf/images.yml describes, computed with hashlib: the file name's SHA-256, first 32
    bits as a fraction of 2^32, against the cumulative shares."""
    position = int(hashlib.sha256(path.rsplit("/", 1)[-1].encode()).hexdigest()[:8], 16) / 2**32
    return "train" if position < shares.train else "val" if position < shares.train + shares.val else "test"


def test_split_is_a_hash_of_the_file_name_wherever_the_folder_is(spark, ingested, tmp_path):
    first = silver_split(spark, Lakehouse(ingested.platform.storage.root))
    shares = ingested.data.split
    assert list(first["split"]) == [expected_split(path, shares) for path in first["path"]]
    for label, rows in first.groupby("label"):
        assert set(rows["split"]) == {"train", "val", "test"}, label
    # A copy of the folder elsewhere, in a second lakehouse: every file gets the same split.
    copy = shutil.copytree(ingested.data.path, tmp_path / "moved" / "images")
    ingest_images(spark, ingested.data.model_copy(update={"path": str(copy)}), Lakehouse(str(tmp_path / "again")))
    second = silver_split(spark, Lakehouse(str(tmp_path / "again")))
    for frame in (first, second):
        frame["file"] = frame["path"].str.split("/").str[-2:].str.join("/")
    merged = first.merge(second, on="file", suffixes=("_first", "_second"))
    assert len(merged) == len(first) == len(second)
    assert (merged["split_first"] == merged["split_second"]).all()


def test_adding_files_never_moves_an_existing_one(spark, ingested, tmp_path):
    """Files arriving a few at a time, one per class in the last run, get the split they get when the
    whole folder is ingested at once."""
    source, target = Path(ingested.data.path), tmp_path / "images"
    files = {label: sorted((source / label).glob("*"))[:7] for label in ("circle", "square")}
    lakehouse, spec = Lakehouse(str(tmp_path / "lake")), ingested.data.model_copy(update={"path": str(target)})
    splits = []
    for batch in (slice(0, 3), slice(3, 6), slice(6, 7)):
        for label, paths in files.items():
            (target / label).mkdir(parents=True, exist_ok=True)
            for path in paths[batch]:
                shutil.copy(path, target / label / path.name)
        ingest_images(spark, spec, lakehouse)
        splits.append(dict(zip(*silver_split(spark, lakehouse)[["path", "split"]].T.values)))
    assert [len(split) for split in splits] == [6, 12, 14]
    for before, after in zip(splits, splits[1:]):
        assert {path: after[path] for path in before} == before
    assert splits[-1] == {path: expected_split(path, ingested.data.split) for path in splits[-1]}
    last = {path.name for paths in files.values() for path in paths[6:]}
    # A rank among one run's new files would put each class's single new file in train.
    assert {split for path, split in splits[-1].items() if path.rsplit("/", 1)[-1] in last} != {"train"}


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
