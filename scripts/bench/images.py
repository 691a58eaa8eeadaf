"""Benchmark: the Petastorm loader against a plain torchvision ImageFolder DataLoader over the same
images, and fine-tuning throughput with 1 and 2 TorchDistributor processes.

    .venv/bin/python scripts/bench/images.py [--per-class 250] [--size 48] [--epochs 2]

Writes bench/results/images.json. Both loaders decode and transform every image the same way
(resize, to tensor, normalise; no augmentation), one process, batch 32, one full pass, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from dataclasses import replace
from pathlib import Path

import torch
import torchvision
from pyspark.sql import functions as F
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

from lakeforge.config import load_config
from lakeforge.images.config import ImagesConfig
from lakeforge.images.generate import generate_images
from lakeforge.images.ingest import ingest_images
from lakeforge.images.loader import image_transform, petastorm_source
from lakeforge.images.train import fit_distributed, silver_images, transfer_phases
from lakeforge.spark import build_spark
from lakeforge.tables.layout import Lakehouse

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work")) / "bench" / "images"
BATCH = 32
LOADER_GOAL = 0.8


def pass_rates(batches) -> dict:
    """images/s over one whole pass, and the seconds to the first batch. (Petastorm decodes a whole row
    group before its first batch, so a rate "after the first batch" would flatter it.)"""
    started, seen, first = time.perf_counter(), 0, None
    for images, _ in batches:
        first = first or time.perf_counter()
        seen += len(images)
    return {"images": seen, "first_batch_seconds": round(first - started, 3), "images_per_s": round(seen / (time.perf_counter() - started), 1)}


def bench_loaders(spark, config: ImagesConfig, silver) -> dict:
    classes = sorted(r["label"] for r in silver.select("label").distinct().collect())
    everything = silver.withColumn("split", F.lit("train"))  # one pass over every image
    source = petastorm_source(spark, everything, classes, config.model.image_size, None, f"file://{WORK / 'petastorm'}", shards=1)
    try:
        with source.batches("train", rank=0, world=1, batch_size=BATCH, train=False, endless=False) as batches:
            petastorm = pass_rates(batches)
    finally:
        source.delete()
    folder = ImageFolder(config.data.path, transform=image_transform(config.model.image_size, None))
    plain = pass_rates(DataLoader(folder, batch_size=BATCH, shuffle=True, num_workers=0))
    ratio = petastorm["images_per_s"] / plain["images_per_s"]
    return {
        "petastorm": petastorm, "imagefolder": plain, "ratio_petastorm_over_imagefolder": round(ratio, 3),
        "goal": f">= {LOADER_GOAL}", "goal_met": ratio >= LOADER_GOAL,
    }


def bench_training(spark, config: ImagesConfig, silver, processes: int, epochs: int) -> dict:
    training = config.training.model_copy(update={"distribution": config.training.distribution.model_copy(update={"num_processes": processes})})
    config = config.model_copy(update={"training": training})
    phases = [replace(phase, epochs=epochs, patience=None) for phase in transfer_phases(config)]
    started = time.perf_counter()
    fitted = fit_distributed(spark, config, silver, phases, None, f"bench-{processes}", weighted=True)
    rates = {phase.name: [h["images_per_s"] for h in fitted.history if h["phase"] == phase.name] for phase in phases}
    return {
        "processes": processes, "train_images": fitted.train_rows, "epochs_per_phase": epochs,
        # The first epoch of a phase includes the reader's start; the last is steady state.
        "head_images_per_s": round(rates["head"][-1], 1), "finetune_images_per_s": round(rates["finetune"][-1], 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=500)
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per phase in the training runs")
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    config = load_config(ROOT / "conf/images.yml", ImagesConfig)
    data = config.data.model_copy(update={"path": str(WORK / "images"), "max_side": args.size})
    config = config.model_copy(update={
        "data": data, "work_dir": str(WORK / "work"),
        "model": config.model.model_copy(update={"image_size": args.size}),
        "platform": config.platform.model_copy(update={"storage": config.platform.storage.model_copy(update={"root": str(WORK / "lakehouse")})}),
    })
    generate_images(config.generate.model_copy(update={"per_class": args.per_class, "size": args.size, "minority_share": 1.0}), Path(data.path))
    spark = build_spark(config.platform.spark)
    ingest_images(spark, data, Lakehouse(config.platform.storage.root))
    silver = silver_images(spark, config.platform.storage.root, data.table)
    result = {
        "benchmark": "Petastorm loader vs torchvision ImageFolder on the same images; fine-tuning images/s by process count",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
                    "torchvision": torchvision.__version__, "load_average_at_start": os.getloadavg()[0]},
        "setup": {"images_per_class": args.per_class, "classes": len(config.generate.target_classes), "size": args.size,
                  "backbone": config.model.backbone, "batch_per_process": config.training.batch_size},
        "loader": bench_loaders(spark, config, silver),
        "training": [bench_training(spark, config, silver, processes, args.epochs) for processes in (1, 2)],
    }
    one, two = result["training"]
    result["training_speedup_2_over_1"] = round(two["finetune_images_per_s"] / one["finetune_images_per_s"], 2)
    out = ROOT / "bench/results/images.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
