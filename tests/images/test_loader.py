"""Petastorm feeding: every rank gets a non-empty shard, the shards add up to the split, a rank's rows
do not depend on the order the files were listed in, and the tensors have the shape and labels the
model expects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from pyspark.sql import functions as F

from lakeforge.images.config import AugmentSpec
from lakeforge.images.loader import decode_batch, petastorm_source
from lakeforge.images.train import silver_images


@pytest.fixture(scope="module")
def source(spark, ingested):
    silver = silver_images(spark, ingested.platform.storage.root, ingested.data.table)
    classes = sorted(r["label"] for r in silver.select("label").distinct().collect())
    work = ingested.work_dir
    made = petastorm_source(spark, silver, classes, ingested.model.image_size, ingested.training.augment, f"file://{work}/petastorm-test", shards=2)
    yield made, silver, classes
    made.delete()


def test_shards_are_non_empty_and_add_up_to_the_split(source):
    made, silver, classes = source
    for split in ("train", "val", "test"):
        expected = silver.where(F.col("split") == split).groupBy("label").count().toPandas().set_index("label")["count"]
        labels = []
        for rank in range(2):
            with made.batches(split, rank=rank, world=2, batch_size=8, train=False, endless=False) as batches:
                shard = [int(label) for _, labels in batches for label in labels]
            assert shard, f"{split}: rank {rank} got no rows"
            labels += shard
        assert len(labels) == made.rows(split) == expected.sum()
        counted = pd.Series([classes[i] for i in labels]).value_counts()
        assert counted.sort_index().to_dict() == expected.sort_index().to_dict()


def test_a_rank_reads_the_same_rows_in_the_same_order_whatever_order_spark_listed_the_files_in(source):
    made, _, _ = source
    converter = made.converters["train"]
    assert len(converter.file_urls) >= 2  # else there is no order to change

    def rank_zero_rows() -> tuple[torch.Tensor, torch.Tensor]:
        with made.batches("train", rank=0, world=2, batch_size=8, train=False, endless=False) as batches:
            images, labels = zip(*batches)
        return torch.cat(images), torch.cat(labels)

    listed = list(converter.file_urls)
    images, labels = rank_zero_rows()
    for order in (listed[::-1], listed[1:] + listed[:1]):
        converter.file_urls = order
        other_images, other_labels = rank_zero_rows()
        assert torch.equal(other_labels, labels) and torch.equal(other_images, images)


def test_batches_are_normalised_float_images(source):
    made, _, _ = source
    with made.batches("train", rank=0, world=1, batch_size=8, train=True, endless=True) as batches:
        images, labels = next(batches)
    assert images.shape == (8, 3, 32, 32) and images.dtype == torch.float32 and labels.dtype == torch.int64
    assert -3 < float(images.mean()) < 3 and float(images.std()) > 0.2


def test_augmentation_is_for_training_only(source, spark, ingested):
    image = spark.read.format("delta").load(f"{ingested.platform.storage.root}/silver/images").select("image").first()["image"]
    rows = pd.DataFrame({"image": [image] * 4, "label": [1] * 4})
    plain = np.stack(decode_batch(rows, 32, None)["features"])
    assert np.allclose(plain[0], plain[1:])  # evaluation: deterministic
    augmented = np.stack(decode_batch(rows, 32, AugmentSpec(rotation=30, color_jitter=0.4))["features"])
    assert augmented.shape == plain.shape and not np.allclose(augmented[0], augmented[1])
