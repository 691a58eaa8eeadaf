"""Image config: where images come from, the tables, the backbone, the two training phases, tracking."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lakeforge.config.models import PlatformConfig, StrictModel


class SplitSpec(StrictModel):
    """Shares of each class in train / val / test (the rest of 1 - train - val is test)."""

    train: float = Field(default=0.7, gt=0, lt=1)
    val: float = Field(default=0.15, gt=0, lt=1)

    @model_validator(mode="after")
    def _leaves_test(self) -> SplitSpec:
        if self.train + self.val >= 1:
            raise ValueError(f"split: train {self.train} + val {self.val} leaves nothing for test")
        return self


class ImageDataSpec(StrictModel):
    # A folder with one subfolder per class, or a CSV manifest with path,label columns.
    path: str
    manifest: str | None = None
    table: str = "images"  # bronze/<table>, silver/<table>, quarantine/<table>
    formats: list[str] = Field(default_factory=lambda: ["JPEG", "PNG"])  # PIL format names accepted
    max_side: int | None = Field(default=48, ge=8)  # resize so the longer side is at most this
    split: SplitSpec = Field(default_factory=SplitSpec)


class ModelSpec(StrictModel):
    backbone: Literal["resnet18", "mobilenet_v3_small"] = "resnet18"
    image_size: int = Field(default=48, ge=16)  # network input side; images are resized to it
    # A state_dict (or a Lakeforge checkpoint) to transfer from. None: ImageNet weights from the torch
    # hub cache under TORCH_HOME when present, otherwise the source-task checkpoint of `pretrain`.
    weights: str | None = None


class PhaseSpec(StrictModel):
    epochs: int = Field(ge=0)
    lr: float = Field(gt=0)  # the head's learning rate


class FinetuneSpec(PhaseSpec):
    backbone_lr: float = Field(gt=0)  # lower than the head's, for the unfrozen blocks
    unfreeze_blocks: int = Field(default=2, ge=1)  # from the top of the backbone


class AugmentSpec(StrictModel):
    crop_scale: tuple[float, float] = (0.7, 1.0)
    flip: bool = True
    rotation: float = 15.0
    color_jitter: float = 0.2


class DistributionSpec(StrictModel):
    num_processes: int = Field(default=2, ge=1)
    # auto: the ranks run on the driver when the master is local[...], on the executors otherwise.
    local_mode: bool | Literal["auto"] = "auto"
    # auto: GPUs when Spark assigns them to the ranks (spark.task.resource.gpu.amount on a cluster,
    # spark.driver.resource.gpu.amount in local mode); yes: required; no: CPU even where GPUs are assigned.
    use_gpu: Literal["auto", "yes", "no"] = "auto"
    mixed_precision: bool = False  # autocast: float16 with loss scaling on GPUs, bfloat16 on CPUs
    threads_per_process: int = Field(default=1, ge=1)


class TrainingSpec(StrictModel):
    batch_size: int = Field(default=16, ge=1)  # per process
    head: PhaseSpec = Field(default_factory=lambda: PhaseSpec(epochs=3, lr=0.003))
    finetune: FinetuneSpec = Field(default_factory=lambda: FinetuneSpec(epochs=8, lr=0.001, backbone_lr=0.0003))
    patience: int = Field(default=2, ge=1)  # early stopping on validation loss
    weighted_loss: bool = True  # class weights inverse to class frequency in train
    augment: AugmentSpec = Field(default_factory=AugmentSpec)
    seed: int = 42
    distribution: DistributionSpec = Field(default_factory=DistributionSpec)


class PretrainSpec(StrictModel):
    """Source task used when no pretrained weights are available: train the backbone from scratch on
    other classes, then transfer from that checkpoint."""

    data: ImageDataSpec
    epochs: int = Field(default=14, ge=1)
    lr: float = Field(default=0.001, gt=0)
    # Off by default: on a short from-scratch budget, augmentation slowed learning more than it helped.
    augment: bool = False
    checkpoint: str


class GenerateSpec(StrictModel):
    """The built-in dataset: target and source classes are different shapes and textures."""

    target_classes: list[str] = Field(default_factory=lambda: ["circle", "square", "triangle", "cross"])
    source_classes: list[str] = Field(default_factory=lambda: ["ring", "star", "hexagon", "hstripes", "vstripes", "checker", "dots"])
    per_class: int = Field(default=120, ge=3)
    source_per_class: int = Field(default=150, ge=3)
    size: int = Field(default=48, ge=16)
    # The last target class gets this share of per_class, so the weighted loss has work to do.
    minority_share: float = Field(default=0.5, gt=0, le=1)
    seed: int = 7


class TrackingSpec(StrictModel):
    experiment: str = "lakeforge-images"
    registered_model: str = "lakeforge_images"
    alias: str = "challenger"


class ImagesConfig(StrictModel):
    name: str = "images"
    platform: PlatformConfig
    data: ImageDataSpec
    model: ModelSpec = Field(default_factory=ModelSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    pretrain: PretrainSpec
    generate: GenerateSpec = Field(default_factory=GenerateSpec)
    predictions_table: str = "image_predictions"  # gold/<name>
    tracking: TrackingSpec = Field(default_factory=TrackingSpec)
    # Where runs keep checkpoints, per-rank results and Petastorm's cache (a file: or dbfs: folder).
    work_dir: str
