"""Fine-tuning end to end: weights to transfer from, Petastorm feeding, distributed fit, test metrics."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakeforge.executors import require_on_executors
from lakeforge.images.config import ImagesConfig
from lakeforge.images.distributed import ranks_on_driver, run_on_ranks
from lakeforge.images.evaluate import classification_metrics
from lakeforge.images.fit import FitJob, Phase, fit
from lakeforge.images.ingest import ingest_images
from lakeforge.images.loader import petastorm_source
from lakeforge.images.model import imagenet_checkpoint
from lakeforge.images.predict import predict_images
from lakeforge.learning.class_balance import balanced_weights
from lakeforge.tables.layout import Lakehouse


RANK_MODULES = ["lakeforge", "torch", "torchvision", "petastorm", "PIL"]


@dataclass(frozen=True)
class Weights:
    path: str | None
    origin: str  # "given", "imagenet", "source-task" or "none"


@dataclass
class FitResult:
    checkpoint: str
    classes: list[str]
    ranks: list[dict]
    train_rows: int

    @property
    def history(self) -> list[dict]:
        return self.ranks[0]["history"]


@dataclass
class ImageTrainingResult:
    config: ImagesConfig
    weights: Weights
    fitted: FitResult
    test: pd.DataFrame  # path, label, prediction, probability, image
    metrics: dict = field(default_factory=dict)


def silver_images(spark: SparkSession, config_root: str, table: str) -> DataFrame:
    return spark.read.format("delta").load(Lakehouse(config_root).silver(table))


def fit_distributed(spark: SparkSession, config: ImagesConfig, silver: DataFrame, phases: list[Phase],
                    init_weights: str | None, name: str, weighted: bool, augment: bool = True) -> FitResult:
    """Petastorm converters over `silver`, then `fit` on every rank; the converters' cache is removed after."""
    training, work = config.training, Path(config.work_dir).resolve()
    if not ranks_on_driver(training.distribution, dict(spark.sparkContext.getConf().getAll())):  # executors' Python
        require_on_executors(spark, RANK_MODULES, extra="images", purpose="image fine-tuning on the executors")
    # Balanced class weights over the training split; their keys are the classes the model learns.
    weights = balanced_weights(silver.where(F.col("split") == "train"), "label")
    classes = sorted(weights)
    run_dir = work / "runs" / f"{name}-{uuid.uuid4().hex[:8]}"
    run_dir.mkdir(parents=True)
    source = petastorm_source(spark, silver, classes, config.model.image_size, training.augment if augment else None,
                              f"file://{work / 'petastorm'}", training.distribution.num_processes, training.seed)
    try:
        job = FitJob(
            source=source, classes=classes, backbone=config.model.backbone, image_size=config.model.image_size,
            phases=phases, batch_size=training.batch_size,
            class_weights=[weights[name] for name in classes] if weighted else None,
            init_weights=init_weights, checkpoint=str(run_dir / "model.pt"), seed=training.seed,
            mixed_precision=training.distribution.mixed_precision,
        )
        ranks = run_on_ranks(fit, training.distribution, run_dir / "ranks", job)
        return FitResult(checkpoint=job.checkpoint, classes=classes, ranks=ranks, train_rows=source.rows("train"))
    finally:
        source.delete()


def transfer_phases(config: ImagesConfig) -> list[Phase]:
    """Head only on a frozen backbone, then the top blocks too at a lower learning rate."""
    head, tune, patience = config.training.head, config.training.finetune, config.training.patience
    return [Phase("head", head.epochs, head.lr, head.lr, top_blocks=0, patience=patience),
            Phase("finetune", tune.epochs, tune.lr, tune.backbone_lr, top_blocks=tune.unfreeze_blocks, patience=patience)]


def scratch_phases(config: ImagesConfig) -> list[Phase]:
    """The same epoch budget with every layer trained from random weights (the comparison baseline)."""
    head, tune = config.training.head, config.training.finetune
    return [Phase("scratch", head.epochs + tune.epochs, head.lr, head.lr, top_blocks=None)]


def pretrain_source_task(spark: SparkSession, config: ImagesConfig) -> str:
    """Train the backbone from scratch on the source classes; its checkpoint is what the target
    task transfers from when no pretrained weights are available offline."""
    pretrain = config.pretrain
    lakehouse = Lakehouse(config.platform.storage.root)
    ingest_images(spark, pretrain.data, lakehouse)
    silver = silver_images(spark, config.platform.storage.root, pretrain.data.table)
    phase = Phase("pretrain", pretrain.epochs, pretrain.lr, pretrain.lr, top_blocks=None)
    fitted = fit_distributed(spark, config, silver, [phase], None, "pretrain", weighted=False, augment=pretrain.augment)
    Path(pretrain.checkpoint).parent.mkdir(parents=True, exist_ok=True)
    Path(fitted.checkpoint).replace(pretrain.checkpoint)
    return pretrain.checkpoint


def resolve_weights(spark: SparkSession, config: ImagesConfig, given: str | None = None) -> Weights:
    """--weights, then the config's, then ImageNet from the torch hub cache, then the source-task
    checkpoint (pretrained now if missing)."""
    for path in (given, config.model.weights):
        if path is not None:
            if not Path(path).is_file():
                raise FileNotFoundError(f"weights file {path} does not exist")
            return Weights(path, "given")
    imagenet = imagenet_checkpoint(config.model.backbone)
    if imagenet is not None:
        return Weights(str(imagenet), "imagenet")
    if not Path(config.pretrain.checkpoint).is_file():
        print(f"no pretrained {config.model.backbone} weights offline: pretraining on the source task first")
        pretrain_source_task(spark, config)
    return Weights(config.pretrain.checkpoint, "source-task")


def score_test_split(silver: DataFrame, checkpoint: str) -> pd.DataFrame:
    test = silver.where(F.col("split") == "test")
    return predict_images(test, checkpoint, keep=("path", "label", "image")).drop("probabilities").toPandas()


def train_images(spark: SparkSession, config: ImagesConfig, weights: Weights, from_scratch: bool = False) -> ImageTrainingResult:
    silver = silver_images(spark, config.platform.storage.root, config.data.table)
    phases = scratch_phases(config) if from_scratch else transfer_phases(config)
    fitted = fit_distributed(spark, config, silver, phases, None if from_scratch else weights.path,
                             "scratch" if from_scratch else "finetune", weighted=config.training.weighted_loss)
    test = score_test_split(silver, fitted.checkpoint)
    metrics = classification_metrics(test["label"], test["prediction"], fitted.classes)
    return ImageTrainingResult(config, weights if not from_scratch else Weights(None, "none"), fitted, test, metrics)
