"""Transfer learning end to end on 2 processes (notebook 05 on test-scale data): identical replicas,
transfer beating training from scratch, every rank accounted for, batch inference, the registry."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import pytest
import torch
from mlflow import MlflowClient

from lakeforge.images.config import DistributionSpec
from lakeforge.images.distributed import RankFailure, run_on_ranks
from lakeforge.images.train import train_images
from lakeforge.cli import main
from lakeforge.notebooks import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05_image_finetuning.py"
# Same epochs and data for both: transfer must be ahead by this much test accuracy (4 classes, chance
# 0.25). Seven runs here and in CI (runs differ: TorchDistributor's ranks are not bit-reproducible):
# transfer 0.505-0.676, scratch 0.257-0.362, transfer ahead by 0.14-0.39 (mean 0.30).
TRANSFER_MARGIN = 0.10


@pytest.fixture(scope="module")
def notebook(ingested, images_conf, tmp_path_factory):
    """Notebook 05 with the test config; TORCH_HOME is empty, so it pretrains on the source task."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEFORGE_ENV", "test")
        patch.setenv("LAKEFORGE_IMAGES_CONF", str(images_conf))
        patch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch_home")))
        yield run_notebook(NOTEBOOK)


def test_two_processes_train_identical_replicas_from_transferred_weights(notebook):
    result, weights = notebook["result"], notebook["weights"]
    assert weights.origin == "source-task" and Path(weights.path).is_file()
    ranks = result.fitted.ranks
    assert [r["rank"] for r in ranks] == [0, 1] and {r["world"] for r in ranks} == {2}
    assert ranks[0]["parameters_sha256"] == ranks[1]["parameters_sha256"]
    assert ranks[0]["transferred_tensors"] > 50  # the whole ResNet-18 backbone
    assert {h["phase"] for h in result.fitted.history} == {"head", "finetune"}


def test_transfer_beats_training_from_scratch(notebook, spark):
    result = notebook["result"]
    scratch = train_images(spark, notebook["config"], notebook["weights"], from_scratch=True)
    assert scratch.weights.origin == "none" and scratch.fitted.ranks[0]["transferred_tensors"] == 0
    print(f"transfer {result.metrics['accuracy']:.3f} vs scratch {scratch.metrics['accuracy']:.3f}")
    assert result.metrics["accuracy"] >= scratch.metrics["accuracy"] + TRANSFER_MARGIN


def test_the_model_is_registered_with_its_report(notebook):
    tracked, config, result = notebook["tracked"], notebook["config"], notebook["result"]
    version = MlflowClient().get_model_version_by_alias(config.tracking.registered_model, "challenger")
    assert (str(version.version), version.run_id) == (tracked.model_version, tracked.run_id)
    report = Path(tracked.report_path).read_text()
    assert f"{result.metrics['accuracy']:.3f}" in report and (Path(tracked.report_path).parent / "confusion_matrix.png").is_file()
    model = mlflow.pytorch.load_model(tracked.model_uri)
    size = config.model.image_size
    assert model(torch.zeros(3, 3, size, size)).shape == (3, len(result.fitted.classes))
    history = MlflowClient().get_metric_history(tracked.run_id, "val_loss")
    assert len(history) == len(result.fitted.history)


def test_batch_inference_writes_one_prediction_per_image(notebook, spark):
    silver, predictions = notebook["silver"], notebook["predictions"]
    assert predictions.count() == silver.count() == predictions.select("path").distinct().count()
    rows = predictions.toPandas()
    assert rows["probabilities"].map(sum).between(0.999, 1.001).all()
    assert set(rows["prediction"]) <= set(notebook["result"].fitted.classes)
    test_rows = rows[rows["split"] == "test"]
    # The gold table's test-split accuracy is the one the training run reported.
    assert (test_rows["label"] == test_rows["prediction"]).mean() == pytest.approx(notebook["result"].metrics["accuracy"])


def test_predict_command_scores_with_the_registered_challenger(notebook, images_conf, capsys):
    assert main(["predict", "images", "--conf", str(images_conf), "--env", "test"]) == 0
    printed = capsys.readouterr().out
    assert f"scored {notebook['silver'].count()} images" in printed and "@challenger" in printed


def test_a_crashed_rank_fails_the_run(tmp_path, spark):
    def crash_on_rank_one(rank: int, world: int) -> dict:
        if rank == 1:
            os.abort()  # SIGABRT, as a native crash would
        return {"rank": rank}

    with pytest.raises((RankFailure, RuntimeError)):
        run_on_ranks(crash_on_rank_one, DistributionSpec(num_processes=2), tmp_path / "ranks")
