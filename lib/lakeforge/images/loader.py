"""Spark-to-PyTorch feeding behind a small interface; Petastorm is the implementation used here.

Training code only sees `BatchSource`: rows per split and, for one rank, an iterator of (images,
labels) tensors. Another loader (e.g. a streaming Delta reader) can replace Petastorm by providing
the same two methods.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import numpy as np
import pandas as pd
import torch
from PIL import Image
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.images.config import AugmentSpec

SPLITS = ("train", "val", "test")
# ImageNet statistics: what torchvision's pretrained backbones expect.
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

Batch = tuple[torch.Tensor, torch.Tensor]
# Training rows are shuffled within a queue of this many batches, on top of the shuffled row order
# written by the converter: batches of one class make BatchNorm learn the batch, not the images.
SHUFFLE_BATCHES = 8


class BatchSource(Protocol):
    def rows(self, split: str) -> int: ...

    def batches(self, split: str, *, rank: int, world: int, batch_size: int, train: bool, endless: bool) -> Iterator[Batch]:
        """A context manager yielding this rank's batches; `endless` repeats its shard forever."""
        ...


# Petastorm modules that call pyarrow's deprecated legacy API (FutureWarning on every use).
PETASTORM_WARNING_MODULES = ("spark.spark_dataset_converter", "fs_utils", "etl.dataset_metadata", "reader", "unischema", "arrow_reader_worker")


def quiet_petastorm() -> None:
    """Petastorm 0.13 drives pyarrow's legacy API; its deprecation warnings are not ours to fix. Also
    for the rank processes TorchDistributor starts, which import petastorm before any of our code runs."""
    modules = [f"petastorm.{module}" for module in PETASTORM_WARNING_MODULES]
    for module in modules:
        warnings.filterwarnings("ignore", category=FutureWarning, module=re.escape(module) + "$")
    rules = [f"ignore::FutureWarning:{module}" for module in modules]
    inherited = [rule for rule in os.environ.get("PYTHONWARNINGS", "").split(",") if rule]
    os.environ["PYTHONWARNINGS"] = ",".join(dict.fromkeys([*inherited, *rules]))


def image_transform(image_size: int, augment: AugmentSpec | None):
    """PIL image -> normalised float tensor (3, size, size); augmentations for training only."""
    from torchvision import transforms

    if augment is None:
        steps = [transforms.Resize((image_size, image_size))]
    else:
        steps = [transforms.RandomResizedCrop(image_size, scale=augment.crop_scale, antialias=True)]
        if augment.flip:
            steps.append(transforms.RandomHorizontalFlip())
        if augment.rotation:
            steps.append(transforms.RandomRotation(augment.rotation))
        if augment.color_jitter:
            steps.append(transforms.ColorJitter(augment.color_jitter, augment.color_jitter, augment.color_jitter))
    return transforms.Compose([*steps, transforms.ToTensor(), transforms.Normalize(MEAN, STD)])


def to_tensors(images, transform) -> list[torch.Tensor]:
    """Stored PNG bytes -> transformed tensors: the one decoding used in training and inference."""
    return [transform(Image.open(io.BytesIO(data)).convert("RGB")) for data in images]


def decode_batch(rows: pd.DataFrame, image_size: int, augment: AugmentSpec | None) -> pd.DataFrame:
    """Petastorm TransformSpec function: PNG bytes -> 'features' arrays (the binary column is dropped,
    PyTorch's collate cannot take it)."""
    features = [tensor.numpy() for tensor in to_tensors(rows["image"], image_transform(image_size, augment))]
    return pd.DataFrame({"features": features, "label": rows["label"].astype(np.int64)})


@dataclass
class PetastormSource:
    """One Petastorm converter per split, made on the driver and shipped (pickled) to every rank."""

    converters: dict
    image_size: int
    augment: AugmentSpec | None  # None: no augmentation, also in training
    seed: int  # seeds each rank's row-group shuffle

    def rows(self, split: str) -> int:
        return len(self.converters[split])

    @contextmanager
    def batches(self, split: str, *, rank: int, world: int, batch_size: int, train: bool, endless: bool):
        from petastorm import TransformSpec

        quiet_petastorm()
        spec = TransformSpec(
            partial(decode_batch, image_size=self.image_size, augment=self.augment if train else None),
            edit_fields=[("features", np.float32, (3, self.image_size, self.image_size), False)],
            selected_fields=["features", "label"],
        )
        converter = self.converters[split]
        # Spark lists a converter's files in hash-set order, which changes with their random names, and a
        # rank reads the row groups whose index in that list is its own: sorted, every run gives each
        # rank the same rows in the same order.
        converter.file_urls = sorted(converter.file_urls)
        # The "dummy" pool reads in this process: the thread pool was seen to hand a rank an empty
        # shard now and then, without an error.
        with converter.make_torch_dataloader(
            transform_spec=spec, batch_size=batch_size, num_epochs=None if endless else 1,
            cur_shard=rank, shard_count=world, reader_pool_type="dummy", shuffle_row_groups=train, seed=self.seed + rank,
            shuffling_queue_capacity=SHUFFLE_BATCHES * batch_size if train else 0,
        ) as loader:
            yield ((batch["features"], batch["label"]) for batch in loader)

    def delete(self) -> None:
        for converter in self.converters.values():
            converter.delete()


def labelled(silver: DataFrame, classes: list[str]) -> DataFrame:
    """image bytes and the class index of each row (classes in the order the model uses)."""
    index = F.array_position(F.array(*[F.lit(c) for c in classes]), F.col("label")).cast("long") - 1
    return silver.select("image", "split", index.alias("label"))


def petastorm_source(spark: SparkSession, silver: DataFrame, classes: list[str], image_size: int,
                     augment: AugmentSpec | None, cache_dir: str, shards: int, seed: int = 42) -> PetastormSource:
    """Converters over the silver table's splits, rows in a random but repeatable order (silver is grouped
    by class); each split is written in `shards` x 2 row groups, so every rank's shard has rows."""
    quiet_petastorm()
    from petastorm.spark import SparkDatasetConverter, make_spark_converter

    spark.conf.set(SparkDatasetConverter.PARENT_CACHE_DIR_URL_CONF, cache_dir)
    rows = labelled(silver, classes)
    # Placed and ordered by a hash of the bytes, not rand() or ranges sampled from the input files: the
    # same row groups whatever order the files were listed in.
    order = F.xxhash64("image", F.lit(seed))
    converters = {
        split: make_spark_converter(
            rows.where(F.col("split") == split).drop("split").repartition(2 * shards, order).sortWithinPartitions(order)
        )
        for split in SPLITS
    }
    return PetastormSource(converters, image_size, augment, seed)
