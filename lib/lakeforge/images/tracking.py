"""MLflow: params, per-epoch metrics, the report and the model (registered with an alias)."""

from __future__ import annotations

import mlflow
import numpy as np
import torch
import torchvision
from mlflow.models import infer_signature

from lakeforge.images.model import load_checkpoint
from lakeforge.images.report import write_report
from lakeforge.images.train import ImageTrainingResult
from lakeforge.tracking import TrackedRun, log_report, set_alias, tracked_run


def pip_requirements() -> list[str]:
    return [f"torch=={torch.__version__.split('+')[0]}", f"torchvision=={torchvision.__version__.split('+')[0]}",
            f"mlflow=={mlflow.__version__}", f"numpy=={np.__version__}"]


def log_model(result: ImageTrainingResult) -> str:
    """mlflow.pytorch model with a float32 NCHW signature; registered and given the alias."""
    model, classes, size = load_checkpoint(result.fitted.checkpoint)
    example = np.zeros((2, 3, size, size), dtype=np.float32)
    with torch.no_grad():
        output = model(torch.from_numpy(example)).numpy()
    tracking = result.config.tracking
    info = mlflow.pytorch.log_model(
        model, "model", registered_model_name=tracking.registered_model, signature=infer_signature(example, output),
        input_example=example, pip_requirements=pip_requirements(), metadata={"backbone": result.config.model.backbone, "classes": classes, "image_size": size},
    )
    return set_alias(info, tracking.registered_model, tracking.alias)


def log_image_training(result: ImageTrainingResult) -> TrackedRun:
    config = result.config
    with tracked_run(config.platform, config.tracking.experiment, config.name) as run:
        training = config.training
        mlflow.log_params({
            "backbone": config.model.backbone, "image_size": config.model.image_size, "weights": result.weights.origin,
            "weights_path": result.weights.path, "classes": ",".join(result.fitted.classes), "train_images": result.fitted.train_rows,
            "processes": len(result.fitted.ranks), "batch_size": training.batch_size, "head_epochs": training.head.epochs,
            "head_lr": training.head.lr, "finetune_epochs": training.finetune.epochs, "finetune_lr": training.finetune.lr,
            "backbone_lr": training.finetune.backbone_lr, "unfreeze_blocks": training.finetune.unfreeze_blocks,
            "patience": training.patience, "weighted_loss": training.weighted_loss, "seed": training.seed,
        })
        for record in result.fitted.history:
            mlflow.log_metrics({key: record[key] for key in ("train_loss", "val_loss", "val_accuracy", "images_per_s")}, step=record["epoch"])
        mlflow.log_metrics({"test_accuracy": result.metrics["accuracy"], "test_macro_f1": result.metrics["macro_f1"]})
        for name, values in result.metrics["per_class"].items():
            mlflow.log_metrics({f"test_{metric}_{name}": values[metric] for metric in ("precision", "recall", "f1")})
        report_path = log_report(lambda folder: write_report(result, folder))
        version = log_model(result)
    return TrackedRun(run_id=run.info.run_id, model_name=config.tracking.registered_model, model_version=version,
                      alias=config.tracking.alias, report_path=report_path)
