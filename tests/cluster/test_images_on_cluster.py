"""jobs/train_images.py on the standalone cluster: TorchDistributor runs the two ranks as barrier tasks on
the two workers (local_mode auto), which import the shipped code and, from the same seed, weights and
rows, train to the losses and test metrics two ranks on the driver reach in local mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from cluster.cluster_jobs import ROOT, WORK, completed_apps, completed_stages, submit, write_conf
from lakeforge.config import load_config
from lakeforge.images.config import GenerateSpec, ImagesConfig
from lakeforge.images.generate import generate_images
from lakeforge.images.ingest import ingest_images
from lakeforge.images.model import build_model
from lakeforge.tables.layout import Lakehouse

SIZE = 16


def tiny_images_conf(root: Path) -> dict:
    """conf/images.yml with three small classes, one short epoch per phase, the lakehouse from the environment."""
    raw = yaml.safe_load((ROOT / "conf/images.yml").read_text())
    raw["work_dir"] = "${LAKEFORGE_IMAGES_WORK}"
    raw["data"].update(path=str(root / "landing"), max_side=SIZE)
    raw["model"]["image_size"] = SIZE
    raw["training"].update(batch_size=8, head={"epochs": 1, "lr": 0.003}, patience=1)
    raw["training"]["finetune"].update(epochs=1)
    raw["generate"].update(target_classes=["circle", "square", "triangle"], per_class=24, size=SIZE)
    return raw


def environment(root: Path, name: str) -> dict[str, str]:
    """One lakehouse; the run's own work folder and MLflow store."""
    return {"LAKEFORGE_LAKEHOUSE_ROOT": str(root / "lake"), "LAKEFORGE_LANDING_ROOT": str(root),
            "LAKEFORGE_IMAGES_WORK": str(root / f"work-{name}"), "MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlflow-{name}.db"}


def train(conf: Path, weights: Path, root: Path, name: str, target) -> dict:
    env = environment(root, name)
    args = ["--config", str(conf), "--env", "local" if target is None else "cluster", "--weights", str(weights), "--json"]
    result = submit("jobs/train_images.py", args, target, env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout[result.stdout.index("{"):])


def test_image_fine_tuning_runs_its_ranks_on_both_workers(spark, tmp_path, cluster, on_cluster, monkeypatch):
    raw = tiny_images_conf(tmp_path)
    overlay = {"platform": {"spark": {"master": "local[2]", "jars_dir": str(WORK / "jars"), "progress_bar": False, "driver_memory": "1g"},
                            "storage": {"root": "${LAKEFORGE_LAKEHOUSE_ROOT}", "landing": "${LAKEFORGE_LANDING_ROOT}"},
                            "mlflow_tracking_uri": "${MLFLOW_TRACKING_URI}"}}
    conf = write_conf(tmp_path / "conf", {"images.yml": raw}, overlay) / "images.yml"
    for name, value in environment(tmp_path, "ingest").items():  # to load the config here
        monkeypatch.setenv(name, value)
    config = load_config(conf, ImagesConfig, env="local")
    generate_images(GenerateSpec(**raw["generate"]), Path(config.data.path))
    ingest_images(spark, config.data, Lakehouse(str(tmp_path / "lake")))  # the silver table both runs train on
    torch.manual_seed(0)
    weights = tmp_path / "backbone.pt"
    torch.save(build_model("resnet18", 10).state_dict(), weights)

    local = train(conf, weights, tmp_path, "local", None)
    before = completed_apps(cluster)
    on_workers = train(conf, weights, tmp_path, "cluster", on_cluster)

    (app,) = completed_apps(cluster) - before
    # TorchDistributor's barrier stage: one task per rank, each on its own worker's executor.
    ranks = [stage for stage in completed_stages(cluster, app) if "distribut" in stage["name"]]
    assert [len({task["executorId"] for task in stage["tasks"].values()}) for stage in ranks] == [2], [stage["name"] for stage in ranks]
    # The same phases, and the same test split scored: a rank that failed or a split read differently shows here.
    assert [epoch["phase"] for epoch in on_workers["history"]] == [epoch["phase"] for epoch in local["history"]] == ["head", "finetune"]
    support = {name: scores["support"] for name, scores in local["metrics"]["per_class"].items()}
    assert {name: scores["support"] for name, scores in on_workers["metrics"]["per_class"].items()} == support and sum(support.values()) > 0
    # The same training: each rank read the same rows in the same order from the same seed.
    for cluster_epoch, local_epoch in zip(on_workers["history"], local["history"]):
        for key in ("train_loss", "val_loss", "val_accuracy"):
            assert cluster_epoch[key] == pytest.approx(local_epoch[key], rel=1e-4), (cluster_epoch, local_epoch)
    for key in ("accuracy", "macro_f1"):
        assert on_workers["metrics"][key] == pytest.approx(local["metrics"][key], abs=1e-9)
    assert on_workers["mlflow"]["model_uri"].startswith("models:/")
